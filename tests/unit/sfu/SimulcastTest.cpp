#include <gtest/gtest.h>

#include <vector>

#include "sfu/Consumer.hpp"
#include "sfu/Producer.hpp"
#include "sfu/VideoPayload.hpp"
#include "transport/ByteOrder.hpp"

namespace rollcall::sfu {
namespace {

using namespace std::chrono_literals;
using transport::MediaKind;
using transport::RtpPacket;

constexpr std::uint8_t kPt = 96;
constexpr std::uint32_t kSsrc[3] = {0xA0, 0xB0, 0xC0};
constexpr std::uint16_t kWidth[3] = {320, 640, 1280};

struct Upstream final : ProducerUpstream {
    std::vector<std::uint32_t> keyframe_requests;
    void send_keyframe_request(std::uint32_t ssrc) override { keyframe_requests.push_back(ssrc); }
};

struct Downstream final : ConsumerDownstream {
    std::vector<std::vector<std::uint8_t>> rtp;
    bool send_rtp(std::span<const std::uint8_t> p) override {
        rtp.emplace_back(p.begin(), p.end());
        return true;
    }
    bool send_rtcp(std::span<const std::uint8_t>) override { return true; }
};

// A VP8 packet of `layer` (15-bit picture id, TL0PICIDX); a keyframe's first packet carries
// the frame size.
std::vector<std::uint8_t> vp8(std::size_t layer, std::uint16_t seq, std::uint32_t ts,
                              std::uint16_t picture_id, std::uint8_t tl0, bool keyframe) {
    std::vector<std::uint8_t> b(12, 0);
    b[0] = 0x80;
    b[1] = kPt;
    transport::store_u16(&b[2], seq);
    transport::store_u32(&b[4], ts);
    transport::store_u32(&b[8], kSsrc[layer]);
    // X=1 S=1 PID=0 | I=1 L=1 | M=1 picture id (15) | TL0PICIDX
    const std::uint8_t descriptor[] = {0x90, 0xC0,
                                       static_cast<std::uint8_t>(0x80 | (picture_id >> 8)),
                                       static_cast<std::uint8_t>(picture_id), tl0};
    b.insert(b.end(), std::begin(descriptor), std::end(descriptor));
    // Frame tag (P bit 0 on keyframes), start code, 14-bit width and height.
    const std::uint16_t w = kWidth[layer], h = static_cast<std::uint16_t>(kWidth[layer] * 9 / 16);
    const std::uint8_t frame[] = {static_cast<std::uint8_t>(keyframe ? 0x10 : 0x11),
                                  0,
                                  0,
                                  0x9d,
                                  0x01,
                                  0x2a,
                                  static_cast<std::uint8_t>(w),
                                  static_cast<std::uint8_t>(w >> 8),
                                  static_cast<std::uint8_t>(h),
                                  static_cast<std::uint8_t>(h >> 8),
                                  0xEE};
    b.insert(b.end(), std::begin(frame), std::end(frame));
    return b;
}

struct Sent {
    std::uint32_t ssrc;
    std::uint16_t seq;
    std::uint32_t ts;
    VideoPayloadInfo info;
};

Sent read(std::vector<std::uint8_t>& bytes) {
    auto p = RtpPacket::parse(std::span<std::uint8_t>(bytes));
    EXPECT_TRUE(p);
    auto info = parse_video_payload(VideoCodec::vp8, p->payload());
    EXPECT_TRUE(info);
    return {p->ssrc(), p->sequence(), p->timestamp(), info.value_or(VideoPayloadInfo{})};
}

class SimulcastTest : public ::testing::Test {
  protected:
    SimulcastTest()
        : producer_(spec(), 1, upstream_), consumer_(producer_, {"0", 0x5555, 100, 0, 0}, down_) {
        for (std::size_t i = 0; i < 3; ++i)
            EXPECT_TRUE(producer_.bind_layer(spec().rids[i], kSsrc[i]));
        consumer_.activate(false, false, t0_);  // its keyframe requests come with the layers
    }
    static Producer::Spec spec() {
        Producer::Spec s;
        s.track_id = "TR_cam";
        s.mid = "1";
        s.kind = MediaKind::video;
        s.codec.payload_type = kPt;
        s.codec.name = "VP8";
        s.codec.clock_rate = 90000;
        s.rids = {"q", "h", "f"};
        return s;
    }
    // One frame on every layer (same picture ids per layer as a browser's encoders keep
    // their own), `n` frames after the first.
    void frame(int n, bool keyframe, Clock::time_point now) {
        for (std::size_t layer = 0; layer < 3; ++layer) {
            auto bytes = vp8(layer, static_cast<std::uint16_t>(1000 * (layer + 1) + n),
                             static_cast<std::uint32_t>(50000 * (layer + 1) + 3000 * n),
                             static_cast<std::uint16_t>(100 * (layer + 1) + n),
                             static_cast<std::uint8_t>(10 * (layer + 1) + n), keyframe);
            auto p = RtpPacket::parse(std::span<std::uint8_t>(bytes));
            producer_.receive(*p, now);
        }
    }
    Clock::time_point t0_ = Clock::now();
    Upstream upstream_;
    Downstream down_;
    Producer producer_;
    Consumer consumer_;
};

TEST(SimulcastLayers, LearnedOncePerRid) {
    Upstream up;
    Producer::Spec s;
    s.kind = MediaKind::video;
    s.codec.name = "VP8";
    s.rids = {"q", "h", "f", "x"};  // at most three layers
    Producer p(s, 1, up);
    EXPECT_EQ(p.layer_count(), 3u);
    EXPECT_EQ(p.unbound_layers(), 3u);
    EXPECT_FALSE(p.bind_layer("x", 7));
    EXPECT_TRUE(p.bind_layer("h", 7));
    EXPECT_FALSE(p.bind_layer("h", 8));  // taken
    EXPECT_FALSE(p.bind_layer("q", 7));  // that SSRC is another layer's
    EXPECT_FALSE(p.bind_layer("q", 0));
    EXPECT_EQ(p.layer_of(7), 1u);
    EXPECT_EQ(p.unbound_layers(), 2u);
}

TEST_F(SimulcastTest, KeyframeRequestsArePacedPerTrackAndAKeyframeAnswersAWaitingOne) {
    // A browser answers a request on any layer with keyframes on all, and ignores another
    // request within 300 ms: a second layer's request inside the interval waits for it.
    frame(0, false, t0_);
    upstream_.keyframe_requests.clear();
    const auto t = t0_ + std::chrono::seconds(2);
    producer_.request_keyframe(t, 1);
    producer_.request_keyframe(t + std::chrono::milliseconds(40), 0);
    ASSERT_EQ(upstream_.keyframe_requests.size(), 1u);
    EXPECT_EQ(upstream_.keyframe_requests[0], kSsrc[1]);
    frame(1, false, t + std::chrono::milliseconds(200));
    EXPECT_EQ(upstream_.keyframe_requests.size(), 1u) << "inside the interval";
    frame(2, false, t + std::chrono::milliseconds(360));
    ASSERT_EQ(upstream_.keyframe_requests.size(), 2u) << "the waiting one, once it ends";
    EXPECT_EQ(upstream_.keyframe_requests[1], kSsrc[0]);

    // Asked inside the interval, then answered by the keyframes the first request brought.
    producer_.request_keyframe(t + std::chrono::seconds(1), 2);
    producer_.request_keyframe(t + std::chrono::milliseconds(1050), 0);
    frame(3, true, t + std::chrono::milliseconds(1150));
    frame(4, false, t + std::chrono::milliseconds(1500));
    EXPECT_EQ(upstream_.keyframe_requests.size(), 3u) << "no request for a keyframe that came";
}

TEST_F(SimulcastTest, SwitchesUpAndDownAtKeyframesSeamlessly) {
    // Frames 400 ms apart, so keyframe requests are never held back by their pacing.
    auto at = [&](int n) { return t0_ + n * 400ms; };
    // Nothing flowed when it was made: the first layer to come starts it (no waiting).
    frame(0, true, at(0));
    ASSERT_EQ(down_.rtp.size(), 1u);
    Sent first = read(down_.rtp[0]);
    EXPECT_EQ(first.ssrc, 0x5555u);
    EXPECT_EQ(consumer_.current_layer(), 0u);
    EXPECT_EQ(producer_.layer_width(0), 320);
    EXPECT_EQ(producer_.layer_width(2), 1280);
    // All flow now and no size was asked: the top, from its next keyframe.
    upstream_.keyframe_requests.clear();
    consumer_.choose_layer(at(0) + 360ms);  // past the last request's pacing interval
    EXPECT_EQ(consumer_.target_layer(), 2u);
    EXPECT_EQ(upstream_.keyframe_requests, std::vector<std::uint32_t>{kSsrc[2]});
    frame(1, false, at(1));  // no keyframe: the lowest goes on
    frame(2, true, at(2));   // the lowest's packet, then the top's keyframe: the switch
    ASSERT_EQ(down_.rtp.size(), 4u);
    Sent up = read(down_.rtp[3]);
    EXPECT_EQ(consumer_.current_layer(), 2u);
    EXPECT_EQ(up.seq, static_cast<std::uint16_t>(first.seq + 3));
    EXPECT_EQ(up.info.picture_id, first.info.picture_id + 3);
    EXPECT_EQ(up.info.tl0, static_cast<std::uint8_t>(first.info.tl0 + 3));
    EXPECT_GT(up.ts, read(down_.rtp[2]).ts);  // time moves on across the switch
    frame(3, false, at(3));
    ASSERT_EQ(down_.rtp.size(), 5u);
    EXPECT_EQ(read(down_.rtp[4]).ts - up.ts, 3000u);

    // A small tile: the lowest layer that covers it.
    upstream_.keyframe_requests.clear();
    consumer_.set_settings({160, 90, false}, at(3) + 10ms);
    EXPECT_EQ(consumer_.target_layer(), 0u);
    EXPECT_EQ(upstream_.keyframe_requests, std::vector<std::uint32_t>{kSsrc[0]});
    frame(4, false, at(4));
    frame(5, true, at(5));
    ASSERT_EQ(down_.rtp.size(), 7u);
    Sent down = read(down_.rtp[6]);
    EXPECT_EQ(consumer_.current_layer(), 0u);
    EXPECT_EQ(down.seq, static_cast<std::uint16_t>(first.seq + 6));
    EXPECT_EQ(down.info.picture_id, first.info.picture_id + 6);
    EXPECT_TRUE(down.info.keyframe);
    // A middle size: the half-size layer covers 600×300.
    consumer_.set_settings({600, 300, false}, at(5) + 10ms);
    EXPECT_EQ(consumer_.target_layer(), 1u);
    EXPECT_EQ(consumer_.layer_switches(), 3u);
}

// A resend after a switch carries this leg's picture ids, not the publisher's (the cache
// keeps what the publisher sent); a decoder given the publisher's would stall.
TEST_F(SimulcastTest, RetransmissionsCarryThisLegsPictureIds) {
    Downstream down;
    Consumer resender(producer_, {"1", 0x6666, 100, 0x7777, 101}, down);
    resender.activate(true, false, t0_);
    frame(0, true, t0_);  // the lowest layer starts it
    resender.choose_layer(t0_ + 10ms);
    frame(1, true, t0_ + 400ms);  // the lowest's packet, then the top's keyframe: switched
    ASSERT_EQ(down.rtp.size(), 3u);
    Sent top = read(down.rtp[2]);
    const transport::NackItem nack{top.seq, 0};
    resender.on_nack(std::span(&nack, 1), t0_ + 450ms);
    ASSERT_EQ(down.rtp.size(), 4u);
    auto rtx = RtpPacket::parse(std::span<std::uint8_t>(down.rtp[3]));
    ASSERT_TRUE(rtx);
    EXPECT_EQ(rtx->ssrc(), 0x7777u);
    auto info = parse_video_payload(VideoCodec::vp8, rtx->payload().subspan(2));  // after the OSN
    ASSERT_TRUE(info);
    EXPECT_EQ(info->picture_id, top.info.picture_id);
    EXPECT_EQ(info->tl0, top.info.tl0);
}

TEST_F(SimulcastTest, PausedForwardsNothingAndResumesContinuous) {
    frame(0, true, t0_);
    consumer_.set_settings({0, 0, true}, t0_ + 10ms);
    frame(1, true, t0_ + 33ms);
    frame(2, false, t0_ + 66ms);
    ASSERT_EQ(down_.rtp.size(), 1u);
    upstream_.keyframe_requests.clear();
    consumer_.set_settings({}, t0_ + 400ms);
    EXPECT_EQ(upstream_.keyframe_requests, std::vector<std::uint32_t>{kSsrc[2]});
    frame(3, false, t0_ + 433ms);  // not a keyframe: still nothing
    ASSERT_EQ(down_.rtp.size(), 1u);
    frame(4, true, t0_ + 466ms);
    ASSERT_EQ(down_.rtp.size(), 2u);
    Sent a = read(down_.rtp[0]);
    Sent b = read(down_.rtp[1]);
    EXPECT_EQ(b.seq, static_cast<std::uint16_t>(a.seq + 1));
    EXPECT_EQ(b.info.picture_id, a.info.picture_id + 1);
}

// The link's estimate falls below the layer forwarded now: that layer stops at once (its
// resends too) while the lower layer's keyframe comes, then forwarding goes on from it.
TEST_F(SimulcastTest, AForcedStepDownStopsTheLayerThatNoLongerFits) {
    Downstream down;
    Consumer limited(producer_, {"1", 0x6666, 100, 0x7777, 101}, down);
    limited.activate(true, false, t0_);
    auto at = [&](int n) { return t0_ + n * 400ms; };
    frame(0, true, at(0));
    limited.choose_layer(at(0) + 10ms);
    frame(1, true, at(1));  // the lowest's packet, then the top's keyframe
    ASSERT_EQ(limited.current_layer(), 2u);
    const std::size_t before = down.rtp.size();
    const std::uint16_t last = read(down.rtp.back()).seq;

    upstream_.keyframe_requests.clear();
    limited.set_bandwidth_limit(0, false, /*congested=*/true, at(1) + 350ms);
    EXPECT_EQ(limited.target_layer(), 0u);
    EXPECT_TRUE(limited.draining());
    EXPECT_EQ(upstream_.keyframe_requests, std::vector<std::uint32_t>{kSsrc[0]});
    frame(2, false, at(2));  // no keyframe yet: nothing at all goes out
    const transport::NackItem nack{last, 0};
    limited.on_nack(std::span(&nack, 1), at(2) + 10ms);  // nor a resend of the top layer
    EXPECT_EQ(down.rtp.size(), before);
    frame(3, true, at(3));  // the lowest's keyframe: on from it, numbering continuous
    ASSERT_EQ(down.rtp.size(), before + 1);
    EXPECT_FALSE(limited.draining());
    EXPECT_EQ(limited.current_layer(), 0u);
    EXPECT_EQ(read(down.rtp.back()).seq, static_cast<std::uint16_t>(last + 1));

    // A lower limit on a cautious estimate, not congestion, does not drain: the old layer
    // goes on until the new one's keyframe.
    frame(4, true, at(4));
    limited.choose_layer(at(4));
    limited.set_bandwidth_limit(Consumer::kNoLayer, false, false, at(4));
    frame(5, true, at(5));  // back on the top layer
    ASSERT_EQ(limited.current_layer(), 2u);
    const std::size_t sent = down.rtp.size();
    limited.set_bandwidth_limit(0, false, /*congested=*/false, at(5) + 10ms);
    EXPECT_EQ(limited.target_layer(), 0u);
    EXPECT_FALSE(limited.draining());
    frame(6, false, at(6));  // the top layer's frame still goes out
    EXPECT_EQ(down.rtp.size(), sent + 1);
}

TEST_F(SimulcastTest, ALayerThatStoppedIsNotChosen) {
    frame(0, true, t0_);
    // Only the two lower layers go on (the sender's estimate dropped the top one).
    const auto later = t0_ + Producer::kLayerIdle + 100ms;
    for (std::size_t layer = 0; layer < 2; ++layer) {
        auto bytes = vp8(layer, static_cast<std::uint16_t>(2000 + layer), 900000, 7, 1, true);
        auto p = RtpPacket::parse(std::span<std::uint8_t>(bytes));
        producer_.receive(*p, later);
    }
    consumer_.choose_layer(later);
    EXPECT_EQ(consumer_.target_layer(), 1u);
    EXPECT_FALSE(producer_.layer_active(2, later));
}

// Padding only, as a browser probes: on another layer it changes nothing; on the forwarded
// one, in sequence, the numbering closes over it.
TEST_F(SimulcastTest, PaddingIsSkippedOnlyOnTheForwardedLayer) {
    auto padding = [&](std::size_t layer, std::uint16_t seq) {
        std::vector<std::uint8_t> b(12 + 4, 0);
        b[0] = 0xA0;  // padding bit
        b[1] = kPt;
        transport::store_u16(&b[2], seq);
        transport::store_u32(&b[8], kSsrc[layer]);
        b.back() = 4;
        auto p = RtpPacket::parse(std::span<std::uint8_t>(b));
        ASSERT_TRUE(p);
        producer_.receive(*p, t0_ + 20ms);
    };
    frame(0, true, t0_);          // layer 0 forwarded, input sequence 1000
    padding(1, 2001);             // another layer
    padding(0, 1001);             // this one
    frame(2, false, t0_ + 33ms);  // layer 0, input sequence 1002
    ASSERT_EQ(down_.rtp.size(), 2u);
    EXPECT_EQ(read(down_.rtp[1]).seq, static_cast<std::uint16_t>(read(down_.rtp[0]).seq + 1));
}

}  // namespace
}  // namespace rollcall::sfu
