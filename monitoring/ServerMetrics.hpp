#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "sfu/MediaTruth.hpp"

namespace rollcall::room {
class Roster;
}
namespace rollcall::signaling {
struct SignalingStats;
}

namespace rollcall::monitoring {

// The /metrics page: roster gauges, signaling counters, the media workers' latest reports
// (MediaMetrics) and the process's own figures.
std::string render_server_metrics(const signaling::SignalingStats& stats,
                                  const room::Roster& roster, std::size_t signaling_connections,
                                  std::uint64_t audit_write_errors = 0,
                                  const std::map<std::size_t, sfu::WorkerReport>& workers = {});

}  // namespace rollcall::monitoring
