#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sfu/PacketCache.hpp"
#include "sfu/RtpRewriter.hpp"
#include "sfu/StreamStats.hpp"
#include "transport/RtcpPacket.hpp"
#include "transport/RtpPacket.hpp"
#include "transport/Sdp.hpp"

namespace rollcall::sfu {

using SessionId = std::uint64_t;
using Clock = std::chrono::steady_clock;

class Consumer;

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
// Lives on its room's worker thread.
class Producer {
  public:
    struct Spec {
        std::string track_id;
        std::string mid;  // on the publisher's connection
        transport::MediaKind kind = transport::MediaKind::unknown;
        std::uint32_t ssrc = 0;
        transport::SdpCodec codec;  // as negotiated with the publisher
    };

    // The router drops a producer's consumers before the producer itself.
    Producer(Spec spec, SessionId publisher, ProducerUpstream& upstream);
    Producer(const Producer&) = delete;
    Producer& operator=(const Producer&) = delete;

    const Spec& spec() const noexcept { return spec_; }
    SessionId publisher() const noexcept { return publisher_; }

    // The hot path: one decrypted packet from the publisher (rewritten in place).
    void receive(transport::RtpPacket& packet, Clock::time_point now) noexcept;
    void on_sender_report(const transport::SenderReport& report, Clock::time_point now);
    // A keyframe, for a new consumer or a subscriber's PLI/FIR; paced.
    void request_keyframe(Clock::time_point now);
    // An administrator's mute: nothing is forwarded (or cached) until it is lifted; then
    // each subscriber's numbering continues without a gap and a keyframe is asked for.
    void set_paused(bool paused, Clock::time_point now);
    bool paused() const noexcept { return paused_; }
    // The receiver report block for the last interval (about a second); its loss and jitter
    // become this track's figures and the publisher leg's metrics.
    std::optional<transport::ReportBlock> report_block(Clock::time_point now) noexcept;
    // The figures an operator sees; update_rate() once a second keeps the bitrate current.
    void update_rate(Clock::time_point now) noexcept {
        stats_out_.bitrate_bps = rate_.update(stats_out_.bytes, now);
    }
    const StreamStats& stream_stats() const noexcept { return stats_out_; }

    void attach(Consumer& consumer);
    void detach(Consumer& consumer) noexcept;
    const std::vector<Consumer*>& consumers() const noexcept { return consumers_; }
    const PacketCache* cache() const noexcept { return cache_.get(); }

    std::uint64_t packets_received() const noexcept { return stats_.packets(); }
    std::uint64_t packets_dropped() const noexcept { return dropped_; }
    const KeyframeRequestPacer& keyframe_pacer() const noexcept { return pacer_; }

  private:
    Spec spec_;
    SessionId publisher_;
    ProducerUpstream& upstream_;
    void ensure_cache() noexcept;

    std::unique_ptr<PacketCache> cache_;  // video with consumers only, from its first packet
    KeyframeRequestPacer pacer_;
    ReceiveStatistics stats_;
    StreamStats stats_out_;
    RateMeter rate_;
    std::vector<Consumer*> consumers_;
    std::uint64_t dropped_ = 0;
    bool keyframe_pending_ = false;
    bool paused_ = false;
};

}  // namespace rollcall::sfu
