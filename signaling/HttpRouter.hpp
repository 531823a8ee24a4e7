#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "signaling/AdminApi.hpp"
#include "signaling/HttpMessage.hpp"
#include "signaling/StaticFiles.hpp"

namespace rollcall::signaling {

struct ServerConfig;
class SignalingHub;
class TokenVerifier;

// Every plain HTTP request (everything but the /rtc WebSocket upgrade) lands here:
// /healthz, /metrics, /admin/v1/..., /dev/token (dev mode only) and the web client.
class HttpRouter {
  public:
    using Clock = std::chrono::steady_clock;
    using MetricsText = std::function<std::string()>;

    HttpRouter(const ServerConfig& config, const TokenVerifier& verifier, SignalingHub& hub,
               MetricsText metrics);

    HttpResponse handle(const HttpRequest& request, Clock::time_point now, std::int64_t unix_now);

  private:
    HttpResponse metrics(const HttpRequest& request, Clock::time_point now, std::int64_t unix_now);
    HttpResponse dev_token(const HttpRequest& request, std::int64_t unix_now) const;
    HttpResponse dev_admin_token(std::int64_t unix_now) const;

    const ServerConfig& config_;
    AdminApi admin_;
    StaticFiles files_;
    MetricsText metrics_text_;
    // The page rendered at most once per kMetricsMaxAge: scraping in a loop costs the
    // signaling thread a credential check and a copy, not a render.
    static constexpr auto kMetricsMaxAge = std::chrono::milliseconds(250);
    std::string metrics_cache_;
    std::optional<Clock::time_point> metrics_rendered_;
};

}  // namespace rollcall::signaling
