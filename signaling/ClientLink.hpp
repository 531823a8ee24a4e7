#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rollcall::signaling {

// WebSocket close codes the server uses (RFC 6455 §7.4.1).
enum class CloseCode : std::uint16_t {
    normal = 1000,
    going_away = 1001,
    policy_violation = 1008,
    too_big = 1009,
    internal_error = 1011,
    try_again_later = 1013,
};

// One signaling connection as the protocol engine sees it; the WebSocket session
// implements it. Calls never re-enter the hub synchronously.
class ClientLink {
  public:
    virtual ~ClientLink() = default;
    // Queues a text frame; a client that lets its queue overflow is closed.
    virtual void send_text(std::string text) = 0;
    // Closes after the frames already queued are sent (bounded by a grace timer).
    virtual void close(CloseCode code, std::string_view reason) = 0;
    virtual const std::string& remote_address() const = 0;
};

}  // namespace rollcall::signaling
