#pragma once

#include <nlohmann/json.hpp>

#include "room/Roster.hpp"
#include "sfu/MediaTruth.hpp"

namespace rollcall::signaling {

// An operator's view of a participant's media from the room's latest truth (at most a second
// old): its connections' states, what it publishes (bitrate in, loss and jitter as the
// server measures them, keyframe requests, how many receive it) and what it receives (bitrate
// out, and loss, jitter and RTT from its own receiver reports). `truth` may be null (no media).
nlohmann::json participant_media_json(const room::Room& room, const room::Participant& participant,
                                      const sfu::RoomTruth* truth);

// The room's aggregate bitrates: {"bitrate_in_bps", "bitrate_out_bps"}.
nlohmann::json room_bitrates_json(const sfu::RoomTruth* truth);

}  // namespace rollcall::signaling
