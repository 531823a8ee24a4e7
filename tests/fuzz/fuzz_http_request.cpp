// Raw HTTP request bytes, as a client's socket delivers them: Beast's request parser under the
// server's limits, then exchange::route (the WebSocket upgrade and Origin check, or the router:
// /healthz, /metrics, /admin/v1, /dev/token, static files) and exchange::make_response, for up
// to 8 keep-alive requests in one input, delivered in chunks whose size the first byte picks.
// "@ADMIN@" in the input stands for a valid all-rooms admin token, so the fuzzer reaches the
// admin API behind authentication. Every answer must serialize to one well-formed response
// whose status is the router's, and which the bytes of a request never inject a header into.
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include "room/Roster.hpp"
#include "signaling/HttpExchange.hpp"
#include "signaling/HttpRouter.hpp"
#include "signaling/ServerConfig.hpp"
#include "signaling/SignalingHub.hpp"
#include "signaling/Token.hpp"

namespace {

using namespace rollcall::signaling;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

constexpr const char* kKey = "fuzzkey";
constexpr const char* kSecret = "fuzz-secret-fuzz-secret-fuzz-secret-0123";

std::int64_t unix_now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

struct World {
    static ServerConfig make_config() {
        ServerConfig config;
        config.dev = true;
        config.web_root = ROLLCALL_WEB_ROOT;
        return config;
    }
    static TokenKeys keys() {
        TokenKeys k;
        k.hmac_secrets[kKey] = kSecret;
        return k;
    }
    static std::string admin_token() {
        TokenClaims claims;
        claims.grants.room = "*";
        claims.grants.room_admin = true;
        claims.grants.room_list = true;
        claims.expires_at = unix_now() + 24 * 3600;
        return mint_hs256_token(kKey, kSecret, claims);
    }

    ServerConfig config = make_config();
    SignalingStats stats;
    TokenVerifier verifier{keys(), {}};
    rollcall::room::Roster roster{{}};
    SignalingHub hub{config, verifier, roster, stats};
    HttpRouter router{config, verifier, hub, [] { return std::string("rollcall_up 1\n"); }};
    ServerOptions options = [] {
        ServerOptions o;
        o.tls = true;
        o.signaling.allowed_origins = {"https://app.example:8443"};
        return o;
    }();
    std::string admin = admin_token();
};

std::string substitute_admin(std::string_view in, const std::string& token) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size();) {
        if (in.substr(i, 7) == "@ADMIN@") {
            out += token;
            i += 7;
        } else {
            out += in[i++];
        }
    }
    return out;
}

// The response must be one well-formed message with the status the router chose, and no
// header the server did not set (a request's bytes reaching a header value would show here).
void check_response(const exchange::Response& response, int status, bool head) {
    std::ostringstream wire;
    wire << response;
    const std::string bytes = wire.str();
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.skip(head);  // the answer to HEAD announces a body it does not carry
    boost::system::error_code ec;
    const std::size_t used = parser.put(boost::asio::buffer(bytes), ec);
    if (ec || !parser.is_done() || used != bytes.size()) std::abort();
    if (parser.get().result_int() != static_cast<unsigned>(status)) std::abort();
    std::size_t fields = 0;
    for (const auto& field : parser.get()) {
        (void)field;
        ++fields;
    }
    std::size_t expected = 0;
    for (const auto& field : response) {
        (void)field;
        ++expected;
    }
    if (fields != expected) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static auto world = std::make_unique<World>();
    if (size < 2 || size > 64 * 1024) return 0;
    const std::size_t chunk = 1 + data[0] % 64 * (data[0] >= 0x80 ? 64 : 1);
    const std::string input = substitute_admin(
        std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), world->admin);
    std::string_view rest = input;
    for (int exchanged = 0; exchanged < 8; ++exchanged) {
        exchange::RequestParser parser;
        exchange::limit(parser, world->options.http);
        boost::system::error_code ec;
        std::size_t delivered = 0;  // bytes in the read buffer, not yet consumed
        bool starved = true;        // the parser wants bytes the buffer does not hold yet
        while (!parser.is_done()) {
            if (starved) {
                const std::size_t more = std::min(chunk, rest.size() - delivered);
                if (more == 0) {
                    parser.put_eof(ec);
                    if (!ec) ec = http::error::partial_message;
                    break;
                }
                delivered += more;
            }
            const std::size_t used = parser.put(boost::asio::buffer(rest.data(), delivered), ec);
            if (ec == http::error::need_more) ec = {};
            if (ec) break;
            rest.remove_prefix(used);
            delivered -= used;
            starved = used == 0 || delivered == 0;
        }
        exchange::Step step;
        if (ec == http::error::partial_message || ec == http::error::end_of_stream) {
            return 0;  // the client went away mid-request: the session shuts down, no answer
        } else if (ec) {
            step = exchange::parse_failure(ec);
        } else {
            exchange::Request request = parser.release();
            step = exchange::route(request, world->options, "127.0.0.1", world->router,
                                   Clock::now(), unix_now());
            if (step.kind == exchange::Step::Kind::upgrade) return 0;  // the WebSocket's now
        }
        const int status = step.response.status;
        if (status < 100 || status > 599) std::abort();
        const exchange::Response response =
            exchange::make_response(std::move(step.response), step, false);
        check_response(response, status, step.head);
        if (!step.keep_alive) return 0;
    }
    return 0;
}
