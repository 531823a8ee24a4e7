#include "transport/BandwidthEstimator.hpp"

#include <algorithm>
#include <cmath>

namespace rollcall::transport {

namespace {

constexpr std::int64_t kGroupUs = 5'000;  // a burst: sent within 5 ms
constexpr double kSmoothing = 0.9;        // of the accumulated delay
constexpr double kThresholdGain = 4.0;    // trend → compared with the threshold
constexpr double kOveruseMs = 10.0;       // overuse must last this long
constexpr double kThresholdUp = 0.0087, kThresholdDown = 0.039;
constexpr std::int64_t kAckedWindowUs = 500'000;
constexpr std::uint32_t kLossPackets = 20;  // a loss figure needs this many packets
constexpr double kDecreaseFactor = 0.85;
constexpr double kIncreasePerSecond = 1.08;
constexpr std::int64_t kDecreaseIntervalUs = 200'000;
// A probe cluster is judged when this share of it is reported, over at most a second.
constexpr double kProbeReported = 0.8;
constexpr std::int64_t kMaxProbeIntervalUs = 1'000'000;
// Received at under 90% of the send rate, the path was full: a little under what it carried.
constexpr double kSaturatedRatio = 0.9;
constexpr double kSaturatedShare = 0.95;

}  // namespace

BandwidthEstimator::BandwidthEstimator(Config config)
    : config_(config), estimate_(config.start_bps) {}

std::uint16_t BandwidthEstimator::on_send(std::size_t size, std::int64_t now_us, int cluster) {
    if (history_.empty()) history_.resize(kHistory);
    const std::int64_t sequence = next_sequence_++;
    const auto bytes = static_cast<std::uint32_t>(std::min<std::size_t>(size, UINT32_MAX));
    history_[static_cast<std::size_t>(sequence) % kHistory] = {sequence, now_us, bytes, false,
                                                               cluster < 0 ? -1 : cluster};
    if (cluster >= 0) {
        Cluster& slot = clusters_[static_cast<std::size_t>(cluster) % clusters_.size()];
        if (slot.id != cluster) slot = {cluster, false, 0, 0, now_us, now_us, bytes, 0, 0, 0, 0};
        if (!slot.ended) {
            ++slot.sent;
            slot.last_send_us = now_us;
            slot.last_send_size = bytes;
        }
    }
    return static_cast<std::uint16_t>(sequence);
}

void BandwidthEstimator::end_cluster(int id) noexcept {
    if (Cluster* slot = cluster(id)) slot->ended = true;
}

BandwidthEstimator::Cluster* BandwidthEstimator::cluster(int id) noexcept {
    if (id < 0) return nullptr;
    Cluster& slot = clusters_[static_cast<std::size_t>(id) % clusters_.size()];
    return slot.id == id ? &slot : nullptr;
}

void BandwidthEstimator::on_cluster_arrival(const Sent& sent, std::int64_t arrival_us) noexcept {
    Cluster* slot = cluster(sent.cluster);
    if (!slot) return;  // overwritten by a later cluster
    if (slot->received == 0 || arrival_us < slot->first_arrival_us) {
        slot->first_arrival_us = arrival_us;
        slot->first_arrival_size = sent.size;
    }
    if (slot->received == 0 || arrival_us > slot->last_arrival_us)
        slot->last_arrival_us = arrival_us;
    ++slot->received;
    slot->bytes += sent.size;
}

double BandwidthEstimator::judge(Cluster& slot) noexcept {
    if (slot.id < 0 || !slot.ended || slot.received < kMinProbePackets ||
        slot.received < kProbeReported * slot.sent)
        return 0;
    slot.id = -1;  // judged once
    // As GoogCC: the send rate leaves out the last packet sent, the receive rate the first
    // one received (each interval is between packets, not around them).
    const std::int64_t send_us = slot.last_send_us - slot.first_send_us;
    const std::int64_t receive_us = slot.last_arrival_us - slot.first_arrival_us;
    if (send_us <= 0 || receive_us <= 0 || send_us > kMaxProbeIntervalUs ||
        receive_us > kMaxProbeIntervalUs)
        return 0;
    const double send_bps =
        static_cast<double>(slot.bytes - std::min<std::uint64_t>(slot.bytes, slot.last_send_size)) *
        8e6 / static_cast<double>(send_us);
    const double receive_bps = static_cast<double>(slot.bytes - slot.first_arrival_size) * 8e6 /
                               static_cast<double>(receive_us);
    if (receive_bps < kSaturatedRatio * send_bps) return kSaturatedShare * receive_bps;
    return std::min(send_bps, receive_bps);
}

BandwidthEstimator::Sent* BandwidthEstimator::find(std::int64_t sequence) noexcept {
    if (sequence < 0 || history_.empty()) return nullptr;
    Sent& slot = history_[static_cast<std::size_t>(sequence) % kHistory];
    return slot.sequence == sequence ? &slot : nullptr;
}

void BandwidthEstimator::on_feedback(const TransportCcFeedback& feedback, std::int64_t now_us) {
    // The report's base, unwrapped as the newest sequence sent or one before it.
    const std::int64_t newest = next_sequence_ - 1;
    const auto behind =
        static_cast<std::uint16_t>(static_cast<std::uint16_t>(newest) - feedback.base_sequence);
    const std::int64_t base = newest - behind;
    std::uint32_t lost = 0, received = 0;
    for (std::size_t i = 0; i < feedback.packets.size(); ++i) {
        Sent* sent = find(base + static_cast<std::int64_t>(i));
        if (!sent) continue;  // never sent, or too long ago
        const TransportCcPacket& packet = feedback.packets[i];
        if (!packet.received) {
            if (!sent->reported) ++lost;
            continue;
        }
        if (sent->reported) continue;  // reported before (a late packet's second report)
        sent->reported = true;
        ++received;
        on_packet_arrival(*sent, packet.receive_us);
    }
    for (Cluster& slot : clusters_) {
        if (const double result = judge(slot); result > 0) {
            ++probes_;
            probe_bps_ = result;
            fresh_probe_bps_ = std::max(fresh_probe_bps_, result);
        }
    }
    lost_ += lost;
    counted_ += lost + received;
    if (counted_ >= kLossPackets) {
        loss_ = static_cast<double>(lost_) / counted_;
        loss_fresh_ = true;
        lost_ = counted_ = 0;
    }
    update_rate(now_us);
}

void BandwidthEstimator::on_packet_arrival(const Sent& sent, std::int64_t arrival_us) {
    update_acked(arrival_us, sent.size);
    if (sent.cluster >= 0) on_cluster_arrival(sent, arrival_us);
    if (!current_.valid) {
        current_ = {sent.send_us, sent.send_us, arrival_us, true};
        return;
    }
    if (sent.send_us < current_.first_send_us) return;  // sent out of order: no group's
    if (sent.send_us - current_.first_send_us <= kGroupUs) {
        current_.last_send_us = std::max(current_.last_send_us, sent.send_us);
        current_.last_arrival_us = std::max(current_.last_arrival_us, arrival_us);
        return;
    }
    if (previous_.valid) {
        const double send_delta_ms = (current_.last_send_us - previous_.last_send_us) / 1000.0;
        const double arrival_delta_ms =
            (current_.last_arrival_us - previous_.last_arrival_us) / 1000.0;
        on_delay_variation(arrival_delta_ms - send_delta_ms, send_delta_ms,
                           current_.last_arrival_us);
    }
    previous_ = current_;
    current_ = {sent.send_us, sent.send_us, arrival_us, true};
}

void BandwidthEstimator::on_delay_variation(double delay_ms, double send_delta_ms,
                                            std::int64_t arrival_us) {
    deltas_ = std::min<std::size_t>(deltas_ + 1, 1000);
    accumulated_delay_ += delay_ms;
    smoothed_delay_ = kSmoothing * smoothed_delay_ + (1 - kSmoothing) * accumulated_delay_;
    if (first_arrival_us_ < 0) first_arrival_us_ = arrival_us;
    window_[window_next_] = {(arrival_us - first_arrival_us_) / 1000.0, smoothed_delay_};
    window_next_ = (window_next_ + 1) % window_.size();
    window_count_ = std::min(window_count_ + 1, window_.size());
    if (window_count_ < window_.size()) return;
    // The slope of smoothed delay over arrival time: how fast the path's queue grows.
    double x_mean = 0, y_mean = 0;
    for (const auto& [x, y] : window_) {
        x_mean += x;
        y_mean += y;
    }
    x_mean /= static_cast<double>(window_.size());
    y_mean /= static_cast<double>(window_.size());
    double numerator = 0, denominator = 0;
    for (const auto& [x, y] : window_) {
        numerator += (x - x_mean) * (y - y_mean);
        denominator += (x - x_mean) * (x - x_mean);
    }
    const double slope = denominator != 0 ? numerator / denominator : 0;
    trend_ = static_cast<double>(std::min<std::size_t>(deltas_, 60)) * slope * kThresholdGain;
    detect(trend_, send_delta_ms, arrival_us);
}

void BandwidthEstimator::detect(double trend, double send_delta_ms, std::int64_t arrival_us) {
    if (trend > threshold_) {
        overuse_ms_ += send_delta_ms;
        ++overuse_count_;
        if (overuse_ms_ > kOveruseMs && overuse_count_ > 1 && trend >= previous_trend_) {
            overuse_ms_ = 0;
            overuse_count_ = 0;
            usage_ = Usage::overusing;
        }
    } else if (trend < -threshold_) {
        overuse_ms_ = 0;
        overuse_count_ = 0;
        usage_ = Usage::underusing;
    } else {
        overuse_ms_ = 0;
        overuse_count_ = 0;
        usage_ = Usage::normal;
    }
    previous_trend_ = trend;
    // The threshold follows the trend (slowly up, faster down), so a path with steady jitter
    // is not overuse forever, nor a real queue ignored; a spike does not move it.
    const double magnitude = std::fabs(trend);
    if (last_threshold_update_us_ < 0) last_threshold_update_us_ = arrival_us;
    if (magnitude <= threshold_ + 15.0) {
        const double k = magnitude < threshold_ ? kThresholdDown : kThresholdUp;
        const double dt_ms =
            std::clamp((arrival_us - last_threshold_update_us_) / 1000.0, 0.0, 100.0);
        threshold_ = std::clamp(threshold_ + k * (magnitude - threshold_) * dt_ms, 6.0, 600.0);
    }
    last_threshold_update_us_ = arrival_us;
}

void BandwidthEstimator::update_acked(std::int64_t arrival_us, std::uint32_t size) {
    if (arrivals_count_ == arrivals_.size()) {  // full: the oldest goes
        arrivals_bytes_ -= arrivals_[arrivals_first_].second;
        arrivals_first_ = (arrivals_first_ + 1) % arrivals_.size();
        --arrivals_count_;
    }
    arrivals_[(arrivals_first_ + arrivals_count_) % arrivals_.size()] = {arrival_us, size};
    ++arrivals_count_;
    arrivals_bytes_ += size;
    while (arrivals_count_ > 1 && arrival_us - arrivals_[arrivals_first_].first > kAckedWindowUs) {
        arrivals_bytes_ -= arrivals_[arrivals_first_].second;
        arrivals_first_ = (arrivals_first_ + 1) % arrivals_.size();
        --arrivals_count_;
    }
    const std::int64_t span = arrival_us - arrivals_[arrivals_first_].first;
    if (span >= 100'000)
        acked_bps_ = static_cast<double>(arrivals_bytes_) * 8e6 / static_cast<double>(span);
}

void BandwidthEstimator::update_rate(std::int64_t now_us) {
    const double dt =
        last_update_us_ < 0 ? 0 : std::clamp((now_us - last_update_us_) / 1e6, 0.0, 1.0);
    last_update_us_ = now_us;
    const bool may_decrease =
        last_decrease_us_ < 0 || now_us - last_decrease_us_ >= kDecreaseIntervalUs;
    if (usage_ == Usage::overusing) {
        // The queue grows: back to a little under what actually got through.
        if (may_decrease && acked_bps_ > 0 && kDecreaseFactor * acked_bps_ < estimate_) {
            estimate_ = kDecreaseFactor * acked_bps_;
            last_decrease_us_ = now_us;
        }
    } else if (loss_fresh_ && loss_ > 0.10) {
        // Heavy loss: cut by half of it, at most every 200 ms and never below a little under
        // what got through (losses on a full queue say "this much and no more", not "nothing").
        if (may_decrease) {
            const double floor = kDecreaseFactor * acked_bps_;
            estimate_ = std::max(estimate_ * (1 - 0.5 * loss_), std::min(floor, estimate_));
            last_decrease_us_ = now_us;
        }
    } else if (usage_ == Usage::normal && loss_ < 0.02) {
        // What arrived without a growing queue, the path carries (a probe shows it at once);
        // beyond that, a careful 8% a second.
        estimate_ = std::max(estimate_ * std::pow(kIncreasePerSecond, dt), acked_bps_);
    }
    // A probe's result counts unless the queue grows now (the probe may be what filled it).
    if (usage_ != Usage::overusing && loss_ < 0.10)
        estimate_ = std::max(estimate_, fresh_probe_bps_);
    fresh_probe_bps_ = 0;
    loss_fresh_ = false;
    estimate_ = std::clamp(estimate_, config_.min_bps, config_.max_bps);
}

}  // namespace rollcall::transport
