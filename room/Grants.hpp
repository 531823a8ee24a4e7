#pragma once

#include <string>
#include <string_view>

namespace rollcall::room {

// What a token allows, in LiveKit's `video` grant layout.
struct Grants {
    std::string room;  // the room the grant is for; "*" means every room (admin tokens only)
    bool room_join = false;
    bool can_publish = false;
    bool can_subscribe = false;
    bool can_publish_data = false;
    bool room_admin = false;
    bool room_list = false;

    // roomAdmin over `name`: the grant names that room or every room.
    bool administers(std::string_view name) const noexcept;
    bool operator==(const Grants&) const = default;
};

// Room names: 1..64 of [A-Za-z0-9._-], not starting with '.'.
bool is_valid_room_name(std::string_view name) noexcept;
// Identities: 1..128 bytes of printable ASCII or UTF-8, no control characters, no '/'.
bool is_valid_identity(std::string_view identity) noexcept;

}  // namespace rollcall::room
