#include "signaling/HttpRouter.hpp"

#include <openssl/crypto.h>

#include <nlohmann/json.hpp>

#include "signaling/ServerConfig.hpp"
#include "signaling/Token.hpp"

namespace rollcall::signaling {

using json = nlohmann::json;

namespace {
constexpr std::int64_t kDevTokenTtl = 6 * 3600;
constexpr std::int64_t kDevAdminTokenTtl = 3600;
constexpr std::string_view kAdminPrefix = "/admin/v1";
}  // namespace

HttpRouter::HttpRouter(const ServerConfig& config, const TokenVerifier& verifier, SignalingHub& hub,
                       MetricsText metrics)
    : config_(config),
      admin_(verifier, hub, config.http, config.roll_call.test_hooks),
      files_(config.web_root),
      metrics_text_(std::move(metrics)) {}

HttpResponse HttpRouter::handle(const HttpRequest& request, Clock::time_point now,
                                std::int64_t unix_now) {
    const auto [path, query] = split_target(request.target);
    const bool read = request.method == "GET" || request.method == "HEAD";
    if (path == "/healthz") {
        if (!read) return error_response(405, "method_not_allowed", "allowed: GET");
        return json_response(200, {{"status", "ok"}});
    }
    if (path == "/metrics") {
        if (!read) return error_response(405, "method_not_allowed", "allowed: GET");
        return metrics(request, now, unix_now);
    }
    if (path == kAdminPrefix || path.starts_with(std::string(kAdminPrefix) + "/")) {
        return admin_.handle(request, path.substr(kAdminPrefix.size()), now, unix_now);
    }
    if (path == "/dev/token" || path == "/dev/admin-token") {
        if (!config_.dev) return error_response(404, "not_found", "no such resource");
        if (request.method != "POST")
            return error_response(405, "method_not_allowed", "allowed: POST");
        // Another site's page must not mint dev tokens in a visitor's browser.
        if (!origin_allowed(request.origin, request.host, !config_.insecure_dev,
                            config_.signaling.allowed_origins)) {
            return error_response(403, "origin_not_allowed",
                                  "tokens are minted only for this server's own pages");
        }
        return path == "/dev/token" ? dev_token(request, unix_now) : dev_admin_token(unix_now);
    }
    if (path == "/dashboard" && read) {
        if (auto file = files_.serve("/dashboard.html")) return std::move(*file);
    }
    if (path == "/rtc")
        return error_response(426, "upgrade_required", "signaling is a WebSocket at /rtc");
    if (read) {
        if (auto file = files_.serve(path)) return std::move(*file);
    }
    return error_response(404, "not_found", "no such resource");
}

HttpResponse HttpRouter::metrics(const HttpRequest& request, Clock::time_point now,
                                 std::int64_t unix_now) {
    const std::string_view token = bearer_token(request.authorization);
    const bool static_ok =
        !config_.metrics_token.empty() && token.size() == config_.metrics_token.size() &&
        CRYPTO_memcmp(token.data(), config_.metrics_token.data(), token.size()) == 0;
    if (!static_ok) {
        TokenClaims claims;
        HttpResponse error;
        if (!admin_.authenticate(request, unix_now, claims, error)) return error;
        if (!claims.grants.room_list)
            return error_response(403, "permission_denied", "metrics need the roomList grant");
    }
    HttpResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    if (!metrics_rendered_ || now - *metrics_rendered_ >= kMetricsMaxAge) {
        metrics_cache_ = metrics_text_ ? metrics_text_() : std::string();
        metrics_rendered_ = now;
    }
    response.body = metrics_cache_;
    return response;
}

HttpResponse HttpRouter::dev_token(const HttpRequest& request, std::int64_t unix_now) const {
    json body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
        return error_response(400, "bad_body", "send {\"room\", \"identity\", \"name\"}");
    auto text = [&](const char* key) -> std::string {
        auto it = body.find(key);
        return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    TokenClaims claims;
    claims.grants.room = text("room");
    claims.identity = text("identity");
    claims.name = text("name");
    if (!room::is_valid_room_name(claims.grants.room)) {
        return error_response(400, "bad_room_name",
                              "room names are 1-64 characters of A-Z a-z 0-9 . _ -");
    }
    if (!room::is_valid_identity(claims.identity)) {
        return error_response(400, "bad_identity",
                              "identities are 1-128 bytes without control characters or '/'");
    }
    if (claims.name.size() > 128)
        return error_response(400, "bad_name", "names are at most 128 bytes");
    claims.grants.room_join = claims.grants.can_publish = claims.grants.can_subscribe = true;
    claims.grants.can_publish_data = true;
    claims.expires_at = unix_now + kDevTokenTtl;
    const std::string token = mint_hs256_token(kDevApiKey, kDevApiSecret, claims);
    return json_response(
        200, {{"token", token}, {"room", claims.grants.room}, {"identity", claims.identity}});
}

HttpResponse HttpRouter::dev_admin_token(std::int64_t unix_now) const {
    // The dashboard's credential in dev mode (loopback only): every room, list and administer.
    TokenClaims claims;
    claims.grants.room = "*";
    claims.grants.room_admin = claims.grants.room_list = true;
    claims.expires_at = unix_now + kDevAdminTokenTtl;
    return json_response(200, {{"token", mint_hs256_token(kDevApiKey, kDevApiSecret, claims)},
                               {"expires_at", claims.expires_at}});
}

}  // namespace rollcall::signaling
