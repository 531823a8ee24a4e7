#include <gtest/gtest.h>

#include <vector>

#include "sfu/Consumer.hpp"
#include "sfu/Producer.hpp"
#include "transport/ByteOrder.hpp"
#include "transport/MediaTally.hpp"

namespace rollcall::sfu {
namespace {

using namespace std::chrono_literals;
using transport::MediaKind;
using transport::RtpPacket;

constexpr std::uint32_t kPublisherSsrc = 0x11111111;
constexpr std::uint8_t kPublisherPt = 97;

struct FakeUpstream final : ProducerUpstream {
    std::vector<std::uint32_t> keyframe_requests;
    void send_keyframe_request(std::uint32_t media_ssrc) override {
        keyframe_requests.push_back(media_ssrc);
    }
};

struct FakeDownstream final : ConsumerDownstream {
    std::vector<std::vector<std::uint8_t>> rtp;
    std::vector<std::vector<std::uint8_t>> rtcp;
    bool send_rtp(std::span<const std::uint8_t> packet) override {
        rtp.emplace_back(packet.begin(), packet.end());
        return true;
    }
    bool send_rtcp(std::span<const std::uint8_t> packet) override {
        rtcp.emplace_back(packet.begin(), packet.end());
        return true;
    }
};

Producer::Spec video_spec() {
    Producer::Spec spec;
    spec.track_id = "TR_video";
    spec.mid = "1";
    spec.kind = MediaKind::video;
    spec.ssrc = kPublisherSsrc;
    spec.codec.payload_type = kPublisherPt;
    spec.codec.name = "VP8";
    spec.codec.clock_rate = 90000;
    return spec;
}

// An RTP packet from the publisher: a one-byte header extension block (id 1, 1 byte) and
// `payload_size` bytes of payload valued `fill`.
std::vector<std::uint8_t> publisher_packet(std::uint16_t sequence, std::uint32_t timestamp,
                                           std::uint8_t fill = 0xAB, std::size_t payload_size = 20,
                                           std::uint8_t pt = kPublisherPt) {
    std::vector<std::uint8_t> bytes(12 + 8 + payload_size, fill);
    bytes[0] = 0x90;  // V=2, X=1
    bytes[1] = pt;
    transport::store_u16(&bytes[2], sequence);
    transport::store_u32(&bytes[4], timestamp);
    transport::store_u32(&bytes[8], kPublisherSsrc);
    const std::uint8_t extension[8] = {0xBE, 0xDE, 0x00, 0x01, 0x10, 0x7F, 0x00, 0x00};
    std::copy(std::begin(extension), std::end(extension), bytes.begin() + 12);
    return bytes;
}

void feed(Producer& producer, std::vector<std::uint8_t> bytes, Clock::time_point now) {
    auto packet = RtpPacket::parse(std::span<std::uint8_t>(bytes));
    ASSERT_TRUE(packet);
    producer.receive(*packet, now);
}

RtpPacket parsed(std::vector<std::uint8_t>& bytes) {
    auto packet = RtpPacket::parse(std::span<std::uint8_t>(bytes));
    EXPECT_TRUE(packet);
    return *packet;
}

// The publisher's sender report (the middle 32 bits of its NTP time: 0x456789AB).
transport::SenderReport publisher_sender_report() {
    transport::SenderReport sr;
    sr.ssrc = kPublisherSsrc;
    sr.ntp_time = 0x0123456789ABCDEFull;
    sr.rtp_time = 1500;
    return sr;
}

Consumer::Spec consumer_spec(std::uint32_t ssrc) {
    return {"0", ssrc, 96, ssrc + 1, 98};
}

TEST(Producer, ForwardsToEachActiveConsumerWithItsOwnSsrcPayloadTypeAndNoExtensions) {
    FakeUpstream upstream;
    Producer producer(video_spec(), 1, upstream);
    FakeDownstream a, b, idle;
    Consumer ca(producer, consumer_spec(0xA0), a);
    Consumer cb(producer, consumer_spec(0xB0), b);
    Consumer ci(producer, consumer_spec(0xC0), idle);
    const auto t0 = Clock::now();
    ca.activate(false, true, t0);
    cb.activate(false, true, t0);
    feed(producer, publisher_packet(500, 9000), t0);

    ASSERT_EQ(a.rtp.size(), 1u);
    ASSERT_EQ(b.rtp.size(), 1u);
    EXPECT_TRUE(idle.rtp.empty()) << "an inactive consumer (not yet answered) gets nothing";
    for (auto* sink : {&a, &b}) {
        auto out = parsed(sink->rtp[0]);
        EXPECT_FALSE(out.has_extensions())
            << "publisher-leg header extensions never reach subscribers";
        EXPECT_EQ(out.payload_type(), 96);
        EXPECT_EQ(out.sequence(), 500);
        EXPECT_EQ(out.timestamp(), 9000u);
        EXPECT_EQ(out.payload().size(), 20u);
        EXPECT_EQ(out.payload()[0], 0xAB);
    }
    EXPECT_EQ(parsed(a.rtp[0]).ssrc(), 0xA0u);
    EXPECT_EQ(parsed(b.rtp[0]).ssrc(), 0xB0u);
}

TEST(Producer, DropsPayloadTypesThatWereNotNegotiated) {
    FakeUpstream upstream;
    Producer producer(video_spec(), 1, upstream);
    FakeDownstream sink;
    Consumer consumer(producer, consumer_spec(0xA0), sink);
    consumer.activate(false, true, Clock::now());
    feed(producer, publisher_packet(1, 0, 0xAB, 20, /*pt=*/100), Clock::now());
    EXPECT_TRUE(sink.rtp.empty());
    EXPECT_EQ(producer.packets_dropped(), 1u);
}

TEST(Producer, KeyframeRequestsArePacedAndASuppressedOneIsSentLaterNotLost) {
    FakeUpstream upstream;
    Producer producer(video_spec(), 1, upstream);
    const auto t0 = Clock::now();
    producer.request_keyframe(t0);
    producer.request_keyframe(t0 + 50ms);  // inside the 350 ms interval: deferred
    EXPECT_EQ(upstream.keyframe_requests.size(), 1u);
    feed(producer, publisher_packet(1, 0), t0 + 100ms);
    EXPECT_EQ(upstream.keyframe_requests.size(), 1u) << "still inside the interval";
    feed(producer, publisher_packet(2, 3000), t0 + 370ms);
    ASSERT_EQ(upstream.keyframe_requests.size(), 2u)
        << "the deferred request goes out once the interval ends";
    EXPECT_EQ(upstream.keyframe_requests[1], kPublisherSsrc);
    feed(producer, publisher_packet(3, 6000), t0 + 700ms);
    EXPECT_EQ(upstream.keyframe_requests.size(), 2u) << "and only once";
}

TEST(Producer, ConsumerAsksForAKeyframeOnlyOnceItsTransportIsUp) {
    FakeUpstream upstream;
    Producer producer(video_spec(), 1, upstream);
    FakeDownstream sink;
    Consumer consumer(producer, consumer_spec(0xA0), sink);
    consumer.activate(false, /*connected=*/false, Clock::now());
    EXPECT_TRUE(upstream.keyframe_requests.empty()) << "a keyframe sent now would be lost";
}

TEST(Producer, AudioProducersNeverAskForKeyframesAndKeepNoCache) {
    FakeUpstream upstream;
    Producer::Spec spec = video_spec();
    spec.kind = MediaKind::audio;
    Producer producer(spec, 1, upstream);
    producer.request_keyframe(Clock::now());
    EXPECT_TRUE(upstream.keyframe_requests.empty());
    EXPECT_EQ(producer.cache(), nullptr);
}

TEST(Producer, AllocatesItsNackCacheOnlyOnceVideoFlowsToSomeone) {
    FakeUpstream upstream;
    Producer producer(video_spec(), 1, upstream);
    EXPECT_EQ(producer.cache(), nullptr) << "published, nothing received yet";
    const auto t0 = Clock::now();
    feed(producer, publisher_packet(1, 3000), t0);
    EXPECT_EQ(producer.cache(), nullptr) << "nobody watches";
    FakeDownstream sink;
    Consumer consumer(producer, consumer_spec(0xA0), sink);
    consumer.activate(true, true, t0);
    feed(producer, publisher_packet(2, 6000), t0);
    ASSERT_NE(producer.cache(), nullptr);
    EXPECT_TRUE(producer.cache()->find(2).has_value());
}

TEST(Consumer, NackIsAnsweredFromTheCacheOnRtxWithTheOriginalSequenceNumber) {
    FakeUpstream upstream;
    Producer producer(video_spec(), 1, upstream);
    FakeDownstream sink;
    Consumer consumer(producer, consumer_spec(0xA0), sink);
    const auto t0 = Clock::now();
    consumer.activate(/*rtx=*/true, true, t0);
    for (std::uint16_t seq = 100; seq < 105; ++seq)
        feed(producer, publisher_packet(seq, seq * 3000u, static_cast<std::uint8_t>(seq)), t0);
    ASSERT_EQ(sink.rtp.size(), 5u);
    const std::uint16_t lost = parsed(sink.rtp[2]).sequence();

    const transport::NackItem nack{lost, 0b1};  // `lost` and the one after it
    consumer.on_nack(std::span(&nack, 1), t0);
    ASSERT_EQ(sink.rtp.size(), 7u);
    EXPECT_EQ(consumer.retransmissions(), 2u);
    for (int i = 0; i < 2; ++i) {
        auto rtx = parsed(sink.rtp[5 + i]);
        EXPECT_EQ(rtx.ssrc(), 0xA1u);
        EXPECT_EQ(rtx.payload_type(), 98);
        EXPECT_EQ(rtx.sequence(), i) << "RTX has its own sequence space";
        const auto payload = rtx.payload();
        ASSERT_EQ(payload.size(), 22u);
        EXPECT_EQ(transport::load_u16(payload.data()), lost + i)
            << "the original sequence number leads the payload";
        EXPECT_EQ(payload[2], static_cast<std::uint8_t>(102 + i)) << "then the original payload";
        EXPECT_EQ(rtx.timestamp(), parsed(sink.rtp[2 + i]).timestamp());
    }
}

TEST(Consumer, NoRetransmissionWithoutRtxOrForPacketsNoLongerCached) {
    FakeUpstream upstream;
    Producer producer(video_spec(), 1, upstream);
    FakeDownstream plain, with_rtx;
    Consumer no_rtx(producer, consumer_spec(0xA0), plain);
    Consumer rtx(producer, consumer_spec(0xB0), with_rtx);
    const auto t0 = Clock::now();
    no_rtx.activate(false, true, t0);
    rtx.activate(true, true, t0);
    for (std::uint16_t seq = 0; seq < 600; ++seq)
        feed(producer, publisher_packet(seq, seq * 3000u), t0);
    const transport::NackItem old{parsed(with_rtx.rtp[0]).sequence(),
                                  0};  // evicted from the 512-slot cache
    const transport::NackItem recent{parsed(with_rtx.rtp[599]).sequence(), 0};
    no_rtx.on_nack(std::span(&recent, 1), t0);
    rtx.on_nack(std::span(&old, 1), t0);
    EXPECT_EQ(plain.rtp.size(), 600u);
    EXPECT_EQ(with_rtx.rtp.size(), 600u);
    rtx.on_nack(std::span(&recent, 1), t0);
    EXPECT_EQ(with_rtx.rtp.size(), 601u);
}

// NACK amplification: ~400 identical FCI entries with every bit set, 100 times over, must not
// make the server resend thousands of packets. Each packet is resent at most once per
// interval, and what is resent comes out of a budget earned by forwarding.
TEST(Consumer, ANackFloodIsBoundedByDedupResendIntervalAndBudget) {
    FakeUpstream upstream;
    Producer producer(video_spec(), 1, upstream);
    FakeDownstream sink;
    Consumer consumer(producer, consumer_spec(0xA0), sink);
    const auto t0 = Clock::now();
    consumer.activate(/*rtx=*/true, true, t0);
    std::size_t forwarded_bytes = 0;
    for (std::uint16_t seq = 0; seq < 400; ++seq) {
        feed(producer, publisher_packet(seq, seq * 3000u, 0xAB, 1000), t0);
        forwarded_bytes += sink.rtp.back().size();
    }
    const std::uint16_t first = parsed(sink.rtp[100]).sequence();
    std::vector<transport::NackItem> flood(400, transport::NackItem{first, 0xFFFF});
    for (int i = 0; i < 100; ++i) consumer.on_nack(flood, t0 + std::chrono::milliseconds(i / 10));
    EXPECT_EQ(consumer.retransmissions(), 17u) << "17 distinct packets, each resent once";
    EXPECT_GT(consumer.retransmissions_refused(), 0u);

    // Many distinct packets at once: the budget caps the bytes, whatever is asked.
    const auto later = t0 + std::chrono::seconds(1);
    for (int round = 0; round < 20; ++round) {
        std::vector<transport::NackItem> wide;
        for (int i = 0; i < 4; ++i) {
            wide.push_back(
                {static_cast<std::uint16_t>(parsed(sink.rtp[0]).sequence() + (round * 4 + i) * 4),
                 0x7});
        }
        consumer.on_nack(wide, later);
    }
    const double earned =
        Consumer::kRtxInitial + Consumer::kRtxShare * static_cast<double>(forwarded_bytes);
    EXPECT_LE(static_cast<double>(consumer.retransmission_bytes()),
              std::min(earned, Consumer::kRtxBurst + Consumer::kRtxInitial));
    EXPECT_LT(consumer.retransmissions(), 17u + 320u)
        << "not every one of 320 asked-for packets was resent";

    // After the interval, and with budget earned again by forwarding, a real loss is repaired.
    for (std::uint16_t seq = 400; seq < 500; ++seq)
        feed(producer, publisher_packet(seq, seq * 3000u, 0xAB, 1000), later);
    const std::size_t before = consumer.retransmissions();
    const transport::NackItem one{parsed(sink.rtp.back()).sequence(), 0};
    consumer.on_nack(std::span(&one, 1), later + std::chrono::seconds(1));
    EXPECT_EQ(consumer.retransmissions(), before + 1);
}

TEST(Consumer, PausingThenResumingContinuesTheSequenceWithoutAGap) {
    FakeUpstream upstream;
    Producer producer(video_spec(), 1, upstream);
    FakeDownstream sink;
    Consumer consumer(producer, consumer_spec(0xA0), sink);
    const auto t0 = Clock::now();
    consumer.activate(false, true, t0);
    feed(producer, publisher_packet(10, 1000), t0);
    feed(producer, publisher_packet(11, 4000), t0 + 33ms);
    consumer.pause();
    for (std::uint16_t seq = 12; seq < 40; ++seq)
        feed(producer, publisher_packet(seq, seq * 3000u), t0 + 40ms);
    consumer.activate(false, true, t0 + 1s);
    feed(producer, publisher_packet(40, 120000), t0 + 1s);
    ASSERT_EQ(sink.rtp.size(), 3u);
    EXPECT_EQ(parsed(sink.rtp[2]).sequence(), 12) << "the subscriber sees no hole to NACK for";
    EXPECT_GT(parsed(sink.rtp[2]).timestamp(), 4000u);
}

TEST(Consumer, TranslatesThePublishersSenderReportOntoItsOwnTimeline) {
    FakeUpstream upstream;
    Producer producer(video_spec(), 1, upstream);
    FakeDownstream sink;
    Consumer consumer(producer, consumer_spec(0xA0), sink);
    const auto t0 = Clock::now();
    consumer.activate(false, true, t0);
    feed(producer, publisher_packet(10, 1000), t0);
    const transport::SenderReport sr = publisher_sender_report();
    producer.on_sender_report(sr, t0);
    ASSERT_EQ(sink.rtcp.size(), 1u);
    auto compound = transport::RtcpCompound::parse(sink.rtcp[0]);
    ASSERT_TRUE(compound);
    auto out = transport::parse_sender_report(compound->packets()[0]);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->ssrc, 0xA0u);
    EXPECT_EQ(out->ntp_time, sr.ntp_time);
    EXPECT_EQ(out->rtp_time, 1500u);
    EXPECT_EQ(out->packet_count, 1u);
    EXPECT_EQ(out->octet_count, 20u);
}

TEST(Consumer, ReceiverReportsGiveLossJitterAndRoundTripTimeAgainstOurSenderReport) {
    FakeUpstream upstream;
    Producer producer(video_spec(), 1, upstream);
    FakeDownstream sink;
    Consumer consumer(producer, consumer_spec(0xA0), sink);
    const auto t0 = Clock::now();
    consumer.activate(false, true, t0);
    feed(producer, publisher_packet(10, 1000), t0);
    const transport::SenderReport sr = publisher_sender_report();
    producer.on_sender_report(sr, t0);
    ASSERT_EQ(sink.rtcp.size(), 1u);

    const transport::MediaTally before = transport::media_tally();
    transport::ReportBlock block;
    block.ssrc = 0xA0;
    block.fraction_lost = 64;  // a quarter
    block.jitter = 900;        // 10 ms at 90 kHz
    block.last_sr = 0x456789AB;
    block.delay_since_last_sr = 65536 / 100;  // 10 ms held by the subscriber
    consumer.on_receiver_report(block, t0 + 60ms);
    const StreamStats& stats = consumer.stream_stats();
    EXPECT_DOUBLE_EQ(stats.loss, 0.25);
    EXPECT_DOUBLE_EQ(stats.jitter_ms, 10.0);
    EXPECT_NEAR(stats.rtt_ms, 50.0, 0.1);
    const transport::MediaTally& after = transport::media_tally();
    const auto leg = static_cast<std::size_t>(transport::Leg::subscriber);
    EXPECT_EQ(after.loss[leg].count, before.loss[leg].count + 1);
    EXPECT_EQ(after.jitter[leg].count, before.jitter[leg].count + 1);
    EXPECT_EQ(after.rtt.count, before.rtt.count + 1);

    // A report on a sender report we never sent gives no round trip.
    block.last_sr = 0x11112222;
    consumer.on_receiver_report(block, t0 + 2s);
    EXPECT_NEAR(stats.rtt_ms, 50.0, 0.1);
    EXPECT_EQ(transport::media_tally().rtt.count, before.rtt.count + 1);
}

TEST(Producer, CountsWhatArrivesAndTheBitrateAndTheTallyByKind) {
    FakeUpstream upstream;
    Producer producer(video_spec(), 1, upstream);
    FakeDownstream sink;
    Consumer consumer(producer, consumer_spec(0xA0), sink);
    const auto t0 = Clock::now();
    const transport::MediaTally before = transport::media_tally();
    consumer.activate(false, true, t0);
    producer.update_rate(t0);
    consumer.update_rate(t0);
    // 100 packets of 40 bytes over a second, with every fifth one lost.
    std::uint16_t sequence = 100;
    for (int i = 0; i < 125; ++i, ++sequence) {
        if (i % 5 == 4) continue;
        feed(producer, publisher_packet(sequence, 3000 * i), t0 + i * 8ms);
    }
    producer.update_rate(t0 + 1s);
    consumer.update_rate(t0 + 1s);
    const StreamStats& in = producer.stream_stats();
    EXPECT_EQ(in.packets, 100u);
    EXPECT_EQ(in.bytes, 100u * 40);
    EXPECT_DOUBLE_EQ(in.bitrate_bps, 100 * 40 * 8);
    ASSERT_TRUE(producer.report_block(t0 + 1s));
    EXPECT_NEAR(producer.stream_stats().loss, 24.0 / 124, 0.01);  // the first is the base
    // Forwarded without the 8-byte extension block.
    EXPECT_EQ(consumer.stream_stats().packets, 100u);
    EXPECT_DOUBLE_EQ(consumer.stream_stats().bitrate_bps, 100 * 32 * 8);

    const transport::MediaTally& after = transport::media_tally();
    EXPECT_EQ(after.rtp_packets_in[1] - before.rtp_packets_in[1], 100u);
    EXPECT_EQ(after.rtp_bytes_in[1] - before.rtp_bytes_in[1], 4000u);
    EXPECT_EQ(after.rtp_packets_out[1] - before.rtp_packets_out[1], 100u);
    EXPECT_EQ(after.rtp_packets_in[0], before.rtp_packets_in[0]);  // nothing counted as audio
    EXPECT_EQ(after.pli_sent - before.pli_sent, upstream.keyframe_requests.size());
    EXPECT_EQ(in.keyframe_requests, upstream.keyframe_requests.size());
}

TEST(ReceiveStatistics, ReportsLossJitterAndWrap) {
    ReceiveStatistics stats;
    const auto t0 = Clock::now();
    std::uint16_t seq = 65530;
    for (int i = 0; i < 10; ++i, ++seq) {
        if (i == 3 || i == 4) continue;  // two lost
        stats.on_packet(seq, static_cast<std::uint32_t>(i * 3000), 90000, t0 + i * 33ms);
    }
    auto block = stats.report(kPublisherSsrc, t0 + 1s);
    EXPECT_EQ(block.cumulative_lost, 2);
    EXPECT_EQ(block.fraction_lost, 2 * 256 / 10);
    EXPECT_EQ(block.highest_sequence, 65536u + 3u) << "one wrap";
    auto next = stats.report(kPublisherSsrc, t0 + 2s);
    EXPECT_EQ(next.fraction_lost, 0) << "nothing new lost since the last report";
}

}  // namespace
}  // namespace rollcall::sfu
