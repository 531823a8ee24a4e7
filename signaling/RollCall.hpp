#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "room/AuditLog.hpp"
#include "room/Roster.hpp"
#include "room/RosterAuditor.hpp"
#include "sfu/MediaControl.hpp"
#include "signaling/ServerConfig.hpp"
#include "signaling/SignalingStats.hpp"

namespace rollcall::signaling {

using SessionId = std::uint64_t;

// What roll call needs from the signaling side: the hub implements it.
class RollCallHost {
  public:
    virtual ~RollCallHost() = default;
    // Sends `message` to the session if its signaling link is open; false otherwise.
    virtual bool tell(SessionId session, const nlohmann::json& message) = 0;
    // Closes the session's signaling link, which ends its media; false when it has none (a
    // dropped socket within its reconnect grace).
    virtual bool close_link(SessionId session, std::string_view reason) = 0;
    // Tells the room `participant` left, for `reason`.
    virtual void announce_left(const room::Participant& participant, std::string_view room,
                               std::string_view reason) = 0;
    // The session's transport in `role` is gone, as when the media plane reports a failure.
    virtual void media_failed(SessionId session, sfu::PeerRole role, const std::string& reason) = 0;
    virtual void sync_room_subscriptions(std::string_view room, SessionId except) = 0;
};

// One ejection, whatever its cause: what is recorded, who is told what, and what is closed.
struct Ejection {
    enum class Target : std::uint8_t {
        participant,  // the whole session: its signaling link, or its media within the grace
        transport,    // one transport (close_notify, ICE stopped; its consumers go with it)
        consumer,     // one forwarding sink
        data,         // one data association (its transport's media stays)
        nothing,      // observed only
    };
    Target target = Target::participant;
    std::string room;
    std::string identity;  // empty: nobody on the roster holds what is ejected
    SessionId session = 0;
    std::string audit_class;  // the audit event's class
    std::string action;       // the audit event's action
    bool counts = true;       // in rollcall_audit_ejections_total{reason=audit_class}
    sfu::TransportId transport = 0;
    std::string track_id;
    std::vector<std::pair<std::string, std::string>> evidence;
    std::optional<double> detected_after_ms;
    nlohmann::json notice;  // told to the participant first; null: nothing
    std::string close_reason;
};

// An ejection of a whole participant already removed from the roster: recorded with
// `audit_class` as class and action (not counted as an audit ejection), told `kicked` with
// `kicked_reason` and `message` unless the reason is empty, its link (or grace media) closed.
Ejection participant_ejection(const room::Participant& participant, std::string_view room,
                              std::string_view audit_class, std::string_view kicked_reason,
                              std::string_view message);

// Roll call on the signaling side: the media plane's truth against the roster. It audits
// each room once its truth has caught up with signaling, acts on what the RosterAuditor
// finds, ends sessions whose reconnect grace ran out, records refusals the media plane or
// signaling saw, and tells each publisher who really receives it. Every ejection — audit
// findings, kicks, room deletion, replacement, grace expiry — goes through eject().
// Signaling thread only.
class RollCall {
  public:
    using Clock = std::chrono::steady_clock;

    // `media` and `audit` may be null.
    RollCall(const RollCallConfig& config, room::Roster& roster, SignalingStats& stats,
             sfu::MediaControl* media, room::AuditLog* audit, RollCallHost& host);

    // The one path for ejections: records the audit event (once per transport and track),
    // tells the participant, and closes what the target says. False when the ejection of
    // that media item was recorded already (it is ordered again all the same).
    bool eject(const Ejection& ejection);
    // Writes an audit event (log, metric, durable trail). Ejections come here through
    // eject(); refusals that eject nothing come directly.
    void record(room::AuditEvent event);

    // Periodic: closes windows of repeated refusals (one event with the count each).
    void tick(Clock::time_point now);
    void on_media_truth(const sfu::MediaTruth& truth);
    // Ends participants whose reconnect grace has run out.
    void expire_disconnected(Clock::time_point now);
    // False (and recorded) when `offered` is not the fingerprint bound to the participant's
    // connection in `role`; the caller tells the client.
    bool fingerprint_allowed(std::string_view room, std::string_view identity, SessionId session,
                             sfu::PeerRole role, const transport::SdpFingerprint& offered);
    // A session is gone: forget what was last said to it.
    void forget(SessionId session) { audience_sent_.erase(session); }

    // The media plane's latest truth for a room (transports and consumers), for operators.
    nlohmann::json media_json(std::string_view room) const;
    // The room's latest truth, or null when it has no media.
    const sfu::RoomTruth* media_truth(std::string_view room) const {
        auto it = media_truth_.find(room);
        return it == media_truth_.end() ? nullptr : &it->second;
    }
    const room::AuditLog* audit_log() const noexcept { return audit_; }
    // Each media worker's latest report (from its last full truth), for /metrics.
    const std::map<std::size_t, sfu::WorkerReport>& worker_reports() const noexcept {
        return worker_reports_;
    }

    // Test hooks (ROLLCALL_FAULT_INJECTION builds): "" or an error. `identity` may be empty
    // (a stray nobody holds).
    std::string plant_stray_transport(std::string_view room, std::string_view identity);
    // A data association on the participant's receiving connection, which never negotiated one.
    std::string plant_stray_data(std::string_view room, std::string_view identity);
    std::string plant_consumer(std::string_view room, std::string_view subscriber,
                               std::string_view track_id);
    // Binds another fingerprint to the participant's connection behind its back, as if its
    // DTLS peer had been swapped: the live transport no longer matches (class 3).
    std::string plant_fingerprint_swap(std::string_view room, std::string_view identity,
                                       sfu::PeerRole role);

    static constexpr auto kRepeatWindow = std::chrono::seconds(10);
    static constexpr std::size_t kMaxRepeatWindows = 1024;

  private:
    struct Repeats {
        Clock::time_point opened;
        std::size_t count = 0;  // suppressed since the window opened
        room::AuditEvent first;
    };
    void close_window(Repeats& window);
    void write(room::AuditEvent event);
    void act_on(const std::string& room, const room::Finding& finding, Clock::time_point now);
    void record_incident(const sfu::MediaIncident& incident, Clock::time_point now);
    void send_audiences(const sfu::RoomTruth& truth);

    const RollCallConfig& config_;
    room::Roster& roster_;
    SignalingStats& stats_;
    sfu::MediaControl* media_;
    room::AuditLog* audit_;
    RollCallHost& host_;
    std::map<std::string, sfu::RoomTruth, std::less<>> media_truth_;  // by room, the latest
    std::map<std::size_t, sfu::WorkerReport> worker_reports_;         // by worker, the latest
    std::set<std::pair<sfu::TransportId, std::string>> acted_on_;     // ejections recorded
    std::unordered_map<SessionId, std::string> audience_sent_;        // the last "audience" sent
    std::map<std::string, Repeats> repeats_;  // refusals by room, participant and class
};

}  // namespace rollcall::signaling
