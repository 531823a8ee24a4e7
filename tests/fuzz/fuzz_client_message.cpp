// Signaling message parsing over arbitrary bytes.
#include <cstdint>
#include <string_view>

#include "signaling/ClientMessage.hpp"

using namespace rollcall::signaling;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    ParseFailure failure;
    if (auto message = parse_client_message(text, failure)) {
        (void)to_text(message->body);  // whatever parsed must serialise back
    }
    (void)json_depth_within(text, kMaxJsonDepth);
    return 0;
}
