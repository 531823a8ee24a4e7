#include <gtest/gtest.h>

#include "sfu/RtpRewriter.hpp"

namespace rollcall::sfu {
namespace {

using namespace std::chrono_literals;
using Clock = RtpRewriter::Clock;

constexpr std::uint32_t kOut = 0xC0FFEE;
constexpr std::uint32_t kVideoClock = 90000;

TEST(RtpRewriter, FirstPacketKeepsNumberingButNotTheSsrc) {
    RtpRewriter r(kOut, kVideoClock);
    auto out = r.rewrite(0x1111, 1000, 50000, Clock::now());
    ASSERT_TRUE(out);
    EXPECT_EQ(out->ssrc, kOut);
    EXPECT_EQ(out->sequence, 1000);
    EXPECT_EQ(out->timestamp, 50000u);
}

TEST(RtpRewriter, LossUpstreamIsTheSameGapDownstreamAndNacksMapBack) {
    RtpRewriter r(kOut, kVideoClock);
    const auto t0 = Clock::now();
    r.rewrite(0x1111, 10, 0, t0);
    r.rewrite(0x1111, 11, 3000, t0 + 33ms);
    auto after_gap = r.rewrite(0x1111, 14, 9000, t0 + 99ms);  // 12 and 13 lost upstream
    ASSERT_TRUE(after_gap);
    EXPECT_EQ(after_gap->sequence, 14);
    EXPECT_EQ(r.input_sequence(12), 12);  // a subscriber's NACK for 12 asks the publisher for 12
}

TEST(RtpRewriter, PublisherRestartContinuesSequenceAndTimestamp) {
    RtpRewriter r(kOut, kVideoClock);
    const auto t0 = Clock::now();
    for (int i = 0; i < 10; ++i)
        r.rewrite(0xAAAA, static_cast<std::uint16_t>(1000 + i), 3000u * i, t0 + i * 33ms);
    // The publisher reconnects: new SSRC, sequence and timestamp start anywhere.
    auto first = r.rewrite(0xBBBB, 7, 123456, t0 + 9 * 33ms + 100ms);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->ssrc, kOut);
    EXPECT_EQ(first->sequence, 1010);             // one after the last sent
    EXPECT_EQ(first->timestamp, 27000u + 9000u);  // last timestamp + 100 ms at 90 kHz
    auto second = r.rewrite(0xBBBB, 8, 126456, t0 + 9 * 33ms + 133ms);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->sequence, 1011);
    EXPECT_EQ(second->timestamp, 36000u + 3000u);
    EXPECT_EQ(r.input_sequence(1011), 8);
}

TEST(RtpRewriter, LatePacketsFromBeforeASwitchAreDropped) {
    RtpRewriter r(kOut, kVideoClock);
    const auto t0 = Clock::now();
    r.rewrite(0xAAAA, 100, 0, t0);
    r.rewrite(0xBBBB, 500, 0, t0 + 50ms);
    EXPECT_FALSE(r.rewrite(0xBBBB, 499, 0, t0 + 60ms));  // older than the new anchor
    EXPECT_TRUE(r.rewrite(0xBBBB, 501, 3000, t0 + 70ms));
}

TEST(RtpRewriter, ResumeAfterAPauseLeavesNoHole) {
    RtpRewriter r(kOut, kVideoClock);
    const auto t0 = Clock::now();
    r.rewrite(0xAAAA, 200, 0, t0);
    r.rewrite(0xAAAA, 201, 3000, t0 + 33ms);
    // Paused: 202..299 were not forwarded. Resuming re-anchors.
    r.restart();
    auto resumed = r.rewrite(0xAAAA, 300, 300000, t0 + 2s);
    ASSERT_TRUE(resumed);
    EXPECT_EQ(resumed->sequence, 202);  // no 98-packet hole for the subscriber to NACK
    EXPECT_EQ(resumed->timestamp,
              3000u + static_cast<std::uint32_t>(kVideoClock * 2 - kVideoClock * 33 / 1000));
}

TEST(RtpRewriter, ReorderedPacketsKeepTheirPlaces) {
    RtpRewriter r(kOut, kVideoClock);
    const auto t0 = Clock::now();
    r.rewrite(0xAAAA, 10, 0, t0);
    r.rewrite(0xAAAA, 12, 6000, t0 + 66ms);
    auto late = r.rewrite(0xAAAA, 11, 3000, t0 + 70ms);
    ASSERT_TRUE(late);
    EXPECT_EQ(late->sequence, 11);
    // A switch after the reorder continues after the highest, not the latest.
    auto next = r.rewrite(0xBBBB, 1, 1, t0 + 100ms);
    ASSERT_TRUE(next);
    EXPECT_EQ(next->sequence, 13);
}

TEST(RtpRewriter, WrapsSequenceAndTimestamp) {
    RtpRewriter r(kOut, kVideoClock);
    const auto t0 = Clock::now();
    r.rewrite(0xAAAA, 65534, 0xFFFFF000u, t0);
    r.rewrite(0xAAAA, 65535, 0xFFFFFB00u, t0 + 33ms);
    auto wrapped = r.rewrite(0xAAAA, 0, 0x00000600u, t0 + 66ms);
    ASSERT_TRUE(wrapped);
    EXPECT_EQ(wrapped->sequence, 0);
    auto switched = r.rewrite(0xBBBB, 40000, 5, t0 + 99ms);
    ASSERT_TRUE(switched);
    EXPECT_EQ(switched->sequence, 1);  // one after the wrapped 0
    EXPECT_EQ(switched->timestamp, 0x00000600u + 2970u);
}

TEST(RtpRewriter, SkippedPaddingLeavesNoHoleAndNacksStillMapBack) {
    RtpRewriter r(kOut, kVideoClock);
    const auto t0 = Clock::now();
    r.rewrite(0x1111, 65530, 0, t0);
    r.rewrite(0x1111, 65531, 0, t0);
    for (std::uint16_t p : {65532, 65533, 65534}) r.skip(p);  // a probe: three padding packets
    auto after = r.rewrite(0x1111, 65535, 3000, t0 + 33ms);
    ASSERT_TRUE(after);
    EXPECT_EQ(after->sequence, 65532);
    r.skip(0);  // one more, across the wrap
    auto wrapped = r.rewrite(0x1111, 1, 6000, t0 + 66ms);
    ASSERT_TRUE(wrapped);
    EXPECT_EQ(wrapped->sequence, 65533);
    // A loss after that stays a gap: 2 lost, 3 arrives.
    EXPECT_EQ(r.rewrite(0x1111, 3, 9000, t0 + 99ms)->sequence, 65535);
    // Each output maps back to the packet sent under it.
    EXPECT_EQ(r.input_sequence(65530), 65530);
    EXPECT_EQ(r.input_sequence(65531), 65531);
    EXPECT_EQ(r.input_sequence(65532), 65535);
    EXPECT_EQ(r.input_sequence(65533), 1);
    EXPECT_EQ(r.input_sequence(65534), 2);  // the lost one: a NACK asks upstream for it
    EXPECT_EQ(r.input_sequence(65535), 3);
    // The lost one comes late (a retransmission): it takes the place it was given.
    EXPECT_EQ(r.rewrite(0x1111, 2, 9000, t0 + 120ms)->sequence, 65534);
    // A late padding packet changes nothing.
    r.skip(65533);
    EXPECT_EQ(r.rewrite(0x1111, 4, 12000, t0 + 130ms)->sequence, 0);
}

TEST(RtpRewriter, ForgetsTheOldestSkipsAndDropsWhatWouldMapThere) {
    RtpRewriter r(kOut, kVideoClock);
    const auto t0 = Clock::now();
    std::uint16_t input = 100;
    r.rewrite(0x1111, input++, 0, t0);
    // More separate probes than the mapping remembers, each between two media packets.
    for (std::size_t i = 0; i < RtpRewriter::kStretches + 2; ++i) {
        r.skip(input++);
        auto out = r.rewrite(0x1111, input++, 0, t0);
        ASSERT_TRUE(out);
        EXPECT_EQ(out->sequence, 101 + i);  // always continuous
    }
    EXPECT_FALSE(r.input_sequence(100));  // its stretch is forgotten
    EXPECT_FALSE(r.rewrite(0x1111, 100, 0, t0));
    EXPECT_EQ(r.input_sequence(101 + RtpRewriter::kStretches + 1), input - 1);
}

TEST(RtpRewriter, SkipsBeforeTheFirstPacketDoNothing) {
    RtpRewriter r(kOut, kVideoClock);
    r.skip(5);
    auto out = r.rewrite(0x1111, 6, 0, Clock::now());
    ASSERT_TRUE(out);
    EXPECT_EQ(out->sequence, 6);
}

TEST(RtpRewriter, SerialNumberComparison) {
    EXPECT_TRUE(seq_newer(1, 0));
    EXPECT_TRUE(seq_newer(0, 65535));
    EXPECT_FALSE(seq_newer(65535, 0));
    EXPECT_FALSE(seq_newer(5, 5));
}

}  // namespace
}  // namespace rollcall::sfu
