// Everything Asio and Beast in the test peer: the Loop's io_context, the signaling WebSocket
// and the plain HTTP GETs to the admin API and /metrics.
#include "tests/peer/SignalingSocket.hpp"

#include <glib.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <thread>

#include "tests/peer/TestPeer.hpp"

namespace rollcall::testpeer {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct Loop::Io {
    asio::io_context context;
};

Loop::Loop() : context_(g_main_context_new()), io_(std::make_unique<Io>()) {}

Loop::~Loop() {
    io_->context.restart();
    io_->context.poll();
    while (g_main_context_iteration(context_, FALSE)) {
    }
    g_main_context_unref(context_);
}

void* Loop::io() const noexcept {
    return &io_->context;
}

void Loop::run_for(std::chrono::milliseconds budget) {
    const auto deadline = Clock::now() + budget;
    do {
        io_->context.restart();
        const std::size_t handlers = io_->context.poll();
        bool busy = handlers > 0;
        for (int i = 0; i < 64 && g_main_context_iteration(context_, FALSE); ++i) busy = true;
        if (!busy) std::this_thread::sleep_for(std::chrono::microseconds(200));
    } while (Clock::now() < deadline);
}

struct SignalingSocket::Impl : std::enable_shared_from_this<Impl> {
    explicit Impl(asio::io_context& io) : ws(io) {}
    websocket::stream<tcp::socket> ws;
    beast::flat_buffer buffer;
    std::deque<std::string> outbox;
    std::deque<nlohmann::json> inbox;
    bool writing = false;
    bool closed = false;
    std::string error;

    void read() {
        ws.async_read(buffer, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) {
                self->closed = true;
                if (ec != websocket::error::closed) self->error = ec.message();
                return;
            }
            self->inbox.push_back(
                nlohmann::json::parse(beast::buffers_to_string(self->buffer.data()), nullptr,
                                      /*allow_exceptions=*/false));
            self->buffer.consume(self->buffer.size());
            self->read();
        });
    }
    void write() {
        if (writing || outbox.empty() || closed) return;
        writing = true;
        ws.async_write(asio::buffer(outbox.front()),
                       [self = shared_from_this()](beast::error_code ec, std::size_t) {
                           self->writing = false;
                           self->outbox.pop_front();
                           if (ec) {
                               self->closed = true;
                               self->error = ec.message();
                               return;
                           }
                           self->write();
                       });
    }
};

SignalingSocket::SignalingSocket(Loop& loop, std::uint16_t port, const std::string& path,
                                 const std::string& subprotocol)
    : impl_(std::make_shared<Impl>(*static_cast<asio::io_context*>(loop.io()))) {
    beast::error_code ec;
    impl_->ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (!ec) impl_->ws.next_layer().set_option(tcp::no_delay(true), ec);  // as browsers do
    if (!subprotocol.empty()) {
        impl_->ws.set_option(websocket::stream_base::decorator([subprotocol](auto& request) {
            request.set(http::field::sec_websocket_protocol, subprotocol);
        }));
    }
    if (!ec) impl_->ws.handshake("127.0.0.1:" + std::to_string(port), path, ec);
    if (ec) {
        impl_->closed = true;
        impl_->error = ec.message();
        return;
    }
    impl_->ws.text(true);
    impl_->read();
}

SignalingSocket::~SignalingSocket() {
    beast::error_code ec;
    impl_->ws.next_layer().close(ec);  // the handlers hold the Impl until they run
}

void SignalingSocket::send(const nlohmann::json& message) {
    impl_->outbox.push_back(message.dump());
    impl_->write();
}

std::optional<nlohmann::json> SignalingSocket::take() {
    if (impl_->inbox.empty()) return std::nullopt;
    nlohmann::json message = std::move(impl_->inbox.front());
    impl_->inbox.pop_front();
    return message;
}

bool SignalingSocket::closed() const noexcept {
    return impl_->closed;
}

const std::string& SignalingSocket::error() const noexcept {
    return impl_->error;
}

std::string ServerProcess::get(const std::string& path) const {
    return request("GET", path);
}

std::string ServerProcess::request(const std::string& method, const std::string& path) const {
    asio::io_context io;
    beast::tcp_stream stream(io);
    beast::error_code ec;
    stream.connect({asio::ip::make_address("127.0.0.1"), port_}, ec);
    if (ec) return {};
    http::request<http::empty_body> out(http::string_to_verb(method), path, 11);
    out.set(http::field::host, "127.0.0.1");
    out.set(http::field::authorization, "Bearer " + admin_token_);
    http::write(stream, out, ec);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    if (!ec) http::read(stream, buffer, response, ec);
    return ec ? std::string() : response.body();
}

}  // namespace rollcall::testpeer
