#pragma once

#include <algorithm>
#include <chrono>

namespace rollcall::signaling {

// A token bucket: `rate` tokens a second, at most `burst` saved up.
class RateLimiter {
  public:
    using Clock = std::chrono::steady_clock;

    RateLimiter(double rate, double burst, Clock::time_point now)
        : rate_(rate), burst_(burst), tokens_(burst), last_(now) {}

    bool try_take(Clock::time_point now) noexcept {
        const std::chrono::duration<double> elapsed = now - last_;
        if (elapsed.count() > 0) {
            tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
            last_ = now;
        }
        if (tokens_ < 1.0) return false;
        tokens_ -= 1.0;
        return true;
    }

  private:
    double rate_;
    double burst_;
    double tokens_;
    Clock::time_point last_;
};

}  // namespace rollcall::signaling
