// Request targets: path/query split, percent-decoding, query parameters, bearer headers.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

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
    return 0;
}
