// RTP header and extension parsing over arbitrary datagrams.
#include <cstdint>
#include <vector>

#include "transport/RtpPacket.hpp"

using namespace rollcall::transport;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::uint8_t> copy(data, data + size);
    if (auto packet = RtpPacket::parse(copy)) {
        for (int id = 1; id < 16; ++id) (void)packet->extension(static_cast<std::uint8_t>(id));
        (void)packet->payload();
        packet->set_ssrc(packet->ssrc() + 1);
        packet->set_sequence(static_cast<std::uint16_t>(packet->sequence() + 1));
    }
    return 0;
}
