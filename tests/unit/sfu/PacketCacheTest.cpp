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

// A second of packets at the stream's own rate, then the next second: what it holds after.
std::size_t capacity_for(int packets_per_second) {
    PacketCache cache(PacketCache::Sizing{});
    auto now = PacketCache::Clock::now();
    const auto gap = std::chrono::microseconds(1000000 / packets_per_second);
    std::uint16_t sequence = 65000;  // across the wrap
    for (int i = 0; i < 3 * packets_per_second; ++i, now += gap) {
        cache.store(sequence, packet(sequence), now);
        ++sequence;
    }
    // Everything of the last second is still there.
    for (int back = 1; back <= std::min(packets_per_second, 512); ++back) {
        const auto s = static_cast<std::uint16_t>(sequence - back);
        EXPECT_TRUE(cache.find(s)) << packets_per_second << " packets/s, " << back << " back";
    }
    return cache.capacity();
}

TEST(PacketCache, IsSizedToAboutASecondOfItsStream) {
    EXPECT_EQ(capacity_for(15), 32u);  // low-resolution video: ~48 KB
    EXPECT_EQ(capacity_for(30), 32u);
    EXPECT_EQ(capacity_for(100), 128u);   // ~1 Mbit/s
    EXPECT_EQ(capacity_for(250), 256u);   // ~2.5 Mbit/s
    EXPECT_EQ(capacity_for(2000), 512u);  // never past the maximum
}

TEST(PacketCache, GrowingKeepsWhatItHeld) {
    PacketCache cache(PacketCache::Sizing{4, 16, std::chrono::milliseconds(1000)});
    const auto now = PacketCache::Clock::now();
    for (std::uint16_t s = 10; s < 20; ++s) cache.store(s, packet(s), now);
    EXPECT_EQ(cache.capacity(), 16u);
    for (std::uint16_t s = 10; s < 20; ++s) {
        auto found = cache.find(s);
        ASSERT_TRUE(found) << s;
        EXPECT_EQ((*found)[3], static_cast<std::uint8_t>(s));
    }
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
