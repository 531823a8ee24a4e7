#include <gtest/gtest.h>

#include <vector>

#include "sfu/PacketCache.hpp"

namespace rollcall::sfu {
namespace {

using namespace std::chrono_literals;

std::vector<std::uint8_t> packet(std::uint16_t sequence, std::size_t size = 100) {
    std::vector<std::uint8_t> p(size, static_cast<std::uint8_t>(sequence));
    p[0] = 0x80;
    p[2] = static_cast<std::uint8_t>(sequence >> 8);
    p[3] = static_cast<std::uint8_t>(sequence);
    return p;
}

TEST(PacketCache, FindsWhatItHolds) {
    PacketCache cache(8);
    const auto p = packet(42);
    cache.store(42, p);
    auto found = cache.find(42);
    ASSERT_TRUE(found);
    EXPECT_EQ(std::vector<std::uint8_t>(found->begin(), found->end()), p);
    EXPECT_FALSE(cache.find(43));
}

TEST(PacketCache, ForgetsWhatWasOverwritten) {
    PacketCache cache(8);
    for (std::uint16_t s = 0; s < 20; ++s) cache.store(s, packet(s));
    EXPECT_FALSE(cache.find(3));  // slot 3 now holds 11, then 19
    EXPECT_TRUE(cache.find(19));
    EXPECT_TRUE(cache.find(12));
    EXPECT_FALSE(cache.find(11));
}

TEST(PacketCache, HandlesSequenceWrap) {
    PacketCache cache(512);
    cache.store(65535, packet(65535));
    cache.store(0, packet(0));
    EXPECT_TRUE(cache.find(65535));
    EXPECT_TRUE(cache.find(0));
}

TEST(PacketCache, RefusesOversizedPacketsAndClears) {
    PacketCache cache(8);
    cache.store(1, packet(1, PacketCache::kMaxPacket + 1));
    EXPECT_FALSE(cache.find(1));
    cache.store(2, packet(2));
    cache.clear();
    EXPECT_FALSE(cache.find(2));
}

TEST(KeyframeRequestPacer, OneRequestPerInterval) {
    KeyframeRequestPacer pacer(300ms);
    const auto t0 = KeyframeRequestPacer::Clock::now();
    EXPECT_TRUE(pacer.should_request(t0));
    EXPECT_FALSE(pacer.should_request(t0 + 100ms));  // three subscribers join together
    EXPECT_FALSE(pacer.should_request(t0 + 299ms));
    EXPECT_TRUE(pacer.should_request(t0 + 300ms));
    EXPECT_EQ(pacer.sent(), 2u);
    EXPECT_EQ(pacer.suppressed(), 2u);
    EXPECT_EQ(pacer.next_fir_sequence(), 0);
    EXPECT_EQ(pacer.next_fir_sequence(), 1);
}

}  // namespace
}  // namespace rollcall::sfu
