#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "signaling/ServerConfig.hpp"

namespace rollcall::signaling {

class SignalingHub;
class HttpRouter;
struct SignalingStats;

struct ServerOptions {
    std::string bind;
    std::uint16_t port = 0;  // 0 picks a free port
    bool tls = true;
    bool hsts = false;  // Strict-Transport-Security on every response (TLS outside dev mode)
    std::filesystem::path certificate_file;
    std::filesystem::path private_key_file;
    SignalingLimits signaling;
    HttpLimits http;
};

// HTTPS and WSS on one port (Boost.Beast): /rtc upgrades to the signaling WebSocket and
// everything else goes to the router. Runs on one thread, which owns the hub and roster.
// This header is all the rest of the code sees of Beast and Asio.
class HttpServer {
  public:
    HttpServer(ServerOptions options, SignalingHub& hub, HttpRouter& router, SignalingStats& stats);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and listens; returns the bound port. Throws std::runtime_error on failure.
    std::uint16_t listen();
    // Serves until stop() or SIGINT/SIGTERM; then says goodbye to clients and returns.
    void run();
    // Thread-safe.
    void stop();
    // Thread-safe: runs `task` on the server's (signaling) thread.
    void post(std::function<void()> task);

    struct Impl;  // defined with the sessions in HttpServer.cpp

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace rollcall::signaling
