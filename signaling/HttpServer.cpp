#include "signaling/HttpServer.hpp"

#include "signaling/HttpServerImpl.hpp"
#include "signaling/SignalingHub.hpp"

namespace rollcall::signaling {

namespace {
constexpr auto kTickInterval = std::chrono::milliseconds(250);
constexpr auto kShutdownGrace = std::chrono::milliseconds(500);
}  // namespace

void HttpServer::Impl::accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
        if (ec) {
            if (ec != net::error::operation_aborted) {
                spdlog::warn("accept failed: {}", ec.message());
                accept();
            }
            return;
        }
        if (stopping) return;
        std::string address = remote_of(socket);
        auto held = connections_by_address.find(address);
        const bool host_full = held != connections_by_address.end() &&
                               held->second >= options.signaling.max_connections_per_address;
        if (open_connections >= options.signaling.max_connections || host_full) {
            ++stats.connections_refused;
            beast::error_code ignored;
            socket.close(ignored);  // over a connection limit: refuse before any work
            accept();
            return;
        }
        auto slot = std::make_unique<ConnectionSlot>(open_connections, connections_by_address,
                                                     std::move(address));
        // Signaling is small messages, often two in a row (joined, then the subscription
        // offer): with Nagle the second waited for the client's delayed ACK, 40 ms a join.
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        if (options.tls) {
            auto stream = std::make_shared<TlsStream>(std::move(socket), tls);
            beast::get_lowest_layer(*stream).expires_after(options.http.request_timeout);
            stream->async_handshake(
                ssl::stream_base::server,
                [this, stream, slot = std::move(slot)](beast::error_code hec) mutable {
                    if (hec) return;  // scanners, plain-HTTP clients, timeouts
                    serve_tls(*this, stream, std::move(slot));
                });
        } else {
            serve_plain(*this, std::move(socket), std::move(slot));
        }
        accept();
    });
}

void HttpServer::Impl::tick() {
    ticker.expires_after(kTickInterval);
    ticker.async_wait([this](beast::error_code ec) {
        if (ec) return;
        hub.tick(SteadyClock::now());
        tick();
    });
}

void HttpServer::Impl::begin_shutdown() {
    if (stopping) return;
    stopping = true;
    beast::error_code ignored;
    acceptor.close(ignored);
    signals.cancel();
    hub.shutdown();
    // Give goodbyes a moment to flush, then stop.
    ticker.cancel();
    ticker.expires_after(kShutdownGrace);
    ticker.async_wait([this](beast::error_code) { ioc.stop(); });
}

HttpServer::HttpServer(ServerOptions options, SignalingHub& hub, HttpRouter& router,
                       SignalingStats& stats)
    : impl_(std::make_unique<Impl>(std::move(options), hub, router, stats)) {}

namespace {
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
}  // namespace

HttpServer::~HttpServer() {
    impl_->detached = true;  // sessions destroyed from here on must not call into the hub
}

std::uint16_t HttpServer::listen() {
    Impl& s = *impl_;
    if (s.options.tls) {
        s.tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
        // TLS 1.2: forward secrecy and AEAD only, in our order (TLS 1.3's suites all are).
        SSL_CTX_set_options(s.tls.native_handle(),
                            SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
        if (SSL_CTX_set_cipher_list(s.tls.native_handle(), kTls12Ciphers) != 1) {
            throw std::runtime_error("cannot set the TLS cipher list");
        }
        try {
            s.tls.use_certificate_chain_file(s.options.certificate_file.string());
            s.tls.use_private_key_file(s.options.private_key_file.string(), ssl::context::pem);
        } catch (const std::exception& error) {
            throw std::runtime_error("cannot load the TLS certificate or key: " +
                                     std::string(error.what()));
        }
    }
    beast::error_code ec;
    const auto address =
        net::ip::make_address(s.options.bind == "localhost" ? "127.0.0.1" : s.options.bind, ec);
    if (ec) throw std::runtime_error("bad bind address " + s.options.bind);
    const tcp::endpoint endpoint(address, s.options.port);
    s.acceptor.open(endpoint.protocol(), ec);
    if (!ec) s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) s.acceptor.bind(endpoint, ec);
    if (!ec) s.acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
        throw std::runtime_error("cannot listen on " + s.options.bind + ":" +
                                 std::to_string(s.options.port) + ": " + ec.message());
    return s.acceptor.local_endpoint().port();
}

void HttpServer::run() {
    Impl& s = *impl_;
    s.signals.async_wait([&s](beast::error_code ec, int) {
        if (!ec) s.begin_shutdown();
    });
    s.accept();
    s.tick();
    s.ioc.run();
}

void HttpServer::post(std::function<void()> task) {
    net::post(impl_->ioc, std::move(task));
}

void HttpServer::stop() {
    net::post(impl_->ioc, [this] { impl_->begin_shutdown(); });
}

}  // namespace rollcall::signaling