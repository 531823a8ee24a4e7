#pragma once
// Private: the HTTP and WebSocket session templates, instantiated once per stream type by
// HttpSessionPlain.cpp and HttpSessionTls.cpp.
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <optional>

#include "signaling/ClientLink.hpp"
#include "signaling/HttpExchange.hpp"
#include "signaling/HttpRouter.hpp"
#include "signaling/HttpServerImpl.hpp"
#include "signaling/SignalingHub.hpp"

namespace rollcall::signaling {

namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;

template <typename Stream>
inline constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

// Errors that only mean the peer went away; not worth a log line.
inline bool is_disconnect(const beast::error_code& ec) {
    return ec == net::error::eof || ec == net::error::connection_reset ||
           ec == net::error::operation_aborted || ec == beast::error::timeout ||
           ec == websocket::error::closed || ec == ssl::error::stream_truncated ||
           ec == http::error::end_of_stream;
}

template <typename Stream>
class WsSession final : public ClientLink, public std::enable_shared_from_this<WsSession<Stream>> {
  public:
    WsSession(HttpServer::Impl& server, Stream&& stream, std::unique_ptr<ConnectionSlot> slot,
              std::string remote)
        : server_(server),
          ws_(std::move(stream)),
          grace_(ws_.get_executor()),
          slot_(std::move(slot)),
          remote_(std::move(remote)) {}

    ~WsSession() override { finish(); }

    void run(http::request<http::string_body> request) {
        auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
        ws_.set_option(timeouts);
        ws_.read_message_max(server_.options.signaling.max_frame_bytes);
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(http::field::server, "rollcall"); }));
        ws_.async_accept(request, [self = this->shared_from_this()](beast::error_code ec) {
            self->on_accept(ec);
        });
    }

    void send_text(std::string text) override {
        if (close_requested_) return;
        if (queue_.size() >= server_.options.signaling.max_outgoing_queue) {
            // A client that does not read its messages is cut off rather than buffered forever.
            while (queue_.size() > (writing_ ? 1u : 0u)) queue_.pop_back();
            close(CloseCode::policy_violation, "slow consumer");
            return;
        }
        queue_.push_back(Outgoing{std::move(text), std::nullopt});
        write_next();
    }

    void close(CloseCode code, std::string_view reason) override {
        if (close_requested_) return;
        close_requested_ = true;
        queue_.push_back(Outgoing{{},
                                  websocket::close_reason(static_cast<websocket::close_code>(code),
                                                          std::string(reason).substr(0, 120))});
        write_next();
        // If the peer never completes the close handshake, drop the socket.
        grace_.expires_after(server_.options.signaling.close_grace);
        grace_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
            if (!ec) beast::get_lowest_layer(self->ws_).close();
        });
    }

    const std::string& remote_address() const override { return remote_; }

  private:
    struct Outgoing {
        std::string text;
        std::optional<websocket::close_reason> close;
    };

    void on_accept(beast::error_code ec) {
        if (ec) {
            if (!is_disconnect(ec))
                spdlog::debug("websocket accept from {} failed: {}", remote_, ec.message());
            return;
        }
        session_ = server_.hub.on_open(*this, SteadyClock::now());
        opened_ = session_ != 0;
        read();
    }

    void read() {
        ws_.async_read(buffer_, [self = this->shared_from_this()](
                                    beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec) {
            if (ec == websocket::error::message_too_big) {
                spdlog::info("closing signaling connection from {}: frame over {} bytes", remote_,
                             server_.options.signaling.max_frame_bytes);
            } else if (!is_disconnect(ec)) {
                spdlog::debug("signaling read from {} failed: {}", remote_, ec.message());
            }
            finish();
            return;
        }
        if (opened_) {
            const auto data = buffer_.cdata();
            const std::string_view text(static_cast<const char*>(data.data()), data.size());
            if (ws_.got_text()) {
                server_.hub.on_text(session_, text, SteadyClock::now(), unix_now());
            } else {
                server_.hub.on_binary(session_, SteadyClock::now());
            }
        }
        buffer_.consume(buffer_.size());
        read();
    }

    void write_next() {
        if (writing_ || queue_.empty() || finished_) return;
        writing_ = true;
        Outgoing& next = queue_.front();
        if (next.close) {
            ws_.async_close(*next.close, [self = this->shared_from_this()](beast::error_code) {
                self->writing_ = false;
                self->queue_.clear();
            });
            return;
        }
        ws_.text(true);
        ws_.async_write(net::buffer(next.text),
                        [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                            self->writing_ = false;
                            if (ec) {
                                self->queue_.clear();
                                return;  // the pending read fails too and finishes the session
                            }
                            self->queue_.pop_front();
                            self->write_next();
                        });
    }

    // The hub forgets this link exactly once, before it is destroyed.
    void finish() {
        if (finished_) return;
        finished_ = true;
        grace_.cancel();
        if (opened_ && !server_.detached) server_.hub.on_close(session_);
        opened_ = false;
    }

    HttpServer::Impl& server_;
    websocket::stream<Stream> ws_;
    net::steady_timer grace_;
    std::unique_ptr<ConnectionSlot> slot_;
    std::string remote_;
    beast::flat_buffer buffer_;
    std::deque<Outgoing> queue_;
    SessionId session_ = 0;
    bool opened_ = false;
    bool writing_ = false;
    bool close_requested_ = false;
    bool finished_ = false;
};

// Plain HTTP requests on one connection (keep-alive), until one asks for the WebSocket.
template <typename Stream>
class HttpSession final : public std::enable_shared_from_this<HttpSession<Stream>> {
  public:
    HttpSession(HttpServer::Impl& server, Stream&& stream, std::unique_ptr<ConnectionSlot> slot)
        : server_(server),
          stream_(std::move(stream)),
          slot_(std::move(slot)),
          remote_(remote_of(beast::get_lowest_layer(stream_).socket())),
          tick_(stream_.get_executor()) {}

    void read() {
        parser_.emplace();
        exchange::limit(*parser_, server_.options.http);
        beast::get_lowest_layer(stream_).expires_after(server_.options.http.request_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                             self->on_read(ec);
                         });
    }

  private:
    void on_read(beast::error_code ec) {
        if (ec && is_disconnect(ec)) {
            shutdown();
            return;
        }
        if (ec) {
            respond(exchange::parse_failure(ec));
            return;
        }
        exchange::Request request = parser_->release();
        exchange::Step step = exchange::route(request, server_.options, remote_, server_.router,
                                              SteadyClock::now(), unix_now());
        if (step.kind == exchange::Step::Kind::upgrade) {
            beast::get_lowest_layer(stream_)
                .expires_never();  // the WebSocket sets its own timeouts
            std::make_shared<WsSession<Stream>>(server_, std::move(stream_), std::move(slot_),
                                                remote_)
                ->run(std::move(request));
            return;
        }
        if (step.origin_refused) ++server_.stats.connections_refused;
        respond(std::move(step));
    }

    void respond(exchange::Step step) {
        ++server_.stats.http_responses_by_status[step.response.status];
        if (step.response.stream && step.response.status == 200 && !step.head) {
            start_stream(std::move(step));
            return;
        }
        auto res = std::make_shared<exchange::Response>(
            exchange::make_response(std::move(step.response), step, server_.options.hsts));
        http::async_write(
            stream_, *res,
            [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
                if (ec || !res->keep_alive()) {
                    self->shutdown();
                    return;
                }
                self->read();
            });
    }

    // Server-sent events: the header (chunked), the response's body, then whatever the
    // source has once a second until it ends. One write at a time; a client that does not
    // take a chunk within kStreamWriteTimeout is cut off.
    static constexpr auto kStreamInterval = std::chrono::seconds(1);
    static constexpr auto kStreamWriteTimeout = std::chrono::seconds(10);

    void start_stream(exchange::Step step) {
        source_ = std::move(step.response.stream);
        std::string first = std::move(step.response.body);
        step.response.body.clear();
        step.keep_alive = false;  // the response ends the connection
        auto res = std::make_shared<http::response<http::empty_body>>(
            static_cast<http::status>(step.response.status), step.version);
        const exchange::Response plain =
            exchange::make_response(std::move(step.response), step, server_.options.hsts);
        for (const auto& field : plain) {
            if (field.name() != http::field::content_length)
                res->set(field.name_string(), field.value());
        }
        res->chunked(true);
        auto serializer = std::make_shared<http::response_serializer<http::empty_body>>(*res);
        beast::get_lowest_layer(stream_).expires_after(kStreamWriteTimeout);
        http::async_write_header(stream_, *serializer,
                                 [self = this->shared_from_this(), res, serializer,
                                  first = std::move(first)](beast::error_code ec, std::size_t) {
                                     if (ec) return self->shutdown();
                                     self->write_chunk(std::move(first));
                                 });
    }

    void write_chunk(std::string text) {
        if (text.empty()) return wait_tick();
        chunk_ = std::move(text);
        beast::get_lowest_layer(stream_).expires_after(kStreamWriteTimeout);
        net::async_write(stream_, http::make_chunk(net::buffer(chunk_)),
                         [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                             if (ec) return self->shutdown();
                             self->wait_tick();
                         });
    }

    void wait_tick() {
        beast::get_lowest_layer(stream_).expires_never();
        tick_.expires_after(kStreamInterval);
        tick_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
            if (ec) return;
            std::optional<std::string> text = self->source_->next(SteadyClock::now(), unix_now());
            if (!text) return self->end_stream();
            self->write_chunk(std::move(*text));
        });
    }

    void end_stream() {
        beast::get_lowest_layer(stream_).expires_after(kStreamWriteTimeout);
        net::async_write(stream_, http::make_chunk_last(),
                         [self = this->shared_from_this()](beast::error_code, std::size_t) {
                             self->shutdown();
                         });
    }

    void shutdown() {
        source_.reset();
        if constexpr (kIsTls<Stream>) {
            beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
            stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
        } else {
            beast::error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        }
    }

    HttpServer::Impl& server_;
    Stream stream_;
    std::unique_ptr<ConnectionSlot> slot_;
    std::string remote_;
    beast::flat_buffer buffer_;
    std::optional<exchange::RequestParser> parser_;
    net::steady_timer tick_;
    std::shared_ptr<EventStream> source_;  // while a stream is open
    std::string chunk_;                    // the chunk being written
};

}  // namespace rollcall::signaling
