// DCEP (RFC 8832): DATA_CHANNEL_OPEN parsing. Whatever parses must write back to bytes that
// parse to the same channel.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "transport/Dcep.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace rollcall::transport;
    std::string error;
    const auto open = parse_dcep_open(std::span(data, size), error);
    (void)is_dcep_ack(std::span(data, size));
    if (!open) return 0;
    const auto again = parse_dcep_open(write_dcep_open(*open), error);
    if (!again || again->label != open->label || again->protocol != open->protocol ||
        again->type != open->type || again->reliability_parameter != open->reliability_parameter ||
        again->priority != open->priority)
        std::abort();
    return 0;
}
