#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "transport/TransportCc.hpp"

namespace rollcall::transport {

// What one connection's path carries, estimated by the sender from the receiver's
// transport-cc feedback, after GoogCC's design (docs/design.md, "Congestion control"):
//
// - delay: packets are grouped by send time (5 ms bursts); each group's arrival spread
//   minus its send spread is the queueing delay it added. A trendline (least squares over
//   the last 20 groups of the smoothed accumulated delay) compared with an adaptive
//   threshold says whether the path's queue grows (overuse), drains (underuse) or neither;
// - loss: the fraction of packets reported lost, over at least 20 packets;
// - rate: overuse or loss above 10% cuts the estimate (to 85% of what actually arrived, or
//   by half the loss); otherwise it grows 8% a second while nothing is wrong, or at once to
//   what arrived, and holds while the queue drains;
// - probes: the packets of a probe cluster (a short burst of padding at a target rate, and
//   whatever media went out meanwhile) show what the path carries at that rate: the lesser
//   of their send and receive rates, or 95% of the receive rate when it fell short (the
//   path's queue stretched them). Unless the queue grows, the estimate rises to it at once.
//
// Times are microseconds on the sender's clock (send) and the receiver's (arrival, from the
// feedback); only differences of each are used.
class BandwidthEstimator {
  public:
    struct Config {
        double start_bps = 1'000'000;
        double min_bps = 30'000;
        double max_bps = 20'000'000;
    };
    enum class Usage : std::uint8_t { normal, overusing, underusing };

    BandwidthEstimator() : BandwidthEstimator(Config{}) {}
    explicit BandwidthEstimator(Config config);

    // The transport-wide sequence number to stamp on a packet of `size` bytes sent now, as
    // part of probe cluster `cluster` (-1: none).
    std::uint16_t on_send(std::size_t size, std::int64_t now_us, int cluster = -1);
    // For a fan-out's look-ahead: the line on_send reads first, then (once it is in) the
    // history slot the next on_send writes.
    const void* send_line() const noexcept { return &history_; }
    void prefetch_send() const noexcept {
        if (!history_.empty())
            __builtin_prefetch(&history_[static_cast<std::size_t>(next_sequence_) % kHistory], 1);
    }
    // Cluster `cluster` is complete: judged once enough of it is reported.
    void end_cluster(int cluster) noexcept;
    // A feedback message from the receiver.
    void on_feedback(const TransportCcFeedback& feedback, std::int64_t now_us);

    double estimate_bps() const noexcept { return estimate_; }
    // What the receiver got over the last half second (0 until known).
    double acked_bps() const noexcept { return acked_bps_; }
    double loss() const noexcept { return loss_; }  // over the last loss interval, 0-1
    Usage usage() const noexcept { return usage_; }
    double trend() const noexcept { return trend_; }  // the latest modified trend (ms)
    // Probe clusters judged, and the latest one's result (0: none yet).
    std::uint64_t probes() const noexcept { return probes_; }
    double probe_bps() const noexcept { return probe_bps_; }

    static constexpr std::size_t kMinProbePackets = 5;

    static constexpr std::size_t kHistory = 2048;  // packets remembered for their feedback

  private:
    struct Sent {
        std::int64_t sequence = -1;  // unwrapped; -1: empty
        std::int64_t send_us = 0;
        std::uint32_t size = 0;
        bool reported = false;  // received, per some feedback
        int cluster = -1;
    };
    struct Cluster {
        int id = -1;  // -1: empty
        bool ended = false;
        std::uint32_t sent = 0, received = 0;
        std::int64_t first_send_us = 0, last_send_us = 0;
        std::uint32_t last_send_size = 0;
        std::int64_t first_arrival_us = 0, last_arrival_us = 0;
        std::uint32_t first_arrival_size = 0;
        std::uint64_t bytes = 0;  // received
    };
    struct Group {
        std::int64_t first_send_us = 0;
        std::int64_t last_send_us = 0;
        std::int64_t last_arrival_us = 0;
        bool valid = false;
    };
    Sent* find(std::int64_t sequence) noexcept;
    void on_packet_arrival(const Sent& sent, std::int64_t arrival_us);
    void on_delay_variation(double delay_ms, double send_delta_ms, std::int64_t arrival_us);
    void detect(double trend, double send_delta_ms, std::int64_t arrival_us);
    void update_acked(std::int64_t arrival_us, std::uint32_t size);
    Cluster* cluster(int id) noexcept;
    void on_cluster_arrival(const Sent& sent, std::int64_t arrival_us) noexcept;
    // A complete cluster's result once enough of it arrived (0: not yet, or not valid).
    double judge(Cluster& cluster) noexcept;
    void update_rate(std::int64_t now_us);

    Config config_;
    std::vector<Sent> history_;             // allocated with the first packet sent
    std::int64_t next_sequence_ = 1 << 20;  // unwrapped; room below
    // Delay
    Group current_;
    Group previous_;
    double accumulated_delay_ = 0;
    double smoothed_delay_ = 0;
    std::int64_t first_arrival_us_ = -1;
    std::array<std::pair<double, double>, 20> window_{};  // (arrival ms, smoothed delay ms)
    std::size_t window_count_ = 0;
    std::size_t window_next_ = 0;
    std::size_t deltas_ = 0;
    double threshold_ = 12.5;
    std::int64_t last_threshold_update_us_ = -1;
    double overuse_ms_ = 0;
    int overuse_count_ = 0;
    double previous_trend_ = 0;
    double trend_ = 0;
    Usage usage_ = Usage::normal;
    // Arrivals over the last half second, for the acked rate.
    std::array<std::pair<std::int64_t, std::uint32_t>, 512> arrivals_{};
    std::size_t arrivals_first_ = 0;
    std::size_t arrivals_count_ = 0;
    std::uint64_t arrivals_bytes_ = 0;
    double acked_bps_ = 0;
    // Loss
    std::uint32_t lost_ = 0;
    std::uint32_t counted_ = 0;
    double loss_ = 0;
    bool loss_fresh_ = false;
    // Probes
    std::array<Cluster, 4> clusters_{};
    std::uint64_t probes_ = 0;
    double probe_bps_ = 0;
    double fresh_probe_bps_ = 0;  // a result not yet applied
    // Rate
    double estimate_;
    std::int64_t last_update_us_ = -1;
    std::int64_t last_decrease_us_ = -1;
};

}  // namespace rollcall::transport
