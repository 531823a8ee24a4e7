#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "room/Grants.hpp"
#include "sfu/MediaTruth.hpp"

namespace rollcall::room {

using Clock = std::chrono::steady_clock;

// A track a participant publishes (the signaling view; the media plane has its Producer).
struct Track {
    std::string id;      // server-assigned, "TR_…"
    std::string kind;    // "audio" or "video"
    std::string source;  // "microphone", "camera" or "screen"
    std::string mid;     // on the publisher's connection
    std::string codec;
    bool muted = false;
    bool admin_muted = false;  // muted by an administrator: only one may unmute it
};

struct Participant {
    std::string id;  // server-assigned, unique per session
    std::string identity;
    std::string name;
    Grants grants;
    std::uint64_t session = 0;                         // the signaling connection that holds it
    std::int64_t joined_at_unix = 0;                   // seconds
    std::map<std::string, Track, std::less<>> tracks;  // by track id
    std::set<std::string, std::less<>> subscriptions;  // track ids it receives
    bool auto_subscribe = true;  // subscribes to every track published in the room
    // The DTLS fingerprints it signaled, per connection; the first one binds (roll call).
    std::optional<transport::SdpFingerprint> publisher_fingerprint;
    std::optional<transport::SdpFingerprint> subscriber_fingerprint;
    // A digest of the token it joined with, and that token's expiry: an administrator's
    // removal revokes it.
    std::string credential;
    std::int64_t credential_expires_unix = 0;
    // The same for the token of its latest resume, when that was another token.
    std::string resumed_credential;
    std::int64_t resumed_credential_expires_unix = 0;
    // Its signaling socket dropped at this time; media lives on for the reconnect grace.
    std::optional<Clock::time_point> disconnected_since;
};

struct Room {
    std::string name;
    std::int64_t created_at_unix = 0;
    std::map<std::string, Participant, std::less<>> participants;  // by identity
    std::optional<Clock::time_point> empty_since;
};

enum class JoinError { none, room_not_found, room_full, too_many_rooms };

struct JoinOutcome {
    JoinError error = JoinError::none;
    const Participant* joined = nullptr;  // valid until the roster changes
    std::optional<Participant> replaced;  // the earlier session of the same identity
};

// The authoritative list of who is in which room (docs/design.md, Threads: owned by the signaling
// thread, never touched by another). The media plane is audited against it.
class Roster {
  public:
    struct Limits {
        std::size_t max_rooms = 1000;
        std::size_t max_participants_per_room = 100;
        bool auto_create = true;
        std::chrono::seconds empty_timeout{300};
    };

    explicit Roster(Limits limits) : limits_(limits) {}

    // Creates the room on first join when auto_create is on. A join by an identity that is
    // already present replaces it: one identity, one live session per room.
    JoinOutcome join(std::string_view room, Participant participant);

    // Removes the identity's participant only if `session` still holds it (a replaced
    // session leaving must not remove its replacement).
    std::optional<Participant> leave(std::string_view room, std::string_view identity,
                                     std::uint64_t session, Clock::time_point now);
    // Removes whatever session holds the identity (kick).
    std::optional<Participant> remove(std::string_view room, std::string_view identity,
                                      Clock::time_point now);

    // Creates an empty room explicitly (admin); false when it exists or limits forbid.
    bool create_room(std::string_view room, Clock::time_point now);
    // Deletes a room and returns who was in it.
    std::optional<std::vector<Participant>> close_room(std::string_view room);
    // Closes rooms empty for longer than the timeout; returns their names.
    std::vector<std::string> expire_empty_rooms(Clock::time_point now);

    // Tracks and subscriptions. A track's removal (or its owner's) removes every
    // subscription to it. subscribe() refuses unknown tracks and one's own.
    bool add_track(std::string_view room, std::string_view identity, Track track);
    std::optional<Track> remove_track(std::string_view room, std::string_view identity,
                                      std::string_view track_id);
    bool set_muted(std::string_view room, std::string_view identity, std::string_view track_id,
                   bool muted);
    bool subscribe(std::string_view room, std::string_view identity, std::string_view track_id);
    bool unsubscribe(std::string_view room, std::string_view identity, std::string_view track_id);
    // Binds the participant's fingerprint for that connection, if none is bound yet.
    bool bind_fingerprint(std::string_view room, std::string_view identity, sfu::PeerRole role,
                          const transport::SdpFingerprint& fingerprint);
    // That connection's transport is gone (it failed or was ejected): the next peer
    // connection, with its own certificate, binds afresh. Only if `session` still holds it.
    void release_fingerprint(std::string_view room, std::string_view identity,
                             std::uint64_t session, sfu::PeerRole role);
    // The participant's socket dropped (only if `session` still holds it).
    // The session's new link resumed it (with the token digest `credential`): its media is no
    // longer on borrowed time.
    bool mark_resumed(std::string_view room, std::string_view identity, std::uint64_t session,
                      const std::string& credential, std::int64_t credential_expires_unix);
    // An administrator's mute: sets both flags (muted and admin_muted); false for no such track.
    bool set_admin_muted(std::string_view room, std::string_view identity,
                         std::string_view track_id, bool muted);
    bool mark_disconnected(std::string_view room, std::string_view identity, std::uint64_t session,
                           Clock::time_point now);
    // The track with this id in the room, and who publishes it.
    std::pair<const Participant*, const Track*> find_track(std::string_view room,
                                                           std::string_view track_id) const;

    const Room* find(std::string_view room) const;
    const Participant* find(std::string_view room, std::string_view identity) const;
    const std::map<std::string, Room, std::less<>>& rooms() const noexcept { return rooms_; }
    std::size_t participant_count() const noexcept;
    const Limits& limits() const noexcept { return limits_; }

  private:
    std::optional<Participant> erase(std::string_view room, std::string_view identity,
                                     const std::uint64_t* session, Clock::time_point now);

    Participant* find_mutable(std::string_view room, std::string_view identity);
    void forget_tracks(Room& room, const Participant& owner);

    Limits limits_;
    std::map<std::string, Room, std::less<>> rooms_;
};

std::string_view to_string(JoinError error) noexcept;

}  // namespace rollcall::room
