#include <gtest/gtest.h>

#include <vector>

#include "transport/PacketDemux.hpp"

namespace rollcall::transport {
namespace {

PacketKind kind(std::vector<std::uint8_t> bytes) {
    return PacketDemux::classify(bytes);
}

TEST(PacketDemux, SortsByFirstByteRfc7983) {
    EXPECT_EQ(kind({0x00, 0x01, 0x00, 0x00}), PacketKind::stun);  // Binding Request
    EXPECT_EQ(kind({0x01, 0x01}), PacketKind::stun);              // Binding Success
    EXPECT_EQ(kind({0x16, 0xfe, 0xfd}), PacketKind::dtls);        // handshake, DTLS 1.2
    EXPECT_EQ(kind({0x17, 0xfe, 0xfd}), PacketKind::dtls);        // application data
    EXPECT_EQ(kind({0x10}), PacketKind::zrtp);
    EXPECT_EQ(kind({0x40, 0x00}), PacketKind::turn);
}

TEST(PacketDemux, TellsRtpFromRtcpByPayloadType) {
    std::vector<std::uint8_t> rtp(12, 0);
    rtp[0] = 0x80;  // V=2
    rtp[1] = 0x6f;  // PT 111 (opus), no marker
    EXPECT_EQ(kind(rtp), PacketKind::rtp);
    rtp[1] = 0xe0;  // marker + PT 96
    EXPECT_EQ(kind(rtp), PacketKind::rtp);
    std::vector<std::uint8_t> rtcp = {0x81, 0xc9, 0x00, 0x01, 0, 0, 0, 1};  // RR, count 1
    EXPECT_EQ(kind(rtcp), PacketKind::rtcp);
    rtcp[1] = 0xcd;  // transport feedback (205)
    EXPECT_EQ(kind(rtcp), PacketKind::rtcp);
}

TEST(PacketDemux, RefusesTruncatedAndForeignBytes) {
    EXPECT_EQ(kind({}), PacketKind::unknown);
    EXPECT_EQ(kind({0x80}), PacketKind::unknown);
    EXPECT_EQ(kind({0x80, 0x6f, 0, 0}), PacketKind::unknown);  // RTP shorter than its header
    EXPECT_EQ(kind({0x81, 0xc9, 0}), PacketKind::unknown);     // RTCP shorter than its header
    EXPECT_EQ(kind({0x04}), PacketKind::unknown);
    EXPECT_EQ(kind({0x50}), PacketKind::unknown);
    EXPECT_EQ(kind({0xff, 0xff}), PacketKind::unknown);
}

}  // namespace
}  // namespace rollcall::transport
