#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "room/Roster.hpp"
#include "sfu/MediaTruth.hpp"

namespace rollcall::room {

// The kinds of hidden participant (docs/design.md, Roll call), and the audit's other findings.
enum class AuditClass : std::uint8_t {
    not_on_roster = 1,          // a transport whose participant is not (or no longer) on the roster
    too_many_transports = 2,    // more transports than the participant's session may hold
    fingerprint_mismatch = 3,   // a DTLS peer other than the one its participant signaled
    unauthorized_consumer = 4,  // a forwarding sink no authorized subscription accounts for
    peer_count = 5,             // more media-plane peers in a room than roster participants
    reconnect_expired,          // the signaling socket dropped and the grace ran out
    kicked,                     // an administrator removed the participant
    unauthorized_data,          // a data association no roster entry accounts for, or room
                                // data delivered to someone who may not receive it
};
std::string_view to_string(AuditClass audit_class) noexcept;

// One discrepancy between the media plane's truth and the roster, and what ends it.
struct Finding {
    enum class Action : std::uint8_t { close_transport, drop_consumer, close_data, none };
    AuditClass audit_class = AuditClass::not_on_roster;
    Action action = Action::none;
    sfu::TransportId transport = 0;
    sfu::PeerRole role = sfu::PeerRole::publisher;  // close_transport: the transport's
    std::string track_id;  // drop_consumer: the track no longer forwarded on `transport`
                           // (close_data: the association on `transport` is closed)
    sfu::SessionId session = 0;
    std::string identity;       // the participant concerned, when the roster has one
    Clock::time_point since{};  // when the media plane created the offending item
    std::vector<std::pair<std::string, std::string>> evidence;
};

// Compares a room's roster with its media plane's truth: every transport must belong to a
// participant on the roster, one per connection it may hold, keyed to the fingerprint that
// participant signaled; every consumer must be one of that participant's subscriptions to
// a track the roster knows. Pure: it decides, the caller ejects.
class RosterAuditor {
  public:
    // `room` is null when the roster has no such room (everything in it is hidden).
    static std::vector<Finding> audit(const Room* room, const sfu::RoomTruth& truth);

    // Participants whose socket dropped longer than `grace` ago: (room, identity).
    static std::vector<std::pair<std::string, std::string>> overdue(const Roster& roster,
                                                                    Clock::time_point now,
                                                                    Clock::duration grace);
};

}  // namespace rollcall::room
