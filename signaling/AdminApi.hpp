#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <unordered_map>

#include "signaling/HttpMessage.hpp"
#include "signaling/RateLimiter.hpp"

namespace rollcall::signaling {

class SignalingHub;
class TokenVerifier;
struct HttpLimits;
struct TokenClaims;

// The admin REST API under /admin/v1 (docs/admin-api.md). Bearer tokens carry the
// roomList / roomAdmin grants; requests are rate-limited per client address.
class AdminApi {
  public:
    using Clock = std::chrono::steady_clock;

    // `test_hooks`: serve POST /admin/v1/test/plant (test builds started with test_hooks).
    AdminApi(const TokenVerifier& verifier, SignalingHub& hub, const HttpLimits& limits,
             bool test_hooks = false);

    // `path` is the request path below /admin/v1 (e.g. "/rooms/a"), undecoded.
    HttpResponse handle(const HttpRequest& request, std::string_view path, Clock::time_point now,
                        std::int64_t unix_now);

    // Verifies the request's bearer token; on failure fills `error` (401).
    bool authenticate(const HttpRequest& request, std::int64_t unix_now, TokenClaims& claims,
                      HttpResponse& error) const;

    // What GET /rooms and GET /rooms/{room} answer (the room: null when there is none), and
    // audit events of `room` ("" for all) since `since_ms` with an id after `after_id`, the
    // newest `limit` of them, oldest first. The stream (AdminStream) sends the same.
    nlohmann::json rooms_json() const;
    nlohmann::json room_json(const std::string& room) const;
    nlohmann::json audit_json(std::string_view room, std::int64_t since_ms, std::size_t limit,
                              std::uint64_t after_id = 0) const;

    // Open GET /admin/v1/stream responses at most; more get 503 too_many_streams.
    static constexpr std::size_t kMaxStreams = 16;
    std::size_t open_streams() const noexcept { return *open_streams_; }

  private:
    bool admit(const std::string& address, Clock::time_point now);
    HttpResponse list_rooms(const TokenClaims& claims) const;
    HttpResponse get_room(const TokenClaims& claims, const std::string& room) const;
    HttpResponse kick(const TokenClaims& claims, const std::string& room,
                      const std::string& identity, const HttpRequest& request,
                      Clock::time_point now);
    HttpResponse delete_room(const TokenClaims& claims, const std::string& room);
    HttpResponse mute(const TokenClaims& claims, const std::string& room,
                      const std::string& identity, const std::string& track, bool muted);
    HttpResponse audit(const TokenClaims& claims, const HttpRequest& request) const;
    HttpResponse stream(const TokenClaims& claims, const HttpRequest& request,
                        std::int64_t unix_now);
    HttpResponse plant(const TokenClaims& claims, const HttpRequest& request);

    const TokenVerifier& verifier_;
    SignalingHub& hub_;
    const HttpLimits& limits_;
    bool test_hooks_;
    std::unordered_map<std::string, RateLimiter> limiters_;  // by client address, bounded
    std::shared_ptr<std::size_t> open_streams_ = std::make_shared<std::size_t>(0);
};

}  // namespace rollcall::signaling
