#pragma once
// One HTTP exchange without its socket: the parser's limits, what a request that was read (or
// failed to parse) turns into, and the response message. The server's sessions
// (HttpSessions.hpp) and the fuzz target fuzz.http_request run this same code on raw bytes.
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "signaling/HttpMessage.hpp"
#include "signaling/HttpServer.hpp"

namespace rollcall::signaling {

class HttpRouter;

namespace exchange {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using RequestParser = http::request_parser<http::string_body>;
using Response = http::response<http::string_body>;

// A fresh parser for the next request on a connection, bounded by `limits`.
void limit(RequestParser& parser, const HttpLimits& limits);

// What the session does with what it read.
struct Step {
    enum class Kind {
        respond,  // write `response`, then keep reading if `keep_alive`
        upgrade,  // hand the request to the signaling WebSocket
    };
    Kind kind = Kind::respond;
    HttpResponse response;
    unsigned version = 11;
    bool keep_alive = false;
    bool head = false;            // HEAD: headers only
    bool origin_refused = false;  // a WebSocket upgrade from a page not allowed to signal
};

// A read that failed for a reason other than the peer going away: 413, 431 or 400, and the
// connection closes.
Step parse_failure(const boost::system::error_code& ec);

// A request that parsed: /rtc upgrades (if the Origin may signal here), everything else goes
// to `router`. `remote` is the client's address.
Step route(Request& request, const ServerOptions& options, const std::string& remote,
           HttpRouter& router, std::chrono::steady_clock::time_point now, std::int64_t unix_now);

// The response as written to the socket, with the headers every answer carries.
Response make_response(HttpResponse response, const Step& step, bool hsts);

}  // namespace exchange
}  // namespace rollcall::signaling
