#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace rollcall::sfu {

// When and how hard a subscriber connection probes its link before a layer goes up
// (docs/design.md, "Congestion control"). A probe is a cluster: for kClusterDuration, padding
// (RTX, padding only) at a target rate, on top of the media; the estimator measures what the
// path carried of it. A probe starts only while some video is held below what the subscriber
// asked for because the estimate is short of it, never in a hold after a forced step down
// nor while the link is congested, at most one at a time and kMinInterval apart. A probe
// that reached its target is followed by the next (up to twice the estimate each time, so
// the estimate doubles per round trip); one that fell short, or whose result never came,
// waits kFirstBackoff, doubling to kMaxBackoff. Padding is bounded: a cluster is at most
// kClusterDuration at twice the estimate, and at most kMaxPackets packets.
class Prober {
  public:
    using Clock = std::chrono::steady_clock;

    static constexpr auto kClusterDuration = std::chrono::milliseconds(20);
    static constexpr auto kTick = std::chrono::milliseconds(5);
    static constexpr auto kMinInterval = std::chrono::milliseconds(200);
    static constexpr auto kResultTimeout = std::chrono::seconds(1);
    static constexpr auto kFirstBackoff = std::chrono::seconds(1);
    static constexpr auto kMaxBackoff = std::chrono::seconds(4);
    static constexpr std::size_t kMaxPackets = 64;
    static constexpr std::size_t kMaxPadding = 255;  // one RTP padding count byte
    static constexpr double kMaxGain = 2.0;          // a probe's target over the estimate
    static constexpr double kMinGain = 1.2;
    static constexpr double kSucceeded = 0.8;  // of the target: the link carried it

    // The id of a new cluster to start now, toward `wanted_bps` (what the subscriber's videos
    // need at the sizes asked for), or -1. `limited`: some video is below what was asked
    // because of the estimate; `blocked`: a hold or congestion forbids going up now.
    int start(double estimate_bps, double wanted_bps, bool limited, bool blocked,
              Clock::time_point now) noexcept {
        if (running_) return -1;
        if (awaiting_ && now - ended_at_ >= kResultTimeout) fell_short(now);  // never came
        if (awaiting_ || !limited || blocked || now < next_at_) return -1;
        if (wanted_bps <= estimate_bps || estimate_bps <= 0) return -1;
        target_bps_ =
            std::clamp(wanted_bps * 1.1, kMinGain * estimate_bps, kMaxGain * estimate_bps);
        running_ = true;
        started_at_ = now;
        bytes_ = 0;
        packets_ = 0;
        ++clusters_;
        return cluster_ = static_cast<int>(clusters_ % 1'000'000);
    }
    bool running() const noexcept { return running_; }
    int cluster() const noexcept { return running_ ? cluster_ : -1; }
    double target_bps() const noexcept { return target_bps_; }
    std::uint64_t clusters() const noexcept { return clusters_; }

    // A packet of the cluster sent.
    void on_sent(std::size_t bytes) noexcept {
        if (running_) bytes_ += bytes;
    }
    // Padding due now, in packets of `padding` bytes (0: none now); `wire_extra` is what each
    // padding packet adds on the wire besides its padding. `last`: at its duration (or its
    // packet limit), the cluster ends once these are sent (finish()).
    struct Due {
        std::size_t packets = 0;
        std::size_t padding = 0;
        bool last = false;  // finish() after these
    };
    Due due(Clock::time_point now, std::size_t wire_extra) noexcept {
        if (!running_) return {};
        // A late tick (a busy loop) still pads up to the target over the time that passed,
        // up to twice the duration; the packet limit bounds a stalled one.
        const auto elapsed = std::min<Clock::duration>(now - started_at_, 2 * kClusterDuration);
        const bool last = elapsed >= kClusterDuration;
        const double seconds = std::chrono::duration<double>(elapsed).count();
        const double owed = target_bps_ / 8 * seconds - static_cast<double>(bytes_);
        // Padding per packet: the cluster in about 8 of them, 32 to 255 bytes.
        const double cluster_bytes =
            target_bps_ / 8 * std::chrono::duration<double>(kClusterDuration).count();
        const auto padding =
            static_cast<std::size_t>(std::clamp(cluster_bytes / 8, 32.0, double(kMaxPadding)));
        std::size_t packets = 0;
        if (owed > 0) packets = static_cast<std::size_t>(owed / double(padding + wire_extra)) + 1;
        if (packets_ == 0) packets = std::max<std::size_t>(packets, 1);  // the cluster's start
        packets = std::min(packets, kMaxPackets - packets_);
        packets_ += packets;
        return {packets, padding, last || packets_ >= kMaxPackets};
    }
    // The cluster is over (its last padding sent): its result is awaited.
    void finish(Clock::time_point now) noexcept {
        if (!running_) return;
        running_ = false;
        awaiting_ = true;
        ended_at_ = now;
    }
    // The estimator judged a cluster of ours at `result_bps`.
    void on_result(double result_bps, Clock::time_point now) noexcept {
        if (!awaiting_) return;
        if (result_bps >= kSucceeded * target_bps_) {
            awaiting_ = false;
            backoff_ = kFirstBackoff;
            next_at_ = started_at_ + kMinInterval;
        } else {
            fell_short(now);
        }
    }

  private:
    void fell_short(Clock::time_point now) noexcept {
        awaiting_ = false;
        next_at_ = now + backoff_;
        backoff_ = std::min<Clock::duration>(backoff_ * 2, kMaxBackoff);
    }

    bool running_ = false;
    bool awaiting_ = false;  // a cluster ended, its result not yet in
    int cluster_ = -1;
    std::uint64_t clusters_ = 0;
    double target_bps_ = 0;
    std::size_t bytes_ = 0;
    std::size_t packets_ = 0;
    Clock::time_point started_at_{};
    Clock::time_point ended_at_{};
    Clock::time_point next_at_{};
    Clock::duration backoff_ = kFirstBackoff;
};

}  // namespace rollcall::sfu
