// SDP parsing over arbitrary text; whatever parses must write and parse again.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "transport/Sdp.hpp"

using namespace rollcall::transport;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string error;
    auto parsed = parse_sdp(std::string_view(reinterpret_cast<const char*>(data), size), error);
    if (parsed) {
        std::string again_error;
        (void)parse_sdp(write_sdp(*parsed), again_error);
    }
    return 0;
}
