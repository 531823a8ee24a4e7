#pragma once

#include <atomic>
#include <cstdint>

namespace rollcall::transport {

// Live objects of the transport layer, process-wide: what /metrics reports and the soak
// compares before and after (a leak shows here first). Relaxed atomics: workers change them,
// the metrics page reads them.
struct Census {
    std::atomic<std::int64_t> transports{0};     // WebRtcTransport objects
    std::atomic<std::int64_t> ice_agents{0};     // libnice agents
    std::atomic<std::int64_t> srtp_sessions{0};  // libsrtp context pairs (and their streams)
};

inline Census& census() noexcept {
    static Census instance;
    return instance;
}

}  // namespace rollcall::transport
