#pragma once
// Private to the server's translation units: the Asio/Beast side of HttpServer.
#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>

#include "signaling/HttpServer.hpp"
#include "signaling/SignalingStats.hpp"

namespace rollcall::signaling {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
using tcp = boost::asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

inline std::int64_t unix_now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

// Counts an open TCP connection for as long as it lives.
class ConnectionSlot {
  public:
    ConnectionSlot(std::size_t& counter, std::unordered_map<std::string, std::size_t>& per_address,
                   std::string address)
        : counter_(&counter), per_address_(&per_address), address_(std::move(address)) {
        ++*counter_;
        ++(*per_address_)[address_];
    }
    ~ConnectionSlot() {
        --*counter_;
        if (auto it = per_address_->find(address_);
            it != per_address_->end() && --it->second == 0) {
            per_address_->erase(it);
        }
    }
    ConnectionSlot(const ConnectionSlot&) = delete;
    ConnectionSlot& operator=(const ConnectionSlot&) = delete;

  private:
    std::size_t* counter_;
    std::unordered_map<std::string, std::size_t>* per_address_;
    std::string address_;
};

inline std::string remote_of(const tcp::socket& socket) {
    beast::error_code ec;
    auto endpoint = socket.remote_endpoint(ec);
    return ec ? std::string("unknown") : endpoint.address().to_string();
}

struct HttpServer::Impl {
    // Declared first so it outlives the io_context, whose destructor destroys sessions.
    bool detached = false;
    ServerOptions options;
    SignalingHub& hub;
    HttpRouter& router;
    SignalingStats& stats;
    std::size_t open_connections = 0;
    std::unordered_map<std::string, std::size_t> connections_by_address;

    ssl::context tls{ssl::context::tls_server};
    net::io_context ioc{1};
    tcp::acceptor acceptor{ioc};
    net::signal_set signals{ioc, SIGINT, SIGTERM};
    net::steady_timer ticker{ioc};
    bool stopping = false;

    Impl(ServerOptions opts, SignalingHub& h, HttpRouter& r, SignalingStats& st)
        : options(std::move(opts)), hub(h), router(r), stats(st) {}

    void accept();
    void tick();
    void begin_shutdown();
};

// Serve one accepted connection; each is defined in its own translation unit so the two
// stream types' templates compile in parallel.
void serve_plain(HttpServer::Impl& server, tcp::socket socket,
                 std::unique_ptr<ConnectionSlot> slot);
void serve_tls(HttpServer::Impl& server, std::shared_ptr<TlsStream> stream,
               std::unique_ptr<ConnectionSlot> slot);

}  // namespace rollcall::signaling
