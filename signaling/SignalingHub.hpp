#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "room/AuditLog.hpp"
#include "room/Roster.hpp"
#include "sfu/MediaControl.hpp"
#include "sfu/OfferPlan.hpp"
#include "signaling/ClientLink.hpp"
#include "signaling/RateLimiter.hpp"
#include "signaling/Revocations.hpp"
#include "signaling/RollCall.hpp"
#include "signaling/ServerConfig.hpp"
#include "signaling/SignalingStats.hpp"

namespace rollcall::signaling {

class TokenVerifier;
struct ClientMessage;

using SessionId = std::uint64_t;

// The signaling protocol (docs/protocol.md) over any number of client links. It owns the
// per-connection state and is the only writer of the roster. Single-threaded: every call
// comes from the signaling thread.
class SignalingHub final : public sfu::MediaEvents, private RollCallHost {
  public:
    using Clock = std::chrono::steady_clock;

    // `media` may be null (no media plane: publish is refused with media_unavailable);
    // `audit` may be null (events are then only logged and counted).
    SignalingHub(const ServerConfig& config, const TokenVerifier& verifier, room::Roster& roster,
                 SignalingStats& stats, sfu::MediaControl* media = nullptr,
                 room::AuditLog* audit = nullptr);
    ~SignalingHub() override;
    SignalingHub(const SignalingHub&) = delete;
    SignalingHub& operator=(const SignalingHub&) = delete;

    // A new connection. Returns 0 when the server is full (the link is told and closed). The
    // id names the link in the calls below; a link that resumes a session keeps its own id.
    SessionId on_open(ClientLink& link, Clock::time_point now);
    void on_text(SessionId session, std::string_view text, Clock::time_point now,
                 std::int64_t unix_now);
    void on_binary(SessionId session, Clock::time_point now);
    // The connection is gone; the link must not be used again. Idempotent.
    void on_close(SessionId session);
    // Join deadlines and empty rooms; call a few times a second.
    void tick(Clock::time_point now);

    enum class KickResult { kicked, room_not_found, participant_not_found };
    // Removes the participant; the token its session joined with is refused from then on
    // (until it expires), and with a `ban` the identity may not rejoin the room for that long.
    KickResult kick(std::string_view room, std::string_view identity, std::string_view reason,
                    Clock::time_point now, std::chrono::seconds ban = std::chrono::seconds(0));
    enum class MuteResult { done, room_not_found, participant_not_found, track_not_found };
    // An administrator mutes (or unmutes) a participant's track: forwarding stops (or
    // resumes) at once, the room is told, and the participant may not unmute it itself.
    MuteResult admin_mute(std::string_view room, std::string_view identity,
                          std::string_view track_id, bool muted);
    // Closes a room, telling everyone in it; nullopt if there is no such room.
    std::optional<std::size_t> close_room(std::string_view room);
    // Tells every client the server is going away.
    void shutdown();

    // sfu::MediaEvents
    void on_media_candidate(SessionId session, sfu::PeerRole role,
                            const transport::SdpCandidate& candidate) override;
    void on_media_connected(SessionId session, sfu::PeerRole role,
                            const sfu::MediaConnectedInfo& info) override;
    void on_media_failed(SessionId session, sfu::PeerRole role, const std::string& reason) override;
    void on_data_closed(SessionId session, const std::string& reason) override;
    void on_video_off(SessionId session, const std::string& track_id, bool off) override;
    void on_subscriber_offer(SessionId session, const sfu::SubscriberOffer& offer) override;
    // Roll call: audits the rooms the truth reflects up to date, and ejects what it finds.
    void on_media_truth(const sfu::MediaTruth& truth) override;

    // Open links plus sessions waiting out their reconnect grace.
    std::size_t connection_count() const noexcept { return connections_.size(); }
    const room::Roster& roster() const noexcept { return roster_; }
    RollCall& roll_call() noexcept { return roll_call_; }
    const RollCall& roll_call() const noexcept { return roll_call_; }

  private:
    // detached: a joined session whose link dropped, kept for the reconnect grace (its media
    // runs on) until a resume attaches a new link, roll call ends it, or it is replaced.
    enum class State { awaiting_join, joined, detached, closing };
    struct Connection {
        Connection(SessionId session, ClientLink& l, RateLimiter r, Clock::time_point deadline,
                   Clock::time_point now)
            : id(session),
              link(&l),
              link_id(session),
              limiter(r),
              join_deadline(deadline),
              drop_window_start(now) {}
        SessionId id;               // the session: the roster's and the media plane's key
        ClientLink* link;           // null while detached
        SessionId link_id;          // the id the link was given by on_open
        std::string resume_digest;  // SHA-256 of the current resume credential (hex)
        RateLimiter limiter;
        Clock::time_point join_deadline;
        State state = State::awaiting_join;
        std::string room;
        std::string identity;
        std::size_t drops_in_window = 0;
        Clock::time_point drop_window_start;
        std::optional<Clock::time_point> last_rate_error;
        // The version of the subscription offer the client owes an answer to (0: none).
        std::uint64_t awaited_answer = 0;
        std::string media_mid;         // the publisher transport's first mid, while it exists
        std::string subscriber_mid;    // the subscriber transport's first mid, once offered
        bool echo = false;             // the session publishes in echo mode
        bool publish_pending = false;  // a publish offer is with the media plane
        bool data = false;             // the publisher connection carries data channels
        std::map<std::string, std::string> published;  // publisher mid → track id
        // What the participant asked of tracks it receives (track_settings), by track id;
        // only tracks of the room, forgotten with them.
        sfu::TrackSettingsMap track_settings;
        // The last subscribe_offer sent (or due while detached), replayed on a resume while
        // its answer is awaited.
        std::string last_offer;
        // Messages due while detached (answers, errors, media states, candidates, roll-call
        // notices), replayed in order on a resume; bounded (kOutboxLimit, oldest dropped).
        std::deque<std::string> outbox;
    };

    // The participant a join asks to be, once its token and options check out; else the
    // failure is sent and the connection closed.
    std::optional<room::Participant> admit(Connection& connection, const ClientMessage& message,
                                           std::int64_t unix_now);
    void handle_join(Connection& connection, const ClientMessage& message, Clock::time_point now,
                     std::int64_t unix_now);
    void handle_leave(Connection& connection, const ClientMessage& message, Clock::time_point now);
    // Resume (SignalingHubResume.cpp): a join carrying "resume" re-attaches a detached (or
    // half-open) session to `fresh`'s link; refused with an error that leaves `fresh` free
    // to join afresh.
    void handle_resume(Connection& fresh, const ClientMessage& message, Clock::time_point now,
                       std::int64_t unix_now);
    // Why `digest` cannot resume the session of `identity` in `room`: "" when it can.
    std::string_view resume_refusal(const std::string& digest, const room::Participant* holder,
                                    Clock::time_point now) const;
    // A new resume credential for the session; the previous one is retired as used.
    std::string issue_resume(Connection& connection, Clock::time_point now);
    // The session's credential can no longer resume (`why`: "used" or "ended").
    void retire_resume(Connection& connection, std::string_view why, Clock::time_point now);
    void detach(Connection& connection);
    // The session a link speaks for: its own id, the session it resumed, or 0 (a link whose
    // session moved to another link).
    SessionId session_of_link(SessionId link) const;
    // A message for a detached session: kept for its resume, or dropped when a resume
    // rebuilds it anyway (roster changes: `joined` carries the room; audience: resent).
    void keep_for_resume(Connection& connection, std::string_view type, std::string text);
    // The session is over: its resume credential retired, its entry erased.
    void erase(std::unordered_map<SessionId, Connection>::iterator it);

    // A join that replaced `replaced` (the same identity): it is ejected.
    void eject_replaced(const room::Participant& replaced, const std::string& room);

    // The media half (SignalingHubMedia.cpp).
    void handle_publish(Connection& connection, const ClientMessage& message);
    void handle_publish_echo(Connection& connection, const ClientMessage& message);
    bool grant_data(Connection& connection, const room::Participant& self, sfu::OfferPlan& plan,
                    const nlohmann::json* ref);
    std::vector<room::Track> name_tracks(const Connection& connection, sfu::OfferPlan& plan,
                                         const nlohmann::json* sources);
    // Applies a publish answer's outcome to the roster and tells the room.
    void publish_done(SessionId session, const nlohmann::json& ref, const sfu::MediaResult& result,
                      const std::string& answer, std::vector<room::Track> tracks,
                      nlohmann::json rejected);
    void handle_track_settings(Connection& connection, const ClientMessage& message);
    void handle_unpublish(Connection& connection, const ClientMessage& message);
    void handle_mute(Connection& connection, const ClientMessage& message);
    void handle_subscribe(Connection& connection, const ClientMessage& message, bool subscribe);
    void handle_subscribe_answer(Connection& connection, const ClientMessage& message);
    void handle_renegotiate(Connection& connection, const ClientMessage& message);
    void handle_restart_ice(Connection& connection, const ClientMessage& message);
    void handle_trickle(Connection& connection, const ClientMessage& message);
    // The offer in `message`, planned by the media layer; on failure the error is sent.
    std::optional<sfu::OfferPlan> plan_offer(Connection& connection, const ClientMessage& message,
                                             sfu::OfferMode mode = sfu::OfferMode::echo);
    // Records a refused description that would have weakened the media's protection (SDES,
    // no fingerprint, not DTLS-SRTP) in the audit trail.
    void record_refusal(const Connection& connection, sfu::PeerRole role,
                        const sfu::MediaResult& error);
    // The fingerprint bound to the connection in `role`, or a refusal sent (and recorded).
    bool check_fingerprint(Connection& connection, sfu::PeerRole role,
                           const transport::SdpFingerprint& offered, const nlohmann::json* ref);
    // Tells the media plane what `identity` should receive (its roster subscriptions).
    void sync_subscriptions(std::string_view room, std::string_view identity);
    // Subscribes as far as the participant's receive limit allows; tells it of the rest.
    void subscribe_within_limit(std::string_view room, std::string_view identity,
                                const std::vector<std::string>& track_ids);
    // Auto-subscribes the room's other participants to a new track.
    void auto_subscribe(std::string_view room, const room::Participant& publisher,
                        const room::Track& track);
    void remove_tracks(Connection& connection, const std::vector<std::string>& track_ids);
    // Sends `answer` with the sections it did not accept (or the error) for request `ref` if
    // the session is still there.
    void deliver_answer(SessionId session, const nlohmann::json& ref,
                        const sfu::MediaResult& result, const std::string& answer,
                        nlohmann::json rejected);
    void end_media(Connection& connection);
    // The joined connection of `session`, or null.
    Connection* joined(SessionId session);

    // RollCallHost
    bool tell(SessionId session, const nlohmann::json& message) override;
    bool close_link(SessionId session, std::string_view reason) override;
    void announce_left(const room::Participant& participant, std::string_view room,
                       std::string_view reason) override;
    void media_failed(SessionId session, sfu::PeerRole role, const std::string& reason) override;
    void sync_room_subscriptions(std::string_view room, SessionId except) override;

    // `text` (when given) is the message: the answer to the server's outstanding offer passes
    // even over the rate, since offers go one at a time and a dropped answer would stall the
    // connection's media.
    bool admit_rate(Connection& connection, Clock::time_point now, std::string_view text = {});
    bool is_awaited_answer(const Connection& connection, std::string_view text) const;
    void send(Connection& connection, const nlohmann::json& message);
    void send_error(Connection& connection, std::string_view code, std::string_view message,
                    const nlohmann::json* ref = nullptr);
    // Sends the error, then closes: for failures after which the session cannot go on.
    void fail(Connection& connection, std::string_view code, std::string_view message,
              CloseCode close_code, const nlohmann::json* ref = nullptr);
    void close(Connection& connection, CloseCode code, std::string_view reason);
    // Tells everyone in `room` but `except` about a roster change.
    void broadcast(std::string_view room, const nlohmann::json& message, SessionId except);

    const ServerConfig& config_;
    const TokenVerifier& verifier_;
    room::Roster& roster_;
    SignalingStats& stats_;
    sfu::MediaControl* media_;
    RollCall roll_call_;
    Revocations revocations_;
    std::unordered_map<SessionId, Connection> connections_;  // by session
    // Links that resumed another session (link id → session), and links whose session a
    // resume moved away (→ 0). Bounded by the open links.
    std::unordered_map<SessionId, SessionId> links_;
    std::size_t detached_ = 0;  // connections_ entries without a link
    // Resume credentials that no longer resume (digest → why), for a clear refusal; bounded,
    // oldest forgotten first.
    struct Retired {
        std::string why;
        Clock::time_point at;
    };
    std::unordered_map<std::string, Retired> retired_resumes_;
    std::deque<std::string> retired_order_;
    SessionId next_session_ = 1;
};

// The public view of a participant, as the protocol and the admin API show it.
nlohmann::json participant_json(const room::Participant& participant);
nlohmann::json track_json(const room::Track& track);
// The sections an answer did not accept: [{mid, kind, code, message}].
nlohmann::json rejected_json(const std::vector<sfu::RejectedSection>& rejected);

}  // namespace rollcall::signaling
