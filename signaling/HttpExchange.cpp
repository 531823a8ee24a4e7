#include "signaling/HttpExchange.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "signaling/HttpRouter.hpp"

namespace rollcall::signaling::exchange {

void limit(RequestParser& parser, const HttpLimits& limits) {
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
}

Step parse_failure(const boost::system::error_code& ec) {
    Step step;
    if (ec == http::error::body_limit) {
        step.response = error_response(413, "body_too_large", "the request body is too large");
    } else if (ec == http::error::header_limit) {
        step.response =
            error_response(431, "headers_too_large", "the request headers are too large");
    } else {
        step.response = error_response(400, "bad_request", "the request could not be parsed");
    }
    return step;
}

Step route(Request& request, const ServerOptions& options, const std::string& remote,
           HttpRouter& router, std::chrono::steady_clock::time_point now, std::int64_t unix_now) {
    Step step;
    step.version = request.version();
    const auto [path, query] = split_target(request.target());
    const std::string origin(request[http::field::origin]);
    const std::string host(request[http::field::host]);
    if (path == "/rtc" && boost::beast::websocket::is_upgrade(request)) {
        if (origin_allowed(origin, host, options.tls, options.signaling.allowed_origins)) {
            step.kind = Step::Kind::upgrade;
            return step;
        }
        step.origin_refused = true;
        step.response =
            error_response(403, "origin_not_allowed",
                           "pages from " + origin.substr(0, 128) + " may not open signaling here");
        return step;
    }
    HttpRequest plain;
    plain.method = std::string(request.method_string());
    plain.target = std::string(request.target());
    plain.authorization = std::string(request[http::field::authorization]);
    plain.content_type = std::string(request[http::field::content_type]);
    plain.body = std::move(request.body());
    plain.remote_address = remote;
    plain.origin = origin;
    plain.host = host;
    step.response = router.handle(plain, now, unix_now);
    step.keep_alive = request.keep_alive();
    step.head = request.method() == http::verb::head;
    return step;
}

Response make_response(HttpResponse response, const Step& step, bool hsts) {
    Response res(static_cast<http::status>(response.status), step.version);
    res.set(http::field::server, "rollcall");
    res.set(http::field::content_type, response.content_type);
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    if (hsts) res.set(http::field::strict_transport_security, "max-age=31536000");
    bool cache_set = false;
    for (auto& [name, value] : response.headers) {
        cache_set = cache_set || boost::beast::iequals(name, "Cache-Control");
        res.set(name, value);
    }
    if (!cache_set) res.set(http::field::cache_control, "no-store");
    res.keep_alive(step.keep_alive);
    res.body() = std::move(response.body);
    res.prepare_payload();
    if (step.head) res.body().clear();
    return res;
}

}  // namespace rollcall::signaling::exchange
