// Request targets: path/query split, percent-decoding, query parameters, bearer headers, and
// the Origin check (the input split at its first newline into Origin and Host).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "room/Grants.hpp"
#include "signaling/HttpMessage.hpp"

using namespace rollcall::signaling;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto [path, query] = split_target(text);
    std::string decoded;
    if (percent_decode(path, decoded) && decoded.find('\0') != std::string::npos) std::abort();
    (void)query_param(query, "reason");
    (void)bearer_token(text);
    (void)rollcall::room::is_valid_room_name(decoded);
    (void)rollcall::room::is_valid_identity(decoded);
    const std::size_t newline = text.find('\n');
    const std::string_view origin = text.substr(0, newline);
    const std::string_view host = newline == std::string_view::npos ? "" : text.substr(newline + 1);
    static const std::vector<std::string> allowed{"https://app.example:8443", "http://localhost"};
    const bool same_site = origin_allowed(origin, host, true, allowed);
    // An origin naming another scheme than the server's is never its own.
    if (same_site && origin.starts_with("http://") && host.size() > 0 && origin.substr(7) == host &&
        origin != "http://localhost")
        std::abort();
    return 0;
}
