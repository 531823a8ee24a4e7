#pragma once

#include <cstdint>
#include <string>

namespace rollcall::room {
class Roster;
}
namespace rollcall::signaling {
struct SignalingStats;
}

namespace rollcall::monitoring {

// The /metrics page: roster gauges and signaling counters.
std::string render_server_metrics(const signaling::SignalingStats& stats,
                                  const room::Roster& roster, std::size_t signaling_connections,
                                  std::uint64_t audit_write_errors = 0);

}  // namespace rollcall::monitoring
