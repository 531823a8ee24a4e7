// RTCP compound splitting and every type parser over arbitrary datagrams.
#include <cstdint>
#include <span>

#include "transport/RtcpPacket.hpp"
#include "transport/TransportCc.hpp"

using namespace rollcall::transport;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto compound = RtcpCompound::parse(std::span<const std::uint8_t>(data, size));
    if (!compound) return 0;
    for (const RtcpHeader& header : compound->packets()) {
        (void)parse_sender_report(header);
        (void)parse_receiver_report(header);
        (void)parse_sdes(header);
        (void)parse_bye(header);
        if (auto feedback = parse_feedback(header)) {
            (void)parse_nack(*feedback);
            (void)parse_fir(*feedback);
            (void)parse_remb(*feedback);
            (void)parse_transport_cc(*feedback);
        }
    }
    return 0;
}
