#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sfu/PacketCache.hpp"
#include "sfu/RtpRewriter.hpp"
#include "sfu/StreamStats.hpp"
#include "sfu/VideoPayload.hpp"
#include "transport/RtcpPacket.hpp"
#include "transport/RtpPacket.hpp"
#include "transport/Sdp.hpp"

namespace rollcall::sfu {

using SessionId = std::uint64_t;
using Clock = std::chrono::steady_clock;

class Consumer;

// What a producer hands each consumer with a packet: the layer it came on and its upstream
// numbering, and what its payload says (video only; null when unknown).
struct Forwarded {
    std::size_t layer = 0;
    std::uint16_t sequence = 0;
    std::uint32_t timestamp = 0;
    const VideoPayloadInfo* video = nullptr;
};

// Where a producer's keyframe requests go: the publisher's transport.
class ProducerUpstream {
  public:
    virtual ~ProducerUpstream() = default;
    virtual void send_keyframe_request(std::uint32_t media_ssrc) = 0;
};

// Where a consumer's packets go: the subscriber's transport.
class ConsumerDownstream {
  public:
    virtual ~ConsumerDownstream() = default;
    virtual bool send_rtp(std::span<const std::uint8_t> packet) = 0;
    virtual bool send_rtcp(std::span<const std::uint8_t> packet) = 0;

    // A fan-out touches every subscriber's state once per packet, each a cache miss; the
    // producer asks the next subscribers' state in ahead (Producer::fan_out). Fixed lines of
    // this object, named once, and the lines its next send_rtp will touch, named just before.
    static constexpr std::size_t kHotLines = 8;
    virtual std::array<const void*, kHotLines> hot_lines() const noexcept { return {this}; }
    virtual void prefetch_send() const noexcept {}
};

// Receive statistics of one incoming stream (RFC 3550 §6.4.1, A.1, A.3, A.8), enough for
// the receiver reports the server sends its publishers.
class ReceiveStatistics {
  public:
    void on_packet(std::uint16_t sequence, std::uint32_t timestamp, std::uint32_t clock_rate,
                   Clock::time_point now) noexcept;
    void on_sender_report(std::uint64_t ntp_time, Clock::time_point now) noexcept;
    // The report block for the interval since the last call.
    transport::ReportBlock report(std::uint32_t ssrc, Clock::time_point now) noexcept;
    std::uint64_t packets() const noexcept { return received_; }
    bool started() const noexcept { return started_; }

  private:
    bool started_ = false;
    std::uint16_t max_sequence_ = 0;
    std::uint32_t cycles_ = 0;
    std::uint32_t base_sequence_ = 0;
    std::uint64_t received_ = 0;
    std::uint64_t expected_prior_ = 0;
    std::uint64_t received_prior_ = 0;
    double jitter_ = 0;
    std::optional<std::int64_t> last_transit_;
    std::uint32_t last_sr_ = 0;
    std::optional<Clock::time_point> last_sr_arrival_;
};

// One published track on the publisher's transport. Its packets go to every consumer;
// video packets are kept for NACKs; keyframe requests toward the publisher are paced.
// A simulcast track has several layers (RTP streams of one source at different sizes,
// lowest first), each with its own SSRC, statistics, cache and pacing; every consumer picks
// one. Lives on its room's worker thread.
class Producer {
  public:
    struct Spec {
        std::string track_id;
        std::string mid;  // on the publisher's connection
        transport::MediaKind kind = transport::MediaKind::unknown;
        std::uint32_t ssrc = 0;     // a single stream's SSRC; 0 for simulcast by rid
        transport::SdpCodec codec;  // as negotiated with the publisher
        // Simulcast, lowest layer first: by rid (SSRCs learned from the rid extension), or
        // by SSRC (an a=ssrc-group:SIM). Both empty: one layer on `ssrc`.
        std::vector<std::string> rids;
        std::vector<std::uint32_t> layer_ssrcs;
    };
    static constexpr std::size_t kMaxLayers = 3;
    static constexpr std::size_t kAllLayers = SIZE_MAX;
    // A layer that sent nothing for this long is not chosen (the sender dropped it).
    static constexpr auto kLayerIdle = std::chrono::milliseconds(1500);

    // The router drops a producer's consumers before the producer itself.
    Producer(Spec spec, SessionId publisher, ProducerUpstream& upstream);
    Producer(const Producer&) = delete;
    Producer& operator=(const Producer&) = delete;

    const Spec& spec() const noexcept { return spec_; }
    SessionId publisher() const noexcept { return publisher_; }
    VideoCodec video_codec() const noexcept { return codec_; }

    std::size_t layer_count() const noexcept { return layers_.size(); }
    bool simulcast() const noexcept { return layers_.size() > 1; }
    // The layer on `ssrc`, or nullopt.
    std::optional<std::size_t> layer_of(std::uint32_t ssrc) const noexcept;
    // Binds a rid layer still without an SSRC to `ssrc`; false when there is no such layer.
    bool bind_layer(std::string_view rid, std::uint32_t ssrc) noexcept;
    std::uint32_t layer_ssrc(std::size_t layer) const noexcept { return layers_[layer].ssrc; }
    std::size_t unbound_layers() const noexcept;
    // Its frame size (from its last VP8 keyframe; 0 when unknown), and whether it flows.
    std::uint16_t layer_width(std::size_t layer) const noexcept { return layers_[layer].width; }
    std::uint16_t layer_height(std::size_t layer) const noexcept { return layers_[layer].height; }
    bool layer_active(std::size_t layer, Clock::time_point now) const noexcept;
    // What the layer brought over the last second (update_rate keeps it current).
    double layer_bitrate(std::size_t layer) const noexcept { return layers_[layer].bitrate_bps; }

    // The hot path: one decrypted packet from the publisher (rewritten in place).
    void receive(transport::RtpPacket& packet, Clock::time_point now) noexcept;
    void on_sender_report(const transport::SenderReport& report, Clock::time_point now);
    // A keyframe of one layer (or all), for a new consumer, a switch or a subscriber's
    // PLI/FIR; paced per layer.
    void request_keyframe(Clock::time_point now, std::size_t layer = kAllLayers);
    // An administrator's mute: nothing is forwarded (or cached) until it is lifted; then
    // each subscriber's numbering continues without a gap and a keyframe is asked for.
    void set_paused(bool paused, Clock::time_point now);
    bool paused() const noexcept { return paused_; }
    // A layer's receiver report block for the last interval (about a second); its loss and
    // jitter become this track's figures and the publisher leg's metrics.
    std::optional<transport::ReportBlock> report_block(Clock::time_point now,
                                                       std::size_t layer = 0) noexcept;
    // The figures an operator sees; update_rate() once a second keeps the bitrate current.
    void update_rate(Clock::time_point now) noexcept {
        stats_out_.bitrate_bps = rate_.update(stats_out_.bytes, now);
        for (Layer& layer : layers_) layer.bitrate_bps = layer.rate.update(layer.bytes, now);
    }
    const StreamStats& stream_stats() const noexcept { return stats_out_; }

    void attach(Consumer& consumer);
    void detach(Consumer& consumer) noexcept;
    const std::vector<Consumer*>& consumers() const noexcept { return consumers_; }
    const PacketCache* cache(std::size_t layer = 0) const noexcept {
        return layer < layers_.size() ? layers_[layer].cache.get() : nullptr;
    }

    std::uint64_t packets_received() const noexcept;
    std::uint64_t packets_dropped() const noexcept { return dropped_; }
    // A publisher's encoder answers a keyframe request on any of its layers with keyframes
    // on all of them, and ignores another request within 300 ms (libwebrtc's
    // EncoderRtcpFeedback does both): requests are paced per track, a little slower than
    // that; a layer's request inside the interval waits, and a keyframe of that layer
    // meanwhile answers it.
    static constexpr auto kKeyframeInterval = std::chrono::milliseconds(350);

  private:
    struct Layer {
        std::string rid;
        std::uint32_t ssrc = 0;  // 0: not learned yet
        ReceiveStatistics stats;
        std::unique_ptr<PacketCache> cache;  // video with consumers only, from its first packet
        bool keyframe_pending = false;
        std::uint16_t width = 0, height = 0;
        Clock::time_point last_packet{};
        std::uint64_t bytes = 0;
        RateMeter rate;
        double bitrate_bps = 0;
    };
    void ensure_cache(Layer& layer) noexcept;
    void request_layer_keyframe(Layer& layer, Clock::time_point now);
    // Every active consumer's copy of one packet, with look-ahead prefetching.
    void fan_out(transport::RtpPacket& packet, const Forwarded& forwarded,
                 Clock::time_point now) noexcept;

    Spec spec_;
    SessionId publisher_;
    ProducerUpstream& upstream_;
    VideoCodec codec_ = VideoCodec::other;
    std::vector<Layer> layers_;
    StreamStats stats_out_;
    RateMeter rate_;
    std::vector<Consumer*> consumers_;
    std::uint64_t dropped_ = 0;
    KeyframeRequestPacer keyframe_pacer_{kKeyframeInterval};
    bool paused_ = false;
};

}  // namespace rollcall::sfu
