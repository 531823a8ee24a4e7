#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "sfu/PacketCache.hpp"
#include "sfu/Producer.hpp"
#include "sfu/RtpRewriter.hpp"
#include "sfu/TrackSettings.hpp"
#include "transport/RtcpPacket.hpp"
#include "transport/RtpPacket.hpp"

namespace rollcall::sfu {

// One producer's track as one subscriber receives it: its own SSRC, continuous sequence
// numbers and timestamps (RtpRewriter), the subscriber leg's payload type, retransmissions
// on RTX when the subscriber accepted it, and sender reports of its own.
class Consumer {
  public:
    struct Spec {
        std::string mid;  // on the subscriber's connection
        std::uint32_t ssrc = 0;
        std::uint8_t payload_type = 0;
        std::uint32_t rtx_ssrc = 0;
        std::uint8_t rtx_payload_type = 0;
    };

    Consumer(Producer& producer, Spec spec, ConsumerDownstream& downstream);
    ~Consumer();
    Consumer(const Consumer&) = delete;
    Consumer& operator=(const Consumer&) = delete;

    Producer& producer() const noexcept { return *producer_; }
    const Spec& spec() const noexcept { return spec_; }
    bool active() const noexcept { return active_; }
    // Starts forwarding (the subscriber has the m-section); asks for a keyframe when the
    // subscriber's transport is up (a keyframe sent before would be lost).
    void activate(bool rtx, bool connected, Clock::time_point now);
    // Forwarding stops; the next packet after resume() continues the numbering.
    void pause() noexcept { active_ = false; }
    // The producer's packets resume after a gap (an administrator's mute lifted): the next one
    // continues this leg's numbering.
    void restart_stretch() noexcept { rewriter_.restart(); }
    // An upstream packet that is not forwarded (padding only): the numbering closes over it.
    void skip(std::size_t layer, std::uint16_t sequence) noexcept {
        if (active_ && layer == current_) rewriter_.skip(sequence);
    }

    // From Producer::receive: `packet` is the producer's shared buffer, rewritten in place
    // for this subscriber (SSRC, sequence, timestamp, payload type and, for VP8, picture id
    // and TL0PICIDX); `forwarded` has the upstream values.
    void forward(transport::RtpPacket& packet, const Forwarded& forwarded,
                 Clock::time_point now) noexcept;
    // Producer::fan_out's look-ahead: this object's lines forward() reads, then the fixed
    // lines of the subscriber's state, then what its next send will touch (each step reads
    // only what the step before asked in).
    void prefetch_self() const noexcept {
        __builtin_prefetch(this);
        __builtin_prefetch(reinterpret_cast<const char*>(this) + 64);
        __builtin_prefetch(reinterpret_cast<const char*>(this) + 128);
        __builtin_prefetch(&stats_);
    }
    void prefetch_downstream() const noexcept {
        for (const void* line : downstream_lines_)
            if (line) __builtin_prefetch(line);
    }
    void prefetch_send() const noexcept { downstream_.prefetch_send(); }

    // What the subscriber asked for: a size (simulcast chooses by it), or nothing (paused).
    void set_settings(const TrackSettings& settings, Clock::time_point now);
    const TrackSettings& settings() const noexcept { return settings_; }
    // Chooses the layer to forward again (the layers flowing change): the smallest flowing
    // layer that covers the preferred size, else the largest flowing one. A switch happens at
    // the target layer's next keyframe, which is asked for.
    void choose_layer(Clock::time_point now);
    static constexpr std::size_t kNoLayer = SIZE_MAX;
    // The layer the subscriber's settings ask for, whatever its link (kNoLayer: paused).
    std::size_t preferred_layer(Clock::time_point now) const noexcept;
    // What the subscriber's link allows (SubscriberPeer's allocation): layers up to `max`
    // (kNoLayer: any), or no video at all (`off`: audio first, the lowest layer does not
    // fit). Re-chooses when it changes.
    // `congested`: the link is losing or queueing now (not merely estimated low), so a step
    // down below the layer forwarded drains (draining()).
    void set_bandwidth_limit(std::size_t max, bool off, bool congested, Clock::time_point now);
    bool video_off() const noexcept { return video_off_; }
    std::size_t bandwidth_max_layer() const noexcept { return max_layer_; }
    std::size_t current_layer() const noexcept { return current_; }
    // The congested link no longer carries the layer forwarded now (a step down forced by
    // loss or a growing queue): it stops at once, resends too, and the link drains while the
    // lower layer's keyframe comes — a short freeze rather than a queue that loses that
    // keyframe. A step down on a merely cautious estimate keeps the old layer until then.
    bool draining() const noexcept {
        return drain_ && current_ != kNoLayer && current_ > max_layer_ && target_ < current_;
    }
    std::size_t target_layer() const noexcept { return target_; }
    std::uint64_t layer_switches() const noexcept { return switches_; }
    // A NACK from the subscriber for this consumer's SSRC. Bounded, so a NACK cannot turn
    // into a flood: the packets it names are deduplicated (at most kMaxNackedPerRequest), one
    // resent within kResendInterval is not resent again, and retransmitted bytes come out of
    // a budget earned by forwarding (kRtxShare of the bytes sent, at most kRtxBurst banked).
    void on_nack(std::span<const transport::NackItem> items, Clock::time_point now) noexcept;

    static constexpr std::size_t kMaxNackedPerRequest = 64;
    static constexpr auto kResendInterval = std::chrono::milliseconds(100);
    static constexpr double kRtxShare = 0.5;
    static constexpr double kRtxBurst = 64 * 1024;
    static constexpr double kRtxInitial = 16 * 1024;
    // The publisher's SR, translated onto this leg's timeline.
    void on_sender_report(std::size_t layer, const transport::SenderReport& report,
                          Clock::time_point now);
    // The subscriber's report block on this consumer's SSRC: loss, jitter and (when it
    // answers one of our sender reports) the round-trip time.
    void on_receiver_report(const transport::ReportBlock& block, Clock::time_point now) noexcept;
    // A PLI or FIR from the subscriber for this consumer (the producer is asked, paced).
    void on_keyframe_request(bool fir, Clock::time_point now);
    void update_rate(Clock::time_point now) noexcept {
        stats_.bitrate_bps = rate_.update(stats_.bytes, now);
    }
    const StreamStats& stream_stats() const noexcept { return stats_; }

    std::uint64_t packets_sent() const noexcept { return stats_.packets; }
    std::uint64_t retransmissions() const noexcept { return retransmissions_; }
    // A padding-only packet on this consumer's RTX SSRC (a bandwidth probe's): `padding`
    // bytes (1–255) and nothing else. Only with RTX negotiated and after the first packet
    // forwarded (it carries the latest timestamp sent). False when it cannot be sent.
    bool send_padding(std::size_t padding) noexcept;
    bool can_pad() const noexcept { return active_ && rtx_ && stats_.packets > 0; }
    std::uint64_t retransmission_bytes() const noexcept { return retransmission_bytes_; }
    // Requests not answered: resent too recently, or over the budget.
    std::uint64_t retransmissions_refused() const noexcept { return retransmissions_refused_; }

  private:
    // Where this leg's VP8 picture ids and TL0PICIDX continue from across a switch.
    void rewrite_vp8(transport::RtpPacket& packet, const VideoPayloadInfo& info,
                     bool switched) noexcept;
    // This leg's picture id and TL0PICIDX written over the publisher's (forwards and resends).
    void write_vp8_ids(std::span<std::uint8_t> payload,
                       const VideoPayloadInfo& info) const noexcept;
    void retransmit(std::uint16_t output_sequence, Clock::time_point now) noexcept;
    bool resent_recently(std::uint16_t output_sequence, Clock::time_point now) const noexcept;

    Producer* producer_;
    Spec spec_;
    ConsumerDownstream& downstream_;
    RtpRewriter rewriter_;
    bool active_ = false;
    bool rtx_ = false;
    TrackSettings settings_;
    std::size_t current_ = kNoLayer;    // the layer forwarded now
    std::size_t target_ = 0;            // the layer wanted
    std::size_t max_layer_ = kNoLayer;  // the link's limit (kNoLayer: none)
    bool video_off_ = false;
    bool drain_ = false;  // the limit came with congestion
    std::uint64_t switches_ = 0;
    std::uint16_t picture_id_offset_ = 0;
    std::uint8_t tl0_offset_ = 0;
    std::uint16_t last_picture_id_ = 0;  // output
    std::uint8_t last_tl0_ = 0;          // output
    bool vp8_started_ = false;
    std::uint16_t rtx_sequence_ = 0;
    std::uint32_t last_timestamp_ = 0;  // output, of the latest packet forwarded
    std::uint64_t octets_ = 0;
    std::uint64_t retransmissions_ = 0;
    std::uint64_t retransmission_bytes_ = 0;
    std::uint64_t retransmissions_refused_ = 0;
    double rtx_budget_ = kRtxInitial;  // bytes
    StreamStats stats_;
    std::array<const void*, ConsumerDownstream::kHotLines> downstream_lines_{};
    // Cold from here on: what forwarding a packet never reads.
    RateMeter rate_;
    struct Resent {
        std::uint16_t sequence = 0;
        Clock::time_point at{};  // epoch: never used
    };
    std::array<Resent, kMaxNackedPerRequest> resent_{};  // the latest resends, a ring
    std::size_t resent_next_ = 0;
    struct SentReport {
        std::uint32_t middle = 0;  // the middle 32 bits of its NTP time: a report's LSR
        Clock::time_point at{};
    };
    std::array<SentReport, 4> sent_reports_{};  // the latest, a ring
    std::size_t sent_report_next_ = 0;
    std::array<std::uint8_t, PacketCache::kMaxPacket + 2> rtx_buffer_{};
};

}  // namespace rollcall::sfu
