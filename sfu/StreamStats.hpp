#pragma once

#include <chrono>
#include <cstdint>

namespace rollcall::sfu {

// One track's figures as the server sees them, for operators (admin API, dashboard). For a
// producer: what arrives from the publisher, loss and jitter as the server measures them. For
// a consumer: what goes to the subscriber, loss, jitter and round-trip time as its receiver
// reports say.
struct StreamStats {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    double bitrate_bps = 0;  // over the last second or so
    double loss = 0;         // fraction lost in the last report interval, 0..1
    double jitter_ms = 0;
    double rtt_ms = -1;  // negative: not known (no report on one of our sender reports yet)
    std::uint64_t keyframe_requests =
        0;                              // producer: PLIs sent upstream; consumer: PLI/FIR received
    std::uint64_t nacks = 0;            // consumer: NACK messages received
    std::uint64_t retransmissions = 0;  // consumer: packets resent
};

// A bitrate from a cumulative byte count sampled about once a second.
class RateMeter {
  public:
    using Clock = std::chrono::steady_clock;
    double update(std::uint64_t bytes, Clock::time_point now) noexcept {
        if (last_at_ != Clock::time_point{} && now > last_at_ && bytes >= last_bytes_) {
            const double seconds = std::chrono::duration<double>(now - last_at_).count();
            bps_ = static_cast<double>(bytes - last_bytes_) * 8.0 / seconds;
        }
        last_bytes_ = bytes;
        last_at_ = now;
        return bps_;
    }
    double bps() const noexcept { return bps_; }

  private:
    std::uint64_t last_bytes_ = 0;
    Clock::time_point last_at_{};
    double bps_ = 0;
};

}  // namespace rollcall::sfu
