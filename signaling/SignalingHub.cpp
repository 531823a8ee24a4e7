#include "signaling/SignalingHub.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "signaling/ClientMessage.hpp"
#include "signaling/Random.hpp"
#include "signaling/Token.hpp"
#include "sfu/OfferPlan.hpp"
#include "transport/Sdp.hpp"

namespace rollcall::signaling {

using json = nlohmann::json;

namespace {
constexpr auto kDropWindow = std::chrono::seconds(10);
constexpr auto kRateErrorInterval = std::chrono::seconds(1);
}  // namespace

json track_json(const room::Track& track) {
    return {{"id", track.id}, {"kind", track.kind}, {"source", track.source}, {"codec", track.codec}, {"muted", track.muted}};
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
             {{"canPublish", g.can_publish}, {"canSubscribe", g.can_subscribe}, {"canPublishData", g.can_publish_data}}}};
}

SignalingHub::SignalingHub(const ServerConfig& config, const TokenVerifier& verifier, room::Roster& roster,
                           SignalingStats& stats, sfu::MediaPlane* media)
    : config_(config), verifier_(verifier), roster_(roster), stats_(stats), media_(media) {}

SignalingHub::~SignalingHub() = default;

SessionId SignalingHub::on_open(ClientLink& link, Clock::time_point now) {
    if (connections_.size() >= config_.signaling.max_connections) {
        ++stats_.connections_refused;
        link.send_text(to_text({{"type", "error"}, {"code", "server_full"}, {"message", "too many connections; try again later"}}));
        link.close(CloseCode::try_again_later, "server full");
        return 0;
    }
    ++stats_.connections_opened;
    const SessionId session = next_session_++;
    const SignalingLimits& limits = config_.signaling;
    connections_.emplace(session, Connection(session, link, RateLimiter(limits.messages_per_second, limits.message_burst, now),
                                             now + limits.join_timeout, now));
    return session;
}

void SignalingHub::on_text(SessionId session, std::string_view text, Clock::time_point now, std::int64_t unix_now) {
    auto it = connections_.find(session);
    if (it == connections_.end() || it->second.state == State::closing) return;
    Connection& connection = it->second;
    ++stats_.messages_received;
    if (!admit_rate(connection, now)) return;
    if (text.size() > config_.signaling.max_message_bytes) {
        send_error(connection, "message_too_large",
                   "messages are limited to " + std::to_string(config_.signaling.max_message_bytes) + " bytes");
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
        send_error(connection, "unknown_type", "unknown message type '" + message->type_name.substr(0, 64) + "'", ref);
        return;
    }
    if (connection.state == State::awaiting_join) {
        if (message->type != ClientMessageType::join) {
            send_error(connection, "not_joined", "the first message must be a join", ref);
            return;
        }
        handle_join(connection, session, *message, unix_now);
        return;
    }
    switch (message->type) {
        case ClientMessageType::join:
            send_error(connection, "already_joined", "this connection has joined already", ref);
            break;
        case ClientMessageType::leave:
            handle_leave(connection, session, *message, now);
            break;
        case ClientMessageType::publish:
            handle_publish(connection, session, *message);
            break;
        case ClientMessageType::renegotiate:
            handle_renegotiate(connection, session, *message);
            break;
        case ClientMessageType::trickle:
            handle_trickle(connection, session, *message);
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
            handle_subscribe_answer(connection, session, *message);
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

void SignalingHub::on_binary(SessionId session, Clock::time_point now) {
    auto it = connections_.find(session);
    if (it == connections_.end() || it->second.state == State::closing) return;
    ++stats_.messages_received;
    if (!admit_rate(it->second, now)) return;
    send_error(it->second, "binary_not_supported", "signaling messages are JSON text frames");
}

bool SignalingHub::admit_rate(Connection& connection, Clock::time_point now) {
    if (connection.limiter.try_take(now)) return true;
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

void SignalingHub::handle_join(Connection& connection, SessionId session, const ClientMessage& message,
                               std::int64_t unix_now) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    auto token = message.body.find("token");
    if (token == message.body.end() || !token->is_string()) {
        fail(connection, "malformed_message", "join needs a string \"token\"", CloseCode::policy_violation, ref);
        return;
    }
    TokenResult verified = verifier_.verify(token->get_ref<const std::string&>(), unix_now);
    if (!verified.ok()) {
        fail(connection, error_code(verified.error), verified.detail, CloseCode::policy_violation, ref);
        return;
    }
    const TokenClaims& claims = verified.claims;
    if (claims.identity.empty()) {
        fail(connection, "token_missing_claim", "joining needs a token with a sub (identity)", CloseCode::policy_violation, ref);
        return;
    }
    if (!claims.grants.room_join) {
        fail(connection, "permission_denied", "the token does not grant roomJoin", CloseCode::policy_violation, ref);
        return;
    }
    const std::string& room_name = claims.grants.room;
    if (!room::is_valid_room_name(room_name)) {
        fail(connection, "room_not_allowed", "the token's video.room does not name a joinable room",
             CloseCode::policy_violation, ref);
        return;
    }
    if (auto asked = message.body.find("room"); asked != message.body.end()) {
        if (!asked->is_string() || asked->get_ref<const std::string&>() != room_name) {
            fail(connection, "room_not_allowed", "the token is not for that room", CloseCode::policy_violation, ref);
            return;
        }
    }

    bool auto_subscribe = true;
    if (auto asked = message.body.find("autoSubscribe"); asked != message.body.end()) {
        if (!asked->is_boolean()) {
            fail(connection, "malformed_message", "\"autoSubscribe\" must be a boolean", CloseCode::policy_violation, ref);
            return;
        }
        auto_subscribe = asked->get<bool>();
    }

    room::Participant participant;
    participant.id = random_id("PA_");
    participant.auto_subscribe = auto_subscribe;
    participant.identity = claims.identity;
    participant.name = claims.name.empty() ? claims.identity : claims.name;
    participant.grants = claims.grants;
    participant.session = session;
    room::JoinOutcome outcome = roster_.join(room_name, std::move(participant));
    if (outcome.error != room::JoinError::none) {
        const char* text = outcome.error == room::JoinError::room_full       ? "the room is full"
                           : outcome.error == room::JoinError::too_many_rooms ? "the server has no room for another room"
                                                                              : "the room does not exist";
        fail(connection, to_string(outcome.error), text, CloseCode::policy_violation, ref);
        return;
    }
    ++stats_.joins;
    connection.state = State::joined;
    connection.room = room_name;
    connection.identity = claims.identity;

    if (outcome.replaced) {
        if (auto old = connections_.find(outcome.replaced->session); old != connections_.end()) {
            send(old->second, {{"type", "kicked"},
                               {"reason", "replaced"},
                               {"message", "another session joined with the same identity"}});
            close(old->second, CloseCode::normal, "replaced");
        }
        announce_left(*outcome.replaced, room_name, "replaced");
    }

    const room::Participant& joined = *outcome.joined;
    json others = json::array();
    for (const auto& [identity, other] : roster_.find(room_name)->participants) {
        if (other.session != session) others.push_back(participant_json(other));
    }
    json reply = {{"type", "joined"}, {"room", room_name}, {"participant", participant_json(joined)}, {"participants", others}};
    if (ref) reply["ref"] = *ref;
    send(connection, reply);
    broadcast(room_name, {{"type", "participant_joined"}, {"participant", participant_json(joined)}}, session);
    if (auto_subscribe && claims.grants.can_subscribe) {
        std::vector<std::string> ids;
        for (const auto& [identity, other] : roster_.find(room_name)->participants) {
            if (other.session == session) continue;
            for (const auto& [id, track] : other.tracks) ids.push_back(id);
        }
        for (const auto& id : ids) roster_.subscribe(room_name, claims.identity, id);
        sync_subscriptions(room_name, claims.identity);
    }
}

void SignalingHub::handle_leave(Connection& connection, SessionId session, const ClientMessage& message,
                                Clock::time_point now) {
    if (auto left = roster_.leave(connection.room, connection.identity, session, now)) {
        announce_left(*left, connection.room, "left");
    }
    json reply = {{"type", "left"}};
    if (!message.ref.is_null()) reply["ref"] = message.ref;
    send(connection, reply);
    close(connection, CloseCode::normal, "left");
}

void SignalingHub::on_close(SessionId session) {
    auto it = connections_.find(session);
    if (it == connections_.end()) return;
    Connection& connection = it->second;
    end_media(connection, session);
    if (!connection.room.empty()) {
        if (auto left = roster_.leave(connection.room, connection.identity, session, Clock::now())) {
            announce_left(*left, connection.room, "disconnected");
        }
    }
    connections_.erase(it);
}

void SignalingHub::tick(Clock::time_point now) {
    for (auto& [session, connection] : connections_) {
        if (connection.state == State::awaiting_join && now >= connection.join_deadline) {
            fail(connection, "join_timeout", "no join within the time allowed", CloseCode::policy_violation);
        }
    }
    roster_.expire_empty_rooms(now);
}

SignalingHub::KickResult SignalingHub::kick(std::string_view room, std::string_view identity, std::string_view reason,
                                            Clock::time_point now) {
    if (!roster_.find(room)) return KickResult::room_not_found;
    auto removed = roster_.remove(room, identity, now);
    if (!removed) return KickResult::participant_not_found;
    ++stats_.kicks;
    if (auto it = connections_.find(removed->session); it != connections_.end()) {
        send(it->second, {{"type", "kicked"}, {"reason", "kicked"}, {"message", reason.empty() ? "removed by an administrator" : reason}});
        close(it->second, CloseCode::normal, "kicked");
    }
    announce_left(*removed, room, "kicked");
    return KickResult::kicked;
}

std::optional<std::size_t> SignalingHub::close_room(std::string_view room) {
    auto removed = roster_.close_room(room);
    if (!removed) return std::nullopt;
    for (const auto& participant : *removed) {
        ++stats_.leaves_by_reason["room_closed"];
        if (auto it = connections_.find(participant.session); it != connections_.end()) {
            send(it->second, {{"type", "kicked"}, {"reason", "room_closed"}, {"message", "the room was closed by an administrator"}});
            close(it->second, CloseCode::normal, "room closed");
        }
    }
    return removed->size();
}

void SignalingHub::shutdown() {
    for (auto& [session, connection] : connections_) {
        if (connection.state == State::closing) continue;
        send_error(connection, "server_shutdown", "the server is shutting down");
        close(connection, CloseCode::going_away, "server shutdown");
    }
}

void SignalingHub::send(Connection& connection, const json& message) {
    ++stats_.messages_sent;
    connection.link->send_text(to_text(message));
}

void SignalingHub::send_error(Connection& connection, std::string_view code, std::string_view message, const json* ref) {
    ++stats_.errors_by_code[std::string(code)];
    json error = {{"type", "error"}, {"code", code}, {"message", message}};
    if (ref) error["ref"] = *ref;
    send(connection, error);
}

void SignalingHub::fail(Connection& connection, std::string_view code, std::string_view message, CloseCode close_code,
                        const json* ref) {
    send_error(connection, code, message, ref);
    close(connection, close_code, code);
}

void SignalingHub::close(Connection& connection, CloseCode code, std::string_view reason) {
    end_media(connection, connection.id);  // ending a session ends its media
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
        if (it == connections_.end() || it->second.state == State::closing) continue;
        ++stats_.messages_sent;
        it->second.link->send_text(text);
    }
}

void SignalingHub::announce_left(const room::Participant& participant, std::string_view room, std::string_view reason) {
    ++stats_.leaves_by_reason[std::string(reason)];
    broadcast(room,
              {{"type", "participant_left"},
               {"participant", {{"id", participant.id}, {"identity", participant.identity}}},
               {"reason", reason}},
              participant.session);
}

}  // namespace rollcall::signaling

namespace rollcall::signaling {

void SignalingHub::handle_publish(Connection& connection, SessionId session, const ClientMessage& message) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    if (!media_) {
        send_error(connection, "media_unavailable", "this server runs without a media plane", ref);
        return;
    }
    const room::Participant* self = roster_.find(connection.room, connection.identity);
    if (!self || !self->grants.can_publish) {
        send_error(connection, "permission_denied", "the token does not grant canPublish", ref);
        return;
    }
    if (auto echo = message.body.find("echo"); echo != message.body.end()) {
        if (!echo->is_boolean()) {
            send_error(connection, "malformed_message", "\"echo\" must be a boolean", ref);
            return;
        }
        if (echo->get<bool>()) {
            handle_publish_echo(connection, session, message);
            return;
        }
    }
    if (connection.echo) {
        send_error(connection, "already_publishing", "this session publishes in echo mode", ref);
        return;
    }
    if (connection.publish_pending) {
        send_error(connection, "negotiation_in_progress", "wait for the answer to the previous offer", ref);
        return;
    }
    // Optional: what each of the offer's sections carries ("camera", "microphone", "screen").
    const json* sources = nullptr;
    if (auto it = message.body.find("sources"); it != message.body.end()) {
        if (!it->is_object()) {
            send_error(connection, "malformed_message", "\"sources\" must map mids to \"camera\", \"microphone\" or \"screen\"", ref);
            return;
        }
        for (const auto& [mid, source] : it->items()) {
            if (!source.is_string() || (source != "camera" && source != "microphone" && source != "screen")) {
                send_error(connection, "malformed_message", "\"sources\" must map mids to \"camera\", \"microphone\" or \"screen\"", ref);
                return;
            }
        }
        sources = &*it;
    }
    auto plan = plan_offer(connection, message, sfu::OfferMode::publish);
    if (!plan) return;
    std::vector<room::Track> tracks;
    for (sfu::OfferedTrack& offered : plan->tracks) {
        const std::string kind(transport::to_string(offered.kind));
        room::Track track;
        auto known = connection.published.find(offered.mid);
        const room::Track* existing = nullptr;
        if (known != connection.published.end()) existing = roster_.find_track(connection.room, known->second).second;
        track.id = existing && existing->kind == kind ? existing->id : random_id("TR_");
        track.kind = kind;
        track.mid = offered.mid;
        track.codec = offered.codec;
        track.muted = existing ? existing->muted : false;
        track.source = offered.kind == transport::MediaKind::audio ? "microphone" : "camera";
        if (sources && sources->contains(offered.mid)) track.source = (*sources)[offered.mid].get<std::string>();
        offered.track_id = track.id;
        tracks.push_back(std::move(track));
    }
    if (connection.media_mid.empty()) connection.media_mid = plan->tracks.front().mid;
    connection.publish_pending = true;
    media_->publish(session, connection.room, std::move(*plan),
                    [this, session, reference = message.ref, tracks = std::move(tracks)](
                        std::optional<std::string> answer, std::string code, std::string text) mutable {
                        publish_done(session, reference, std::move(answer), code, text, std::move(tracks));
                    });
}

void SignalingHub::publish_done(SessionId session, const json& reference, std::optional<std::string> answer,
                                const std::string& code, const std::string& text, std::vector<room::Track> tracks) {
    auto it = connections_.find(session);
    if (it == connections_.end() || it->second.state == State::closing) return;
    Connection& connection = it->second;
    connection.publish_pending = false;
    const json* ref = reference.is_null() ? nullptr : &reference;
    if (!answer) {
        if (connection.published.empty()) connection.media_mid.clear();
        send_error(connection, code, text, ref);
        return;
    }
    const room::Participant* self = roster_.find(connection.room, connection.identity);
    if (!self || self->session != session) return;
    // Tracks the new offer no longer carries are unpublished; new ones are published.
    std::vector<std::string> gone;
    for (const auto& entry : self->tracks) {
        const std::string& id = entry.first;  // (clang 14 cannot capture a structured binding)
        const bool kept = std::any_of(tracks.begin(), tracks.end(), [&](const room::Track& t) { return t.id == id; });
        if (!kept) gone.push_back(id);
    }
    remove_tracks(connection, gone);
    connection.published.clear();
    std::vector<room::Track> added;
    for (room::Track& track : tracks) {
        connection.published[track.mid] = track.id;
        if (roster_.add_track(connection.room, connection.identity, track)) added.push_back(track);
    }
    json reply = {{"type", "answer"}, {"sdp", *answer}, {"tracks", json::array()}};
    for (const auto& track : tracks) {
        json entry = track_json(track);
        entry["mid"] = track.mid;
        reply["tracks"].push_back(std::move(entry));
    }
    if (ref) reply["ref"] = *ref;
    send(connection, reply);
    self = roster_.find(connection.room, connection.identity);
    for (const room::Track& track : added) {
        broadcast(connection.room,
                  {{"type", "track_published"},
                   {"participant", {{"id", self->id}, {"identity", self->identity}}},
                   {"track", track_json(track)}},
                  session);
        auto_subscribe(connection.room, *self, track);
    }
    if (!added.empty()) sync_room_subscriptions(connection.room, session);
}

void SignalingHub::remove_tracks(Connection& connection, const std::vector<std::string>& track_ids) {
    const room::Participant* self = roster_.find(connection.room, connection.identity);
    if (!self) return;
    const json who = {{"id", self->id}, {"identity", self->identity}};
    for (const auto& id : track_ids) {
        auto removed = roster_.remove_track(connection.room, connection.identity, id);
        if (!removed) continue;
        std::erase_if(connection.published, [&](const auto& entry) { return entry.second == id; });
        broadcast(connection.room, {{"type", "track_unpublished"}, {"participant", who}, {"track", {{"id", id}}}}, connection.id);
    }
}

void SignalingHub::auto_subscribe(std::string_view room_name, const room::Participant& publisher, const room::Track& track) {
    const room::Room* room = roster_.find(room_name);
    if (!room) return;
    std::vector<std::string> subscribers;
    for (const auto& [identity, participant] : room->participants) {
        if (participant.session != publisher.session && participant.auto_subscribe && participant.grants.can_subscribe) {
            subscribers.push_back(identity);
        }
    }
    for (const auto& identity : subscribers) roster_.subscribe(room_name, identity, track.id);
}

void SignalingHub::sync_subscriptions(std::string_view room_name, std::string_view identity) {
    if (!media_) return;
    const room::Participant* participant = roster_.find(room_name, identity);
    if (!participant || !participant->grants.can_subscribe) return;
    auto it = connections_.find(participant->session);
    if (it == connections_.end() || it->second.state != State::joined || it->second.echo) return;
    std::set<std::string> ids(participant->subscriptions.begin(), participant->subscriptions.end());
    media_->set_subscriptions(participant->session, std::string(room_name), std::move(ids));
}

void SignalingHub::sync_room_subscriptions(std::string_view room_name, SessionId except) {
    const room::Room* room = roster_.find(room_name);
    if (!room) return;
    std::vector<std::string> identities;
    for (const auto& [identity, participant] : room->participants) {
        if (participant.session != except) identities.push_back(identity);
    }
    for (const auto& identity : identities) sync_subscriptions(room_name, identity);
}

void SignalingHub::handle_unpublish(Connection& connection, const ClientMessage& message) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    auto track = message.body.find("track");
    if (track == message.body.end() || !track->is_string()) {
        send_error(connection, "malformed_message", "unpublish needs a string \"track\"", ref);
        return;
    }
    const std::string& id = track->get_ref<const std::string&>();
    const room::Participant* self = roster_.find(connection.room, connection.identity);
    if (!self || !self->tracks.contains(id)) {
        send_error(connection, "track_not_found", "you publish no track with that id", ref);
        return;
    }
    if (media_) media_->unpublish(connection.id, id);
    remove_tracks(connection, {id});
    json reply = {{"type", "unpublished"}, {"track", id}};
    if (ref) reply["ref"] = *ref;
    send(connection, reply);
}

void SignalingHub::handle_mute(Connection& connection, const ClientMessage& message) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    auto track = message.body.find("track");
    auto muted = message.body.find("muted");
    if (track == message.body.end() || !track->is_string() || muted == message.body.end() || !muted->is_boolean()) {
        send_error(connection, "malformed_message", "mute needs a string \"track\" and a boolean \"muted\"", ref);
        return;
    }
    const std::string& id = track->get_ref<const std::string&>();
    if (!roster_.set_muted(connection.room, connection.identity, id, muted->get<bool>())) {
        send_error(connection, "track_not_found", "you publish no track with that id", ref);
        return;
    }
    const room::Participant* self = roster_.find(connection.room, connection.identity);
    broadcast(connection.room,
              {{"type", "track_muted"},
               {"participant", {{"id", self->id}, {"identity", self->identity}}},
               {"track", id},
               {"muted", muted->get<bool>()}},
              connection.id);
    json reply = {{"type", "muted"}, {"track", id}, {"muted", muted->get<bool>()}};
    if (ref) reply["ref"] = *ref;
    send(connection, reply);
}

void SignalingHub::handle_subscribe(Connection& connection, const ClientMessage& message, bool subscribe) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    const char* verb = subscribe ? "subscribe" : "unsubscribe";
    const room::Participant* self = roster_.find(connection.room, connection.identity);
    if (!self || !self->grants.can_subscribe) {
        send_error(connection, "permission_denied", "the token does not grant canSubscribe", ref);
        return;
    }
    if (connection.echo) {
        send_error(connection, "not_supported", "an echo session cannot subscribe", ref);
        return;
    }
    auto tracks = message.body.find("tracks");
    constexpr std::size_t kMaxTracksPerRequest = 64;
    if (tracks == message.body.end() || !tracks->is_array() || tracks->empty() || tracks->size() > kMaxTracksPerRequest) {
        send_error(connection, "malformed_message", std::string(verb) + " needs \"tracks\": 1 to 64 track ids", ref);
        return;
    }
    for (const auto& id : *tracks) {
        if (!id.is_string()) {
            send_error(connection, "malformed_message", "track ids are strings", ref);
            return;
        }
        auto [owner, track] = roster_.find_track(connection.room, id.get_ref<const std::string&>());
        if (!track || owner == self) {
            send_error(connection, "track_not_found", "no other participant in the room publishes track " + id.get<std::string>().substr(0, 64), ref);
            return;
        }
    }
    for (const auto& id : *tracks) {
        if (subscribe) roster_.subscribe(connection.room, connection.identity, id.get_ref<const std::string&>());
        else roster_.unsubscribe(connection.room, connection.identity, id.get_ref<const std::string&>());
    }
    sync_subscriptions(connection.room, connection.identity);
    self = roster_.find(connection.room, connection.identity);
    json reply = {{"type", subscribe ? "subscribed" : "unsubscribed"}, {"subscriptions", self->subscriptions}};
    if (ref) reply["ref"] = *ref;
    send(connection, reply);
}

void SignalingHub::handle_subscribe_answer(Connection& connection, SessionId session, const ClientMessage& message) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    auto sdp = message.body.find("sdp");
    auto version = message.body.find("version");
    if (sdp == message.body.end() || !sdp->is_string() || version == message.body.end() || !version->is_number_unsigned()) {
        send_error(connection, "malformed_message", "subscribe_answer needs a string \"sdp\" and the offer's \"version\"", ref);
        return;
    }
    std::string parse_error;
    auto parsed = transport::parse_sdp(sdp->get_ref<const std::string&>(), parse_error);
    if (!parsed) {
        send_error(connection, "sdp_malformed", parse_error, ref);
        return;
    }
    sfu::PlanError plan_error;
    auto answer = sfu::plan_subscriber_answer(*parsed, plan_error);
    if (!answer) {
        send_error(connection, plan_error.code, plan_error.message, ref);
        return;
    }
    if (!media_ || !media_->has(session) || media_->has_echo(session)) {
        send_error(connection, "no_transport", "there is no subscription to answer", ref);
        return;
    }
    media_->subscriber_answer(session, std::move(*answer), version->get<std::uint64_t>(),
                              [this, session, reference = message.ref](std::string code, std::string text) {
                                  auto it = connections_.find(session);
                                  if (it == connections_.end() || it->second.state == State::closing) return;
                                  send_error(it->second, code, text, reference.is_null() ? nullptr : &reference);
                              });
}

void SignalingHub::handle_publish_echo(Connection& connection, SessionId session, const ClientMessage& message) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    const room::Participant* self = roster_.find(connection.room, connection.identity);
    if (!self->grants.can_subscribe) {
        send_error(connection, "permission_denied", "echo needs canSubscribe as well", ref);
        return;
    }
    auto plan = plan_offer(connection, message);
    if (!plan) return;
    if (media_->has(session)) {
        send_error(connection, "already_publishing", "this session already has a transport", ref);
        return;
    }
    connection.echo = true;
    connection.media_mid = plan->tracks.front().mid;
    media_->publish_echo(session, connection.room, std::move(*plan),
                         [this, session, reference = message.ref](std::optional<std::string> answer, std::string code,
                                                                  std::string text) {
                             deliver_answer(session, reference, std::move(answer), code, text);
                         });
}

std::optional<sfu::OfferPlan> SignalingHub::plan_offer(Connection& connection, const ClientMessage& message,
                                                      sfu::OfferMode mode) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    auto sdp = message.body.find("sdp");
    if (sdp == message.body.end() || !sdp->is_string()) {
        send_error(connection, "malformed_message", "needs a string \"sdp\" (an offer)", ref);
        return std::nullopt;
    }
    std::string parse_error;
    auto offer = transport::parse_sdp(sdp->get_ref<const std::string&>(), parse_error);
    if (!offer) {
        send_error(connection, "sdp_malformed", parse_error, ref);
        return std::nullopt;
    }
    sfu::PlanError plan_error;
    auto plan = sfu::plan_offer(*offer, mode, plan_error);
    if (!plan) send_error(connection, plan_error.code, plan_error.message, ref);
    return plan;
}

void SignalingHub::deliver_answer(SessionId session, const json& reference, std::optional<std::string> answer,
                                  const std::string& code, const std::string& text) {
    auto it = connections_.find(session);
    if (it == connections_.end() || it->second.state == State::closing) {
        if (media_) media_->close(session);
        return;
    }
    const json* ref = reference.is_null() ? nullptr : &reference;
    if (!answer) {
        end_media(it->second, session);
        send_error(it->second, code, text, ref);
        return;
    }
    json reply = {{"type", "answer"}, {"sdp", *answer}};
    if (ref) reply["ref"] = *ref;
    send(it->second, reply);
}

void SignalingHub::handle_renegotiate(Connection& connection, SessionId session, const ClientMessage& message) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    auto plan = plan_offer(connection, message);
    if (!plan) return;
    if (!media_ || !media_->has_echo(session)) {
        send_error(connection, "no_transport", "renegotiate restarts an echo transport; conferencing sends a new publish offer",
                   ref);
        return;
    }
    media_->restart_ice(session, std::move(plan->remote),
                        [this, session, reference = message.ref](std::optional<std::string> answer, std::string code,
                                                                 std::string text) {
                            deliver_answer(session, reference, std::move(answer), code, text);
                        });
}

void SignalingHub::handle_trickle(Connection& connection, SessionId session, const ClientMessage& message) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    auto candidate = message.body.find("candidate");
    if (candidate == message.body.end() || candidate->is_null() ||
        (candidate->is_string() && candidate->get_ref<const std::string&>().empty())) {
        return;  // end of candidates
    }
    if (!candidate->is_string()) {
        send_error(connection, "malformed_message", "\"candidate\" must be a string", ref);
        return;
    }
    auto parsed = transport::parse_candidate(candidate->get_ref<const std::string&>());
    if (!parsed) {
        send_error(connection, "bad_candidate", "not an ICE candidate line", ref);
        return;
    }
    auto role = sfu::PeerRole::publisher;
    if (auto target = message.body.find("target"); target != message.body.end()) {
        if (*target == "subscriber") role = sfu::PeerRole::subscriber;
        else if (*target != "publisher") {
            send_error(connection, "malformed_message", "\"target\" is \"publisher\" or \"subscriber\"", ref);
            return;
        }
    }
    if (!media_ || !media_->has(session)) {
        send_error(connection, "no_transport", "publish or answer a subscription first; then trickle", ref);
        return;
    }
    media_->add_remote_candidate(session, role, *parsed);
}

void SignalingHub::end_media(Connection& connection, SessionId session) {
    if (media_ && media_->has(session)) media_->close(session);
    connection.media_mid.clear();
    connection.subscriber_mid.clear();
    connection.published.clear();
    connection.echo = false;
}

void SignalingHub::on_media_candidate(SessionId session, sfu::PeerRole role, const transport::SdpCandidate& candidate) {
    auto it = connections_.find(session);
    if (it == connections_.end() || it->second.state == State::closing) return;
    const Connection& c = it->second;
    send(it->second, {{"type", "trickle"},
                      {"target", sfu::to_string(role)},
                      {"candidate", transport::write_candidate(candidate)},
                      {"sdpMid", role == sfu::PeerRole::publisher ? c.media_mid : c.subscriber_mid}});
}

void SignalingHub::on_media_connected(SessionId session, sfu::PeerRole role, const sfu::MediaConnectedInfo& info) {
    auto it = connections_.find(session);
    if (it == connections_.end() || it->second.state == State::closing) return;
    send(it->second, {{"type", "media"},
                      {"target", sfu::to_string(role)},
                      {"state", "connected"},
                      {"dtls", {{"version", info.dtls_version}, {"cipher", info.cipher}}},
                      {"srtp", info.srtp_profile}});
}

void SignalingHub::on_media_failed(SessionId session, sfu::PeerRole role, const std::string& reason) {
    auto it = connections_.find(session);
    if (it == connections_.end()) return;
    Connection& connection = it->second;
    if (connection.echo || connection.state == State::closing) {
        end_media(connection, session);
    } else if (role == sfu::PeerRole::publisher) {
        // The worker dropped the transport and its producers: the tracks are gone.
        std::vector<std::string> ids;
        for (const auto& [mid, id] : connection.published) ids.push_back(id);
        remove_tracks(connection, ids);
        connection.media_mid.clear();
    } else {
        connection.subscriber_mid.clear();
    }
    if (connection.state == State::closing) return;
    send(connection, {{"type", "media"}, {"target", sfu::to_string(role)}, {"state", "failed"}, {"reason", reason}});
}

void SignalingHub::on_subscriber_offer(SessionId session, const sfu::SubscriberOffer& offer) {
    auto it = connections_.find(session);
    if (it == connections_.end() || it->second.state != State::joined) return;
    Connection& connection = it->second;
    json tracks = json::array();
    for (const sfu::OfferedSlot& slot : offer.slots) {
        json entry = {{"mid", slot.mid}, {"kind", transport::to_string(slot.kind)}, {"track", nullptr}};
        if (!slot.track_id.empty()) {
            auto [owner, track] = roster_.find_track(connection.room, slot.track_id);
            entry["track"] = slot.track_id;
            if (owner && track) {
                entry["participant"] = {{"id", owner->id}, {"identity", owner->identity}, {"name", owner->name}};
                entry["source"] = track->source;
                entry["muted"] = track->muted;
            }
        }
        tracks.push_back(std::move(entry));
    }
    if (connection.subscriber_mid.empty() && !offer.slots.empty()) connection.subscriber_mid = offer.slots.front().mid;
    send(connection, {{"type", "subscribe_offer"}, {"sdp", offer.sdp}, {"version", offer.version}, {"tracks", std::move(tracks)}});
}

}  // namespace rollcall::signaling
