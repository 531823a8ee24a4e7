#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace rollcall::sfu {

// What a subscriber asked for one track it receives (docs/protocol.md, `track_settings`):
// the size it shows the video at (0: no limit), or nothing at all for now. For a simulcast
// track this chooses the layer; `paused` stops any track's forwarding.
struct TrackSettings {
    std::uint16_t max_width = 0;
    std::uint16_t max_height = 0;
    bool paused = false;

    bool operator==(const TrackSettings&) const = default;
};

// By track id; a track not named gets the defaults.
using TrackSettingsMap = std::map<std::string, TrackSettings>;

}  // namespace rollcall::sfu
