#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rollcall::signaling {

// A request as the router sees it, free of the HTTP library's types.
struct HttpRequest {
    std::string method;  // "GET", "DELETE", ...
    std::string target;  // path and query, as sent
    std::string authorization;
    std::string content_type;
    std::string body;
    std::string remote_address;
    std::string origin;  // the Origin header, "" when absent
    std::string host;    // the Host header
};

// Whether a request's Origin may use the signaling endpoints: absent (not a page), the
// server's own origin (`tls` says its scheme; `host` is the Host header), or one in `allowed`.
bool origin_allowed(std::string_view origin, std::string_view host, bool tls,
                    const std::vector<std::string>& allowed);

// A response that goes on (server-sent events): the session writes the response's body, then
// calls next() about once a second and writes what it returns ("" writes nothing this time);
// nullopt ends the response. Runs on the signaling thread, like everything here.
class EventStream {
  public:
    virtual ~EventStream() = default;
    virtual std::optional<std::string> next(std::chrono::steady_clock::time_point now,
                                            std::int64_t unix_now) = 0;
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::shared_ptr<EventStream> stream;  // set: the body is only the start
};

HttpResponse json_response(int status, const nlohmann::json& body);
// Every HTTP error has a JSON body: {"code": "...", "message": "..."}.
HttpResponse error_response(int status, std::string_view code, std::string_view message);

// Splits "/a/b%20c?x=1" into path "/a/b%20c" and query "x=1".
std::pair<std::string_view, std::string_view> split_target(std::string_view target) noexcept;
// Percent-decodes a path segment (or, with plus_is_space, a query value); false for a bad
// escape or a NUL.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space = false);
// The value of `key` in an application/x-www-form-urlencoded query, decoded.
std::string query_param(std::string_view query, std::string_view key);
// The token from "Authorization: Bearer <token>", empty if there is none.
std::string_view bearer_token(std::string_view authorization) noexcept;

}  // namespace rollcall::signaling
