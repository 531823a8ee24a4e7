#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "transport/TransportCc.hpp"

namespace rollcall::transport {
namespace {

using Bytes = std::vector<std::uint8_t>;

// The transport-cc message alone in a datagram.
std::optional<TransportCcFeedback> parse_one(std::span<const std::uint8_t> datagram) {
    auto compound = RtcpCompound::parse(datagram);
    if (!compound || compound->packets().size() != 1) return std::nullopt;
    const RtcpHeader& header = compound->packets()[0];
    EXPECT_TRUE(is_transport_cc(header));
    EXPECT_EQ(header.packet.size() % 4, 0u);
    EXPECT_LE(header.packet.size(), TransportCcRecorder::kMaxPacketSize);
    auto feedback = parse_feedback(header);
    if (!feedback) return std::nullopt;
    return parse_transport_cc(*feedback);
}

// Every message the recorder has pending, each parsed as its datagram would be.
std::vector<TransportCcFeedback> drain(TransportCcRecorder& recorder) {
    std::vector<TransportCcFeedback> out;
    std::array<std::uint8_t, 1500> buffer{};
    while (std::size_t size = recorder.write_feedback(7, 9, buffer)) {
        auto message = parse_one(std::span(buffer.data(), size));
        EXPECT_TRUE(message);
        if (!message) break;
        out.push_back(std::move(*message));
    }
    return out;
}

TEST(TransportCc, ParsesARunLengthChunk) {
    const Bytes bytes = {
        0x8f, 0xcd, 0x00, 0x05,                          // RTPFB FMT 15, length 5
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,  // sender and media SSRC
        0x00, 0x10, 0x00, 0x02,                          // base seq 16, status count 2
        0xff, 0xff, 0xfe, 0x03,                          // reference time -2, feedback count 3
        0x20, 0x02, 0x01, 0x01,                          // run of 2 small deltas; 1, 1
    };
    auto twcc = parse_one(bytes);
    ASSERT_TRUE(twcc);
    EXPECT_EQ(twcc->base_sequence, 16);
    EXPECT_EQ(twcc->reference_time, -2);
    EXPECT_EQ(twcc->feedback_count, 3);
    ASSERT_EQ(twcc->packets.size(), 2u);
    EXPECT_EQ(twcc->packets[0].sequence, 16);
    EXPECT_TRUE(twcc->packets[0].received);
    EXPECT_EQ(twcc->packets[0].receive_us, -128'000 + 250);
    EXPECT_EQ(twcc->packets[1].sequence, 17);
    EXPECT_EQ(twcc->packets[1].receive_us, -128'000 + 500);
}

TEST(TransportCc, ParsesVectorChunksAndLargeDeltas) {
    // Five statuses in a two-bit vector: small, missing, large, small, missing.
    const Bytes two_bit = {
        0xaf, 0xcd, 0x00, 0x06,                          // padded, length 6
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,  //
        0x00, 0x64, 0x00, 0x05,                          // base 100, count 5
        0x00, 0x00, 0x01, 0x00,                          // reference 1 (64 ms), count 0
        0xd2, 0x40,                                      // 11 01 00 10 01 00 00 00
        0x04, 0xff, 0xf8, 0x08,                          // +1 ms, -2 ms, +2 ms
        0x00, 0x02,                                      // padding
    };
    auto twcc = parse_one(two_bit);
    ASSERT_TRUE(twcc);
    ASSERT_EQ(twcc->packets.size(), 5u);
    const bool received[] = {true, false, true, true, false};
    const std::int64_t at[] = {65'000, 0, 63'000, 65'000, 0};
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(twcc->packets[i].sequence, 100 + i);
        EXPECT_EQ(twcc->packets[i].received, received[i]) << i;
        if (received[i]) {
            EXPECT_EQ(twcc->packets[i].receive_us, at[i]) << i;
        }
    }
    // Three statuses in a one-bit vector: received, missing, received.
    const Bytes one_bit = {
        0x8f, 0xcd, 0x00, 0x05,                          //
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,  //
        0xff, 0xff, 0x00, 0x03,                          // base 65535, count 3
        0x00, 0x00, 0x00, 0x07,                          //
        0xa8, 0x00,                                      // 1 0 | 1 0 1 0 0…
        0x02, 0x03,                                      // +0.5 ms, +0.75 ms
    };
    twcc = parse_one(one_bit);
    ASSERT_TRUE(twcc);
    ASSERT_EQ(twcc->packets.size(), 3u);
    EXPECT_EQ(twcc->packets[0].sequence, 65535);
    EXPECT_EQ(twcc->packets[1].sequence, 0);  // wraps
    EXPECT_FALSE(twcc->packets[1].received);
    EXPECT_EQ(twcc->packets[2].receive_us, 500 + 750);
}

TEST(TransportCc, RefusesWhatDoesNotAddUp) {
    auto feedback = [](Bytes fci) {
        static Bytes keep;
        keep = std::move(fci);
        return FeedbackHeader{1, 2, keep};
    };
    EXPECT_FALSE(parse_transport_cc(feedback({0, 1, 0, 1, 0, 0, 0})));  // short header
    // Chunks stop before the statuses are all told.
    EXPECT_FALSE(parse_transport_cc(feedback({0, 1, 0, 20, 0, 0, 0, 0, 0x20, 0x05})));
    // Deltas missing.
    EXPECT_FALSE(parse_transport_cc(feedback({0, 1, 0, 2, 0, 0, 0, 0, 0x20, 0x02, 0x01})));
    // The reserved symbol, in a run and in a two-bit vector.
    EXPECT_FALSE(parse_transport_cc(feedback({0, 1, 0, 1, 0, 0, 0, 0, 0x60, 0x01, 0, 0})));
    EXPECT_FALSE(parse_transport_cc(feedback({0, 1, 0, 1, 0, 0, 0, 0, 0xf0, 0x00, 0, 0})));
    // More statuses than any message the server would send, in a few bytes of runs.
    Bytes huge = {0, 1, 0xff, 0xff, 0, 0, 0, 0};
    for (int i = 0; i < 9; ++i) huge.insert(huge.end(), {0x1f, 0xff});
    EXPECT_FALSE(parse_transport_cc(feedback(huge)));
    // A run of missing packets needs no deltas.
    auto missing = parse_transport_cc(feedback({0, 1, 0x1f, 0xff, 0, 0, 0, 0, 0x1f, 0xff}));
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->packets.size(), 8191u);
}

TEST(TransportCc, RecorderReportsWhatArrivedAndWhatDidNot) {
    TransportCcRecorder recorder;
    EXPECT_FALSE(recorder.pending());
    // 65530…65535, 0…9 with 2 and 5 lost and 7 arriving before 6, at irregular times.
    std::map<std::uint16_t, std::int64_t> sent;
    std::int64_t now = 5'000'123;
    for (int i = -6; i < 10; ++i) {
        const auto sequence = static_cast<std::uint16_t>(i);
        now += 3'000 + (i * 977) % 5'000;
        if (i == 2 || i == 5 || i == 6) continue;
        recorder.on_packet(sequence, now);
        sent[sequence] = now;
        if (i == 7) {
            recorder.on_packet(6, now + 40);
            sent[6] = now + 40;
        }
    }
    ASSERT_TRUE(recorder.pending());
    auto all = drain(recorder);
    EXPECT_FALSE(recorder.pending());
    ASSERT_EQ(all.size(), 1u);
    const TransportCcFeedback& twcc = all[0];
    EXPECT_EQ(twcc.base_sequence, 65530);
    ASSERT_EQ(twcc.packets.size(), 16u);
    for (const TransportCcPacket& packet : twcc.packets) {
        auto it = sent.find(packet.sequence);
        EXPECT_EQ(packet.received, it != sent.end()) << packet.sequence;
        if (it == sent.end()) continue;
        // Each delta is rounded to 250 µs, but the rounding never accumulates.
        EXPECT_NEAR(static_cast<double>(packet.receive_us), static_cast<double>(it->second), 125)
            << packet.sequence;
    }
    // Nothing new: nothing to send.
    std::array<std::uint8_t, 1500> out{};
    EXPECT_EQ(recorder.write_feedback(7, 9, out), 0u);
}

TEST(TransportCc, ALatePacketIsReportedAgain) {
    TransportCcRecorder recorder;
    recorder.on_packet(10, 1'000'000);
    recorder.on_packet(12, 1'001'000);
    auto first = drain(recorder);
    ASSERT_EQ(first.size(), 1u);
    ASSERT_EQ(first[0].packets.size(), 3u);
    EXPECT_FALSE(first[0].packets[1].received);
    recorder.on_packet(11, 1'002'000);  // reported missing, then came
    recorder.on_packet(13, 1'003'000);
    auto second = drain(recorder);
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].base_sequence, 11);
    EXPECT_EQ(second[0].feedback_count, first[0].feedback_count + 1);
    ASSERT_EQ(second[0].packets.size(), 3u);
    EXPECT_TRUE(second[0].packets[0].received);
    EXPECT_NEAR(static_cast<double>(second[0].packets[0].receive_us), 1'002'000, 125);
    // Older than the history: ignored.
    recorder.on_packet(static_cast<std::uint16_t>(13 - TransportCcRecorder::kHistory), 1'004'000);
    EXPECT_FALSE(recorder.pending());
}

TEST(TransportCc, SplitsWhatOneMessageCannotCarry) {
    TransportCcRecorder recorder;
    // 2,000 packets alternating ±20 ms apart (every delta large), then a 10 s silence, which
    // no delta can span.
    std::map<std::uint16_t, std::int64_t> sent;
    std::int64_t now = 10'000'000;
    for (std::uint16_t s = 0; s < 2000; ++s) {
        now += (s % 2) ? -20'000 : 21'000;
        recorder.on_packet(s, now);
        sent[s] = now;
    }
    now += 10'000'000;
    recorder.on_packet(2000, now);
    sent[2000] = now;
    auto all = drain(recorder);
    ASSERT_GE(all.size(), 4u);
    std::uint16_t expected = 0;
    std::uint8_t count = all[0].feedback_count;
    for (const TransportCcFeedback& twcc : all) {
        EXPECT_EQ(twcc.base_sequence, expected);
        EXPECT_EQ(twcc.feedback_count, count++);
        for (const TransportCcPacket& packet : twcc.packets) {
            EXPECT_EQ(packet.sequence, expected++);
            ASSERT_TRUE(packet.received);
            EXPECT_NEAR(static_cast<double>(packet.receive_us),
                        static_cast<double>(sent[packet.sequence]), 125);
        }
    }
    EXPECT_EQ(expected, 2001);
}

TEST(TransportCc, KeepsWhatDoesNotFitTheBuffer) {
    TransportCcRecorder recorder;
    for (std::uint16_t s = 0; s < 10; ++s) recorder.on_packet(s, 1'000'000 + s * 1'000);
    std::array<std::uint8_t, 16> small{};
    EXPECT_EQ(recorder.write_feedback(1, 2, small), 0u);
    EXPECT_TRUE(recorder.pending());
    auto all = drain(recorder);
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].packets.size(), 10u);
}

TEST(TransportCc, AJumpAheadReportsOnlyTheWindow) {
    TransportCcRecorder recorder;
    recorder.on_packet(0, 1'000'000);
    drain(recorder);
    recorder.on_packet(30'000, 1'001'000);  // far ahead: everything between is "missing"
    auto all = drain(recorder);
    std::size_t statuses = 0;
    for (const auto& twcc : all) statuses += twcc.packets.size();
    EXPECT_EQ(statuses, TransportCcRecorder::kHistory);
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(all[0].base_sequence, 30'000 - TransportCcRecorder::kHistory + 1);
    EXPECT_TRUE(all.back().packets.back().received);
}

TEST(TransportCc, ReadsTheSequenceFromItsExtension) {
    const std::uint8_t element[] = {0x12, 0x34};
    EXPECT_EQ(transport_cc_sequence(element), 0x1234);
    EXPECT_FALSE(transport_cc_sequence(std::span<const std::uint8_t>(element, 1)));
}

}  // namespace
}  // namespace rollcall::transport
