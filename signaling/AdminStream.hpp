#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "signaling/HttpMessage.hpp"

namespace rollcall::signaling {

class AdminApi;

// GET /admin/v1/stream: what an operator's dashboard shows, pushed once a second as
// server-sent events (docs/admin-api.md): `rooms` (with the roomList grant), `room` (the
// room named by ?room=, as GET /rooms/{room} gives it, or null once it is gone), `audit` (new
// audit events, of that room only when one is named), and `end` when the token expires.
// Each stream counts against AdminApi::kMaxStreams until it is destroyed.
class AdminStream final : public EventStream {
  public:
    AdminStream(const AdminApi& api, std::string room, bool all_rooms, std::int64_t expires_unix,
                std::shared_ptr<std::size_t> open_streams);
    ~AdminStream() override;
    AdminStream(const AdminStream&) = delete;
    AdminStream& operator=(const AdminStream&) = delete;

    // The start: a reconnect delay for EventSource-style clients, the current state and the
    // latest audit events (at most kFirstAuditEvents).
    std::string first(std::int64_t unix_now);
    std::optional<std::string> next(std::chrono::steady_clock::time_point now,
                                    std::int64_t unix_now) override;

    static constexpr std::size_t kFirstAuditEvents = 50;
    static constexpr std::size_t kAuditEventsPerTick = 200;

  private:
    std::string state() const;
    std::string audit(std::size_t limit);

    const AdminApi& api_;
    std::string room_;
    bool all_rooms_;
    std::int64_t expires_unix_;
    std::shared_ptr<std::size_t> open_streams_;
    std::uint64_t audit_after_id_ = 0;  // the newest event sent
    std::int64_t audit_since_ms_ = 0;
    bool ended_ = false;
};

// One server-sent event: "event: <name>\ndata: <compact JSON>\n\n".
std::string sse_event(std::string_view name, const nlohmann::json& data);

}  // namespace rollcall::signaling
