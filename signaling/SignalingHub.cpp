#include "signaling/SignalingHub.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "sfu/OfferPlan.hpp"
#include "signaling/ClientMessage.hpp"
#include "signaling/Random.hpp"
#include "signaling/Token.hpp"
#include "transport/Sdp.hpp"

namespace rollcall::signaling {

using json = nlohmann::json;

namespace {
constexpr auto kDropWindow = std::chrono::seconds(10);
constexpr auto kRateErrorInterval = std::chrono::seconds(1);
}  // namespace

json track_json(const room::Track& track) {
    json out = {{"id", track.id},
                {"kind", track.kind},
                {"source", track.source},
                {"codec", track.codec},
                {"muted", track.muted}};
    if (track.admin_muted) out["admin_muted"] = true;
    return out;
}

json participant_json(const room::Participant& participant) {
    const room::Grants& g = participant.grants;
    json tracks = json::array();
    for (const auto& [id, track] : participant.tracks) tracks.push_back(track_json(track));
    return {{"id", participant.id},
            {"tracks", std::move(tracks)},
            {"identity", participant.identity},
            {"name", participant.name},
            {"joined_at", participant.joined_at_unix},
            {"permissions",
             {{"canPublish", g.can_publish},
              {"canSubscribe", g.can_subscribe},
              {"canPublishData", g.can_publish_data}}}};
}

SignalingHub::SignalingHub(const ServerConfig& config, const TokenVerifier& verifier,
                           room::Roster& roster, SignalingStats& stats, sfu::MediaControl* media,
                           room::AuditLog* audit)
    : config_(config),
      verifier_(verifier),
      roster_(roster),
      stats_(stats),
      media_(media),
      roll_call_(config.roll_call, roster, stats, media, audit, *this) {}

SignalingHub::~SignalingHub() = default;

SessionId SignalingHub::on_open(ClientLink& link, Clock::time_point now) {
    if (connections_.size() - detached_ >= config_.signaling.max_connections) {
        ++stats_.connections_refused;
        link.send_text(to_text({{"type", "error"},
                                {"code", "server_full"},
                                {"message", "too many connections; try again later"}}));
        link.close(CloseCode::try_again_later, "server full");
        return 0;
    }
    ++stats_.connections_opened;
    const SessionId session = next_session_++;
    const SignalingLimits& limits = config_.signaling;
    connections_.emplace(
        session, Connection(session, link,
                            RateLimiter(limits.messages_per_second, limits.message_burst, now),
                            now + limits.join_timeout, now));
    return session;
}

void SignalingHub::on_text(SessionId link, std::string_view text, Clock::time_point now,
                           std::int64_t unix_now) {
    auto it = connections_.find(session_of_link(link));
    if (it == connections_.end() || it->second.state == State::closing) return;
    Connection& connection = it->second;
    ++stats_.messages_received;
    if (!admit_rate(connection, now, text)) return;
    if (text.size() > config_.signaling.max_message_bytes) {
        send_error(connection, "message_too_large",
                   "messages are limited to " +
                       std::to_string(config_.signaling.max_message_bytes) + " bytes");
        return;
    }
    ParseFailure failure;
    auto message = parse_client_message(text, failure);
    if (!message) {
        send_error(connection, failure.code, failure.message);
        return;
    }
    const json* ref = message->ref.is_null() ? nullptr : &message->ref;
    if (message->type == ClientMessageType::unknown) {
        send_error(connection, "unknown_type",
                   "unknown message type '" + message->type_name.substr(0, 64) + "'", ref);
        return;
    }
    if (connection.state == State::awaiting_join) {
        if (message->type != ClientMessageType::join) {
            send_error(connection, "not_joined", "the first message must be a join", ref);
            return;
        }
        if (message->body.contains("resume")) {
            handle_resume(connection, *message, now, unix_now);
        } else {
            handle_join(connection, *message, now, unix_now);
        }
        return;
    }
    switch (message->type) {
        case ClientMessageType::join:
            send_error(connection, "already_joined", "this connection has joined already", ref);
            break;
        case ClientMessageType::leave:
            handle_leave(connection, *message, now);
            break;
        case ClientMessageType::publish:
            handle_publish(connection, *message);
            break;
        case ClientMessageType::renegotiate:
            handle_renegotiate(connection, *message);
            break;
        case ClientMessageType::trickle:
            handle_trickle(connection, *message);
            break;
        case ClientMessageType::unpublish:
            handle_unpublish(connection, *message);
            break;
        case ClientMessageType::mute:
            handle_mute(connection, *message);
            break;
        case ClientMessageType::subscribe:
        case ClientMessageType::unsubscribe:
            handle_subscribe(connection, *message, message->type == ClientMessageType::subscribe);
            break;
        case ClientMessageType::subscribe_answer:
            handle_subscribe_answer(connection, *message);
            break;
        case ClientMessageType::track_settings:
            handle_track_settings(connection, *message);
            break;
        case ClientMessageType::restart_ice:
            handle_restart_ice(connection, *message);
            break;
        case ClientMessageType::ping: {
            json pong = {{"type", "pong"}};
            if (ref) pong["ref"] = *ref;
            send(connection, pong);
            break;
        }
        case ClientMessageType::unknown:
            break;
    }
}

void SignalingHub::on_binary(SessionId link, Clock::time_point now) {
    auto it = connections_.find(session_of_link(link));
    if (it == connections_.end() || it->second.state == State::closing) return;
    ++stats_.messages_received;
    if (!admit_rate(it->second, now)) return;
    send_error(it->second, "binary_not_supported", "signaling messages are JSON text frames");
}

bool SignalingHub::is_awaited_answer(const Connection& connection, std::string_view text) const {
    if (connection.awaited_answer == 0 || text.size() > config_.signaling.max_message_bytes)
        return false;
    ParseFailure failure;
    auto message = parse_client_message(text, failure);
    if (!message || message->type != ClientMessageType::subscribe_answer) return false;
    auto version = message->body.find("version");
    return version != message->body.end() && version->is_number_unsigned() &&
           version->get<std::uint64_t>() == connection.awaited_answer;
}

bool SignalingHub::admit_rate(Connection& connection, Clock::time_point now,
                              std::string_view text) {
    if (connection.limiter.try_take(now)) return true;
    if (!text.empty() && is_awaited_answer(connection, text)) return true;
    ++stats_.messages_dropped_rate_limited;
    if (now - connection.drop_window_start >= kDropWindow) {
        connection.drop_window_start = now;
        connection.drops_in_window = 0;
    }
    if (++connection.drops_in_window >= config_.signaling.flood_drops_before_close) {
        fail(connection, "rate_limited", "message flood; closing", CloseCode::policy_violation);
        return false;
    }
    if (!connection.last_rate_error || now - *connection.last_rate_error >= kRateErrorInterval) {
        connection.last_rate_error = now;
        send_error(connection, "rate_limited", "too many messages; some were dropped");
    }
    return false;
}

std::optional<room::Participant> SignalingHub::admit(Connection& connection,
                                                     const ClientMessage& message,
                                                     std::int64_t unix_now) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    auto token = message.body.find("token");
    if (token == message.body.end() || !token->is_string()) {
        fail(connection, "malformed_message", "join needs a string \"token\"",
             CloseCode::policy_violation, ref);
        return std::nullopt;
    }
    TokenResult verified = verifier_.verify(token->get_ref<const std::string&>(), unix_now);
    if (!verified.ok()) {
        fail(connection, error_code(verified.error), verified.detail, CloseCode::policy_violation,
             ref);
        return std::nullopt;
    }
    const TokenClaims& claims = verified.claims;
    const std::string credential = Revocations::digest(token->get_ref<const std::string&>());
    if (revocations_.revoked(credential, unix_now)) {
        fail(connection, "token_revoked",
             "this token's session was removed by an administrator; join with a new token",
             CloseCode::policy_violation, ref);
        return std::nullopt;
    }
    if (claims.identity.empty()) {
        fail(connection, "token_missing_claim", "joining needs a token with a sub (identity)",
             CloseCode::policy_violation, ref);
        return std::nullopt;
    }
    if (!claims.grants.room_join) {
        fail(connection, "permission_denied", "the token does not grant roomJoin",
             CloseCode::policy_violation, ref);
        return std::nullopt;
    }
    const std::string& room_name = claims.grants.room;
    if (!room::is_valid_room_name(room_name)) {
        fail(connection, "room_not_allowed", "the token's video.room does not name a joinable room",
             CloseCode::policy_violation, ref);
        return std::nullopt;
    }
    if (auto asked = message.body.find("room"); asked != message.body.end()) {
        if (!asked->is_string() || asked->get_ref<const std::string&>() != room_name) {
            fail(connection, "room_not_allowed", "the token is not for that room",
                 CloseCode::policy_violation, ref);
            return std::nullopt;
        }
    }

    bool auto_subscribe = true;
    if (auto asked = message.body.find("autoSubscribe"); asked != message.body.end()) {
        if (!asked->is_boolean()) {
            fail(connection, "malformed_message", "\"autoSubscribe\" must be a boolean",
                 CloseCode::policy_violation, ref);
            return std::nullopt;
        }
        auto_subscribe = asked->get<bool>();
    }
    if (auto until = revocations_.banned_until(room_name, claims.identity, unix_now)) {
        fail(connection, "banned",
             "removed from this room by an administrator for another " +
                 std::to_string(*until - unix_now) + " s",
             CloseCode::policy_violation, ref);
        return std::nullopt;
    }
    room::Participant participant;
    participant.id = random_id("PA_");
    participant.credential = credential;
    participant.credential_expires_unix = claims.expires_at;
    participant.auto_subscribe = auto_subscribe;
    participant.identity = claims.identity;
    participant.name = claims.name.empty() ? claims.identity : claims.name;
    participant.grants = claims.grants;
    participant.session = connection.id;
    return participant;
}

void SignalingHub::handle_join(Connection& connection, const ClientMessage& message,
                               Clock::time_point now, std::int64_t unix_now) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    auto admitted = admit(connection, message, unix_now);
    if (!admitted) return;
    const std::string room_name = admitted->grants.room;
    const std::string self = admitted->identity;
    const bool auto_subscribe = admitted->auto_subscribe;
    const bool can_subscribe = admitted->grants.can_subscribe;
    const SessionId session = connection.id;
    room::JoinOutcome outcome = roster_.join(room_name, std::move(*admitted));
    if (outcome.error != room::JoinError::none) {
        const char* text = outcome.error == room::JoinError::room_full ? "the room is full"
                           : outcome.error == room::JoinError::too_many_rooms
                               ? "the server has no room for another room"
                               : "the room does not exist";
        fail(connection, to_string(outcome.error), text, CloseCode::policy_violation, ref);
        return;
    }
    ++stats_.joins;
    connection.state = State::joined;
    connection.room = room_name;
    connection.identity = self;

    if (outcome.replaced) eject_replaced(*outcome.replaced, room_name);

    const room::Participant& joined = *outcome.joined;
    json others = json::array();
    for (const auto& [identity, other] : roster_.find(room_name)->participants) {
        if (other.session != session) others.push_back(participant_json(other));
    }
    json reply = {{"type", "joined"},
                  {"room", room_name},
                  {"participant", participant_json(joined)},
                  {"participants", others},
                  {"resume", issue_resume(connection, now)}};
    if (ref) reply["ref"] = *ref;
    send(connection, reply);
    broadcast(room_name,
              {{"type", "participant_joined"}, {"participant", participant_json(joined)}}, session);
    if (auto_subscribe && can_subscribe) {
        std::vector<std::string> ids;
        for (const auto& [identity, other] : roster_.find(room_name)->participants) {
            if (other.session == session) continue;
            for (const auto& [id, track] : other.tracks) ids.push_back(id);
        }
        subscribe_within_limit(room_name, self, ids);
        sync_subscriptions(room_name, self);
    }
}

void SignalingHub::eject_replaced(const room::Participant& replaced, const std::string& room) {
    roll_call_.eject(participant_ejection(replaced, room, "replaced", "replaced",
                                          "another session joined with the same identity"));
    announce_left(replaced, room, "replaced");
}

void SignalingHub::handle_leave(Connection& connection, const ClientMessage& message,
                                Clock::time_point now) {
    if (auto left = roster_.leave(connection.room, connection.identity, connection.id, now)) {
        announce_left(*left, connection.room, "left");
    }
    json reply = {{"type", "left"}};
    if (!message.ref.is_null()) reply["ref"] = message.ref;
    send(connection, reply);
    close(connection, CloseCode::normal, "left");
}

void SignalingHub::on_close(SessionId link) {
    const SessionId session = session_of_link(link);
    links_.erase(link);
    auto it = connections_.find(session);
    if (it == connections_.end() || it->second.link_id != link) return;
    Connection& connection = it->second;
    // A socket that dropped without a leave keeps its session (and media) for the reconnect
    // grace: a resume takes it up again; else roll call ends it then (or a join with the
    // same identity replaces it).
    const bool keep =
        connection.state == State::joined && config_.roll_call.reconnect_grace.count() > 0 &&
        roster_.mark_disconnected(connection.room, connection.identity, session, Clock::now());
    roll_call_.forget(session);
    if (keep) {
        detach(connection);
        return;
    }
    end_media(connection);
    if (!connection.room.empty()) {
        if (auto left =
                roster_.leave(connection.room, connection.identity, session, Clock::now())) {
            announce_left(*left, connection.room, "disconnected");
        }
    }
    erase(it);
}

void SignalingHub::tick(Clock::time_point now) {
    for (auto& [session, connection] : connections_) {
        if (connection.state == State::awaiting_join && now >= connection.join_deadline) {
            fail(connection, "join_timeout", "no join within the time allowed",
                 CloseCode::policy_violation);
        }
    }
    roll_call_.expire_disconnected(now);
    // A detached session the roster no longer holds (however it ended) is over.
    for (auto it = connections_.begin(); it != connections_.end();) {
        const auto& [session, connection] = *it;
        const room::Participant* held = roster_.find(connection.room, connection.identity);
        if (connection.state == State::detached && (!held || held->session != session)) {
            if (media_ && media_->has(session)) media_->close(session);
            erase(it++);
        } else {
            ++it;
        }
    }
    roll_call_.tick(now);
    roster_.expire_empty_rooms(now);
}

SignalingHub::KickResult SignalingHub::kick(std::string_view room, std::string_view identity,
                                            std::string_view reason, Clock::time_point now,
                                            std::chrono::seconds ban) {
    if (!roster_.find(room)) return KickResult::room_not_found;
    auto removed = roster_.remove(room, identity, now);
    if (!removed) return KickResult::participant_not_found;
    ++stats_.kicks;
    // Kicked means gone: the token it joined with no longer joins, and a ban keeps the
    // identity out of the room for a while whatever token it brings.
    const std::int64_t unix_now = std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count();
    if (!removed->credential.empty()) {
        revocations_.revoke(removed->credential, removed->credential_expires_unix);
    }
    if (!removed->resumed_credential.empty()) {
        revocations_.revoke(removed->resumed_credential, removed->resumed_credential_expires_unix);
    }
    if (ban.count() > 0)
        revocations_.ban(std::string(room), removed->identity, unix_now + ban.count());
    const std::string why = reason.empty() ? "removed by an administrator" : std::string(reason);
    Ejection ejection = participant_ejection(*removed, room, "kicked", "kicked", why);
    ejection.evidence.insert(ejection.evidence.begin(), {"reason", why});
    if (ban.count() > 0) ejection.evidence.emplace_back("ban_s", std::to_string(ban.count()));
    roll_call_.eject(ejection);
    announce_left(*removed, room, "kicked");
    return KickResult::kicked;
}

std::optional<std::size_t> SignalingHub::close_room(std::string_view room) {
    auto removed = roster_.close_room(room);
    if (!removed) return std::nullopt;
    for (const auto& participant : *removed) {
        ++stats_.leaves_by_reason["room_closed"];
        if (!participant.credential.empty()) {
            revocations_.revoke(participant.credential, participant.credential_expires_unix);
        }
        if (!participant.resumed_credential.empty()) {
            revocations_.revoke(participant.resumed_credential,
                                participant.resumed_credential_expires_unix);
        }
        Ejection ejection = participant_ejection(participant, room, "room_closed", "room_closed",
                                                 "the room was closed by an administrator");
        ejection.close_reason = "room closed";
        roll_call_.eject(ejection);
    }
    return removed->size();
}

void SignalingHub::shutdown() {
    for (auto& [session, connection] : connections_) {
        if (connection.state == State::closing || connection.state == State::detached) continue;
        send_error(connection, "server_shutdown", "the server is shutting down");
        close(connection, CloseCode::going_away, "server shutdown");
    }
}

void SignalingHub::send(Connection& connection, const json& message) {
    std::string text = to_text(message);
    const std::string& type = message.at("type").get_ref<const std::string&>();
    if (type == "subscribe_offer") connection.last_offer = text;
    if (!connection.link) {
        keep_for_resume(connection, type, std::move(text));
        return;
    }
    ++stats_.messages_sent;
    connection.link->send_text(std::move(text));
}

void SignalingHub::send_error(Connection& connection, std::string_view code,
                              std::string_view message, const json* ref) {
    ++stats_.errors_by_code[std::string(code)];
    json error = {{"type", "error"}, {"code", code}, {"message", message}};
    if (ref) error["ref"] = *ref;
    send(connection, error);
}

void SignalingHub::fail(Connection& connection, std::string_view code, std::string_view message,
                        CloseCode close_code, const json* ref) {
    send_error(connection, code, message, ref);
    close(connection, close_code, code);
}

void SignalingHub::close(Connection& connection, CloseCode code, std::string_view reason) {
    end_media(connection);  // ending a session ends its media
    connection.state = State::closing;
    connection.link->close(code, reason);
}

void SignalingHub::broadcast(std::string_view room_name, const json& message, SessionId except) {
    const room::Room* room = roster_.find(room_name);
    if (!room) return;
    const std::string text = to_text(message);
    for (const auto& [identity, participant] : room->participants) {
        if (participant.session == except) continue;
        auto it = connections_.find(participant.session);
        if (it == connections_.end() || it->second.state != State::joined) continue;
        ++stats_.messages_sent;
        it->second.link->send_text(text);
    }
}

void SignalingHub::announce_left(const room::Participant& participant, std::string_view room,
                                 std::string_view reason) {
    ++stats_.leaves_by_reason[std::string(reason)];
    broadcast(room,
              {{"type", "participant_left"},
               {"participant", {{"id", participant.id}, {"identity", participant.identity}}},
               {"reason", reason}},
              participant.session);
}

bool SignalingHub::tell(SessionId session, const json& message) {
    Connection* connection = joined(session);
    if (!connection) return false;
    send(*connection, message);
    return true;
}

bool SignalingHub::close_link(SessionId session, std::string_view reason) {
    auto it = connections_.find(session);
    if (it == connections_.end()) return false;
    if (it->second.state == State::detached) {
        erase(it);
        return false;  // no link: the caller ends the media
    }
    if (it->second.state != State::closing) close(it->second, CloseCode::normal, reason);
    return true;
}

SignalingHub::Connection* SignalingHub::joined(SessionId session) {
    auto it = connections_.find(session);
    return it == connections_.end() || it->second.state != State::joined ? nullptr : &it->second;
}

}  // namespace rollcall::signaling
