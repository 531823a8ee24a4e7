#include <gtest/gtest.h>

#include <vector>

#include "transport/RtcpPacket.hpp"

namespace rollcall::transport {
namespace {

using Bytes = std::vector<std::uint8_t>;

// A compound as Chromium sends it: SR with one report block, then SDES with a CNAME.
const Bytes kSrSdes = {
    0x81, 0xc8, 0x00, 0x0c,  // SR, 1 report block, length 12 words
    0x11, 0x22, 0x33, 0x44,  // sender SSRC
    0xe0, 0x00, 0x00, 0x00,  // NTP seconds
    0x80, 0x00, 0x00, 0x00,  // NTP fraction
    0x00, 0x00, 0x03, 0xe8,  // RTP time 1000
    0x00, 0x00, 0x00, 0x0a,  // packet count 10
    0x00, 0x00, 0x04, 0x00,  // octet count 1024
    0x55, 0x66, 0x77, 0x88,  // report block: SSRC
    0x19, 0xff, 0xff, 0xfe,  //   fraction 25/256, cumulative lost -2
    0x00, 0x01, 0x00, 0x20,  //   highest sequence (cycles 1, seq 32)
    0x00, 0x00, 0x00, 0x07,  //   jitter
    0x00, 0x00, 0x00, 0x08,  //   LSR
    0x00, 0x00, 0x00, 0x09,  //   DLSR
    0x81, 0xca, 0x00, 0x03,  // SDES, 1 chunk, length 3 words
    0x11, 0x22, 0x33, 0x44,  //   SSRC
    0x01, 0x04, 'a',  'b',   //   CNAME "abcd"
    'c',  'd',  0x00, 0x00,  //   end of items, pad
};

TEST(RtcpPacket, SplitsACompound) {
    auto compound = RtcpCompound::parse(kSrSdes);
    ASSERT_TRUE(compound);
    ASSERT_EQ(compound->packets().size(), 2u);
    EXPECT_EQ(compound->packets()[0].type, 200);
    EXPECT_EQ(compound->packets()[1].type, 202);
}

TEST(RtcpPacket, ParsesSenderReport) {
    auto compound = RtcpCompound::parse(kSrSdes);
    auto sr = parse_sender_report(compound->packets()[0]);
    ASSERT_TRUE(sr);
    EXPECT_EQ(sr->ssrc, 0x11223344u);
    EXPECT_EQ(sr->ntp_time, 0xe000000080000000ull);
    EXPECT_EQ(sr->rtp_time, 1000u);
    EXPECT_EQ(sr->packet_count, 10u);
    ASSERT_EQ(sr->reports.size(), 1u);
    EXPECT_EQ(sr->reports[0].ssrc, 0x55667788u);
    EXPECT_EQ(sr->reports[0].fraction_lost, 25);
    EXPECT_EQ(sr->reports[0].cumulative_lost, -2);
    EXPECT_EQ(sr->reports[0].highest_sequence, 0x00010020u);
    EXPECT_EQ(sr->reports[0].delay_since_last_sr, 9u);
}

TEST(RtcpPacket, ParsesSdesCname) {
    auto compound = RtcpCompound::parse(kSrSdes);
    auto chunks = parse_sdes(compound->packets()[1]);
    ASSERT_TRUE(chunks);
    ASSERT_EQ(chunks->size(), 1u);
    EXPECT_EQ(std::string((*chunks)[0].cname.begin(), (*chunks)[0].cname.end()), "abcd");
}

TEST(RtcpPacket, ParsesReceiverReportAndBye) {
    const Bytes bytes = {
        0x80, 0xc9, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05,  // RR, no blocks, SSRC 5
        0x81, 0xcb, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05,  // BYE, 1 SSRC
        0x03, 'b',  'y',  'e',  0x00, 0x00, 0x00, 0x00,  //   reason "bye", pad
    };
    auto compound = RtcpCompound::parse(bytes);
    ASSERT_TRUE(compound);
    auto rr = parse_receiver_report(compound->packets()[0]);
    ASSERT_TRUE(rr);
    EXPECT_EQ(rr->ssrc, 5u);
    EXPECT_TRUE(rr->reports.empty());
    auto bye = parse_bye(compound->packets()[1]);
    ASSERT_TRUE(bye);
    EXPECT_EQ(bye->ssrcs, std::vector<std::uint32_t>{5});
    EXPECT_EQ(std::string(bye->reason.begin(), bye->reason.end()), "bye");
}

TEST(RtcpPacket, ParsesReducedSizeFeedbackAlone) {
    // RFC 5506: a PLI with no SR/RR in front.
    const auto pli = write_pli(0x01, 0x02);
    auto compound = RtcpCompound::parse(pli);
    ASSERT_TRUE(compound);
    ASSERT_EQ(compound->packets().size(), 1u);
    EXPECT_TRUE(is_pli(compound->packets()[0]));
    auto fb = parse_feedback(compound->packets()[0]);
    ASSERT_TRUE(fb);
    EXPECT_EQ(fb->sender_ssrc, 1u);
    EXPECT_EQ(fb->media_ssrc, 2u);
}

TEST(RtcpPacket, NackRoundTrips) {
    const NackItem items[] = {{100, 0b101}, {200, 0}};
    const auto bytes = write_nack(7, 8, items);
    auto compound = RtcpCompound::parse(bytes);
    ASSERT_TRUE(compound);
    EXPECT_TRUE(is_nack(compound->packets()[0]));
    auto parsed = parse_nack(*parse_feedback(compound->packets()[0]));
    ASSERT_TRUE(parsed);
    ASSERT_EQ(parsed->size(), 2u);
    EXPECT_EQ((*parsed)[0].packet_id, 100);
    EXPECT_EQ((*parsed)[0].lost_bitmask, 0b101);
    EXPECT_EQ((*parsed)[1].packet_id, 200);
}

TEST(RtcpPacket, FirRoundTrips) {
    const auto bytes = write_fir(1, 0xabcdef01, 9);
    auto compound = RtcpCompound::parse(bytes);
    ASSERT_TRUE(compound);
    EXPECT_TRUE(is_fir(compound->packets()[0]));
    auto fir = parse_fir(*parse_feedback(compound->packets()[0]));
    ASSERT_TRUE(fir);
    EXPECT_EQ((*fir)[0].ssrc, 0xabcdef01u);
    EXPECT_EQ((*fir)[0].sequence, 9);
}

TEST(RtcpPacket, ParsesRemb) {
    const Bytes bytes = {
        0x8f, 0xce, 0x00, 0x05,  // PSFB FMT 15 (AFB), length 5
        0x00, 0x00, 0x00, 0x01,  // sender
        0x00, 0x00, 0x00, 0x00,  // media source 0
        'R',  'E',  'M',  'B',
        0x01, 0x0b, 0xd0, 0x90,  // 1 SSRC, exp 2, mantissa 0x3d090 = 250000 -> 1,000,000 bps
        0x00, 0x00, 0x00, 0x09,  // SSRC 9
    };
    auto compound = RtcpCompound::parse(bytes);
    ASSERT_TRUE(compound);
    EXPECT_TRUE(is_application_feedback(compound->packets()[0]));
    auto remb = parse_remb(*parse_feedback(compound->packets()[0]));
    ASSERT_TRUE(remb);
    EXPECT_EQ(remb->bitrate_bps, 1000000u);
    EXPECT_EQ(remb->ssrcs, std::vector<std::uint32_t>{9});
}

TEST(RtcpPacket, RefusesWhatOverruns) {
    EXPECT_FALSE(RtcpCompound::parse(Bytes{}));
    EXPECT_FALSE(RtcpCompound::parse(Bytes{0x80, 0xc9, 0x00}));
    EXPECT_FALSE(RtcpCompound::parse(
        Bytes{0x80, 0xc9, 0x00, 0x02, 0, 0, 0, 1}));  // length beyond the datagram
    EXPECT_FALSE(RtcpCompound::parse(Bytes{0x40, 0xc9, 0x00, 0x01, 0, 0, 0, 1}));  // version 1
    EXPECT_FALSE(
        RtcpCompound::parse(Bytes{0x80, 0x60, 0x00, 0x01, 0, 0, 0, 1}));  // an RTP payload type
    EXPECT_FALSE(
        RtcpCompound::parse(Bytes{0xa0, 0xc9, 0x00, 0x01, 0, 0, 0, 0}));  // padding count 0
    EXPECT_FALSE(
        RtcpCompound::parse(Bytes{0xa0, 0xc9, 0x00, 0x01, 0, 0, 0, 9}));  // padding past the header
    Bytes padded_first = {0xa0, 0xc9, 0x00, 0x01, 0, 0, 0, 4, 0x80, 0xc9, 0x00, 0x01, 0, 0, 0, 1};
    EXPECT_FALSE(RtcpCompound::parse(padded_first));  // padding not on the last
    Bytes too_many;
    for (int i = 0; i < 17; ++i)
        too_many.insert(too_many.end(), {0x80, 0xc9, 0x00, 0x01, 0, 0, 0, 1});
    EXPECT_FALSE(RtcpCompound::parse(too_many));
}

TEST(RtcpPacket, TypeParsersRefuseShortBodies) {
    const Bytes rr_claims_block = {0x81, 0xc9, 0x00, 0x01, 0, 0, 0, 1};  // count 1, no block
    auto compound = RtcpCompound::parse(rr_claims_block);
    ASSERT_TRUE(compound);
    EXPECT_FALSE(parse_receiver_report(compound->packets()[0]));
    EXPECT_FALSE(parse_sender_report(compound->packets()[0]));
    const Bytes sdes_unterminated = {0x81, 0xca, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x08, 'a', 'b'};
    EXPECT_FALSE(parse_sdes(RtcpCompound::parse(sdes_unterminated)->packets()[0]));
    const Bytes nack_empty = {0x81, 0xcd, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
    auto fb = parse_feedback(RtcpCompound::parse(nack_empty)->packets()[0]);
    ASSERT_TRUE(fb);
    EXPECT_FALSE(parse_nack(*fb));
    EXPECT_FALSE(parse_remb(*fb));
}

}  // namespace
}  // namespace rollcall::transport
