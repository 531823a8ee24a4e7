#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace rollcall::testpeer {

class Loop;

// One signaling WebSocket (ws://127.0.0.1:<port><path>, rollcall's /rtc unless told, with a
// subprotocol if given, e.g. Janus's "janus-protocol"): connects at once, then reads and writes
// asynchronously as the Loop runs. Received messages queue until taken.
class SignalingSocket {
  public:
    SignalingSocket(Loop& loop, std::uint16_t port, const std::string& path = "/rtc",
                    const std::string& subprotocol = "");
    ~SignalingSocket();
    SignalingSocket(const SignalingSocket&) = delete;
    SignalingSocket& operator=(const SignalingSocket&) = delete;

    void send(const nlohmann::json& message);
    std::optional<nlohmann::json> take();
    bool closed() const noexcept;
    const std::string& error() const noexcept;

  private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace rollcall::testpeer
