#include "signaling/AdminApi.hpp"

#include <charconv>
#include <nlohmann/json.hpp>
#include <vector>

#include "signaling/AdminStream.hpp"
#include "signaling/MediaStatsJson.hpp"
#include "signaling/ServerConfig.hpp"
#include "signaling/SignalingHub.hpp"
#include "signaling/Token.hpp"

namespace rollcall::signaling {

using json = nlohmann::json;

namespace {

constexpr std::size_t kMaxTrackedClients = 10000;
constexpr std::size_t kMaxAdminBody = 4096;
constexpr std::size_t kMaxKickReason = 256;
constexpr long long kMaxBanSeconds = 7 * 24 * 3600;

HttpResponse method_not_allowed(std::string_view allow) {
    HttpResponse response =
        error_response(405, "method_not_allowed", "allowed: " + std::string(allow));
    response.headers.emplace_back("Allow", std::string(allow));
    return response;
}

HttpResponse forbidden(std::string_view message) {
    return error_response(403, "permission_denied", message);
}

// Splits "/rooms/a/participants/b" into decoded segments; false for a bad escape.
bool split_path(std::string_view path, std::vector<std::string>& segments) {
    segments.clear();
    if (path.empty() || path.front() != '/') return path.empty();
    path.remove_prefix(1);
    while (true) {
        const auto slash = path.find('/');
        std::string segment;
        if (!percent_decode(path.substr(0, slash), segment)) return false;
        segments.push_back(std::move(segment));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    if (!segments.empty() && segments.back().empty()) segments.pop_back();  // trailing slash
    return true;
}

json room_summary(const room::Room& room) {
    return {{"name", room.name},
            {"created_at", room.created_at_unix},
            {"num_participants", room.participants.size()}};
}

}  // namespace

AdminApi::AdminApi(const TokenVerifier& verifier, SignalingHub& hub, const HttpLimits& limits,
                   bool test_hooks)
    : verifier_(verifier), hub_(hub), limits_(limits), test_hooks_(test_hooks) {}

bool AdminApi::admit(const std::string& address, Clock::time_point now) {
    auto it = limiters_.find(address);
    if (it == limiters_.end()) {
        if (limiters_.size() >= kMaxTrackedClients) limiters_.clear();
        it = limiters_
                 .emplace(address,
                          RateLimiter(limits_.admin_requests_per_second, limits_.admin_burst, now))
                 .first;
    }
    return it->second.try_take(now);
}

bool AdminApi::authenticate(const HttpRequest& request, std::int64_t unix_now, TokenClaims& claims,
                            HttpResponse& error) const {
    const std::string_view token = bearer_token(request.authorization);
    if (token.empty()) {
        error = error_response(401, "missing_credentials", "send Authorization: Bearer <token>");
        error.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"rollcall\"");
        return false;
    }
    TokenResult result = verifier_.verify(token, unix_now);
    if (!result.ok()) {
        error = error_response(401, error_code(result.error), result.detail);
        error.headers.emplace_back("WWW-Authenticate",
                                   "Bearer realm=\"rollcall\", error=\"invalid_token\"");
        return false;
    }
    claims = std::move(result.claims);
    return true;
}

HttpResponse AdminApi::handle(const HttpRequest& request, std::string_view path,
                              Clock::time_point now, std::int64_t unix_now) {
    if (!admit(request.remote_address, now)) {
        HttpResponse response = error_response(429, "rate_limited", "too many admin requests");
        response.headers.emplace_back("Retry-After", "1");
        return response;
    }
    if (request.body.size() > kMaxAdminBody) {
        return error_response(413, "body_too_large",
                              "admin request bodies are limited to 4096 bytes");
    }
    std::vector<std::string> segments;
    if (!split_path(path, segments))
        return error_response(400, "bad_path", "the path has a malformed escape");
    const bool is_rooms = !segments.empty() && segments[0] == "rooms";
    const std::size_t n = segments.size();
    const bool is_audit = n == 1 && segments[0] == "audit";
    const bool is_stream = n == 1 && segments[0] == "stream";
    const bool is_plant = test_hooks_ && n == 2 && segments[0] == "test" && segments[1] == "plant";
    const bool is_mute = is_rooms && n == 7 && segments[2] == "participants" &&
                         segments[4] == "tracks" &&
                         (segments[6] == "mute" || segments[6] == "unmute");
    const bool known =
        is_audit || is_stream || is_plant || is_mute ||
        (is_rooms && (n == 1 || n == 2 || (n == 4 && segments[2] == "participants")));
    if (!known) return error_response(404, "not_found", "no such admin resource");

    // Method before credentials would leak nothing, but credentials first is the simpler rule.
    TokenClaims claims;
    HttpResponse error;
    if (!authenticate(request, unix_now, claims, error)) return error;

    const std::string& method = request.method;
    if (is_audit) {
        if (method != "GET") return method_not_allowed("GET");
        return audit(claims, request);
    }
    if (is_stream) {
        if (method != "GET") return method_not_allowed("GET");
        return stream(claims, request, unix_now);
    }
    if (is_plant) {
        if (method != "POST") return method_not_allowed("POST");
        return plant(claims, request);
    }
    if (n == 1) {
        if (method != "GET") return method_not_allowed("GET");
        return list_rooms(claims);
    }
    if (!room::is_valid_room_name(segments[1]))
        return error_response(400, "bad_room_name", "not a valid room name");
    if (n == 2) {
        if (method == "GET") return get_room(claims, segments[1]);
        if (method == "DELETE") return delete_room(claims, segments[1]);
        return method_not_allowed("GET, DELETE");
    }
    if (!room::is_valid_identity(segments[3]))
        return error_response(400, "bad_identity", "not a valid identity");
    if (is_mute) {
        if (method != "POST") return method_not_allowed("POST");
        return mute(claims, segments[1], segments[3], segments[5], segments[6] == "mute");
    }
    if (method != "DELETE") return method_not_allowed("DELETE");
    return kick(claims, segments[1], segments[3], request, now);
}

HttpResponse AdminApi::list_rooms(const TokenClaims& claims) const {
    if (!claims.grants.room_list) return forbidden("listing rooms needs the roomList grant");
    return json_response(200, rooms_json());
}

json AdminApi::rooms_json() const {
    json rooms = json::array();
    for (const auto& [name, room] : hub_.roster().rooms()) {
        json summary = room_summary(room);
        summary.update(room_bitrates_json(hub_.roll_call().media_truth(name)));
        rooms.push_back(std::move(summary));
    }
    return {{"rooms", std::move(rooms)}};
}

HttpResponse AdminApi::get_room(const TokenClaims& claims, const std::string& room_name) const {
    if (!claims.grants.room_list && !claims.grants.administers(room_name)) {
        return forbidden("reading a room needs roomList, or roomAdmin for that room");
    }
    json body = room_json(room_name);
    if (body.is_null()) return error_response(404, "room_not_found", "no such room");
    return json_response(200, {{"room", std::move(body)}});
}

json AdminApi::room_json(const std::string& room_name) const {
    const room::Room* room = hub_.roster().find(room_name);
    if (!room) return nullptr;
    const sfu::RoomTruth* truth = hub_.roll_call().media_truth(room_name);
    json body = room_summary(*room);
    body.update(room_bitrates_json(truth));
    json participants = json::array();
    for (const auto& [identity, participant] : room->participants) {
        json entry = participant_json(participant);
        entry["stats"] = participant_media_json(*room, participant, truth);
        entry["subscriptions"] = participant.subscriptions;
        // Within the reconnect grace: its socket dropped, its media still flows.
        entry["connected"] = !participant.disconnected_since.has_value();
        if (participant.disconnected_since) {
            entry["disconnected_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                                           room::Clock::now() - *participant.disconnected_since)
                                           .count();
        }
        participants.push_back(std::move(entry));
    }
    body["participants"] = std::move(participants);
    body["media"] = hub_.roll_call().media_json(room_name);
    return body;
}

json AdminApi::audit_json(std::string_view room, std::int64_t since_ms, std::size_t limit,
                          std::uint64_t after_id) const {
    json events = json::array();
    if (const room::AuditLog* log = hub_.roll_call().audit_log()) {
        for (const room::AuditEvent& event : log->query(room, since_ms, limit)) {
            if (event.id > after_id)
                events.push_back(json::parse(room::AuditLog::to_json_line(event)));
        }
    }
    return events;
}

HttpResponse AdminApi::stream(const TokenClaims& claims, const HttpRequest& request,
                              std::int64_t unix_now) {
    const std::string room = query_param(split_target(request.target).second, "room");
    if (!room.empty() && !room::is_valid_room_name(room))
        return error_response(400, "bad_room_name", "not a valid room name");
    if (room.empty() ? !claims.grants.room_list
                     : !(claims.grants.room_list || claims.grants.administers(room))) {
        return forbidden("the stream needs roomList, or roomAdmin for the room named by ?room=");
    }
    if (*open_streams_ >= kMaxStreams) {
        HttpResponse busy = error_response(503, "too_many_streams",
                                           "too many admin streams are open; try again later");
        busy.headers.emplace_back("Retry-After", "5");
        return busy;
    }
    auto stream = std::make_shared<AdminStream>(*this, room, claims.grants.room_list,
                                                claims.expires_at, open_streams_);
    HttpResponse response;
    response.content_type = "text/event-stream";
    response.body = stream->first(unix_now);
    response.headers.emplace_back("X-Accel-Buffering", "no");  // proxies: do not hold events back
    response.stream = std::move(stream);
    return response;
}

HttpResponse AdminApi::audit(const TokenClaims& claims, const HttpRequest& request) const {
    const std::string query(split_target(request.target).second);
    const std::string room = query_param(query, "room");
    if (!room.empty() && !room::is_valid_room_name(room))
        return error_response(400, "bad_room_name", "not a valid room name");
    if (room.empty() ? !claims.grants.room_list
                     : !(claims.grants.room_list || claims.grants.administers(room))) {
        return forbidden(
            "reading the audit log needs roomList, or roomAdmin for the room named by ?room=");
    }
    auto number = [&](const char* name, std::int64_t fallback, std::int64_t max,
                      std::int64_t& out) {
        const std::string text = query_param(query, name);
        if (text.empty()) {
            out = fallback;
            return true;
        }
        if (text.size() > 16 || text.find_first_not_of("0123456789") != std::string::npos)
            return false;
        out = std::stoll(text);
        return out <= max;
    };
    std::int64_t since = 0;
    std::int64_t limit = 0;
    if (!number("since", 0, std::int64_t{1} << 50, since)) {
        return error_response(400, "bad_since", "since is a unix time in milliseconds");
    }
    if (!number("limit", 1000, 10000, limit) || limit == 0) {
        return error_response(400, "bad_limit", "limit is 1 to 10000");
    }
    return json_response(200,
                         {{"events", audit_json(room, since, static_cast<std::size_t>(limit))}});
}

HttpResponse AdminApi::plant(const TokenClaims& claims, const HttpRequest& request) {
#ifdef ROLLCALL_FAULT_INJECTION
    json body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
        return error_response(400, "bad_body", "the body must be a JSON object");
    auto text = [&](const char* key) {
        auto it = body.find(key);
        return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    const std::string kind = text("kind");
    const std::string room = text("room");
    if (!room::is_valid_room_name(room))
        return error_response(400, "bad_room_name", "\"room\" must name a room");
    if (!claims.grants.administers(room)) return forbidden("planting needs roomAdmin for the room");
    std::string failure;
    if (kind == "stray_transport")
        failure = hub_.roll_call().plant_stray_transport(room, text("identity"));
    else if (kind == "stray_data")
        failure = hub_.roll_call().plant_stray_data(room, text("identity"));
    else if (kind == "ghost_consumer")
        failure = hub_.roll_call().plant_consumer(room, text("identity"), text("track"));
    else if (kind == "fingerprint_swap") {
        const std::string role = text("role").empty() ? "publisher" : text("role");
        if (role != "publisher" && role != "subscriber") {
            return error_response(400, "bad_role", "\"role\" is \"publisher\" or \"subscriber\"");
        }
        failure = hub_.roll_call().plant_fingerprint_swap(
            room, text("identity"),
            role == "publisher" ? sfu::PeerRole::publisher : sfu::PeerRole::subscriber);
    } else {
        return error_response(
            400, "bad_kind",
            "\"kind\" is \"stray_transport\", \"ghost_consumer\" or \"fingerprint_swap\"");
    }
    if (!failure.empty()) return error_response(404, "not_found", failure);
    return json_response(202, {{"planted", kind}, {"room", room}});
#else
    (void)claims;
    (void)request;
    return error_response(404, "not_found", "no such admin resource");
#endif
}

HttpResponse AdminApi::kick(const TokenClaims& claims, const std::string& room,
                            const std::string& identity, const HttpRequest& request,
                            Clock::time_point now) {
    if (!claims.grants.administers(room)) return forbidden("kicking needs roomAdmin for this room");
    std::string reason;
    if (!request.body.empty()) {
        json body = json::parse(request.body, nullptr, false);
        if (body.is_discarded() || !body.is_object())
            return error_response(400, "bad_body", "the body must be a JSON object");
        if (auto it = body.find("reason"); it != body.end()) {
            if (!it->is_string() || it->get_ref<const std::string&>().size() > kMaxKickReason) {
                return error_response(400, "bad_reason",
                                      "reason must be a string of at most 256 bytes");
            }
            reason = it->get<std::string>();
        }
    }
    const std::string query = std::string(split_target(request.target).second);
    if (reason.empty()) reason = query_param(query, "reason");
    if (reason.size() > kMaxKickReason)
        return error_response(400, "bad_reason", "reason must be at most 256 bytes");
    // ?ban=SECONDS keeps the identity out of the room for that long (at most a week).
    long long ban = 0;
    if (const std::string text = query_param(query, "ban"); !text.empty()) {
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), ban);
        if (error != std::errc() || end != text.data() + text.size() || ban < 0 ||
            ban > kMaxBanSeconds) {
            return error_response(400, "bad_ban", "ban is a number of seconds from 0 to 604800");
        }
    }
    switch (hub_.kick(room, identity, reason, now, std::chrono::seconds(ban))) {
        case SignalingHub::KickResult::room_not_found:
            return error_response(404, "room_not_found", "no such room");
        case SignalingHub::KickResult::participant_not_found:
            return error_response(404, "participant_not_found", "no such participant in this room");
        case SignalingHub::KickResult::kicked:
            break;
    }
    json kicked = {{"room", room}, {"identity", identity}};
    if (ban > 0) kicked["banned_s"] = ban;
    return json_response(200, {{"kicked", kicked}});
}

HttpResponse AdminApi::mute(const TokenClaims& claims, const std::string& room,
                            const std::string& identity, const std::string& track, bool muted) {
    if (!claims.grants.administers(room)) return forbidden("muting needs roomAdmin for this room");
    switch (hub_.admin_mute(room, identity, track, muted)) {
        case SignalingHub::MuteResult::room_not_found:
            return error_response(404, "room_not_found", "no such room");
        case SignalingHub::MuteResult::participant_not_found:
            return error_response(404, "participant_not_found", "no such participant in this room");
        case SignalingHub::MuteResult::track_not_found:
            return error_response(404, "track_not_found",
                                  "the participant publishes no such track");
        case SignalingHub::MuteResult::done:
            break;
    }
    return json_response(200, {{"room", room},
                               {"identity", identity},
                               {"track", track},
                               {"muted", muted},
                               {"by", "admin"}});
}

HttpResponse AdminApi::delete_room(const TokenClaims& claims, const std::string& room) {
    if (!claims.grants.administers(room))
        return forbidden("deleting a room needs roomAdmin for it");
    auto removed = hub_.close_room(room);
    if (!removed) return error_response(404, "room_not_found", "no such room");
    return json_response(200, {{"deleted", {{"room", room}, {"participants_removed", *removed}}}});
}

}  // namespace rollcall::signaling
