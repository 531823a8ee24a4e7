#pragma once

#include <cstddef>
#include <map>

#include "sfu/MediaTruth.hpp"

namespace rollcall::monitoring {

class PrometheusText;

// The media families of /metrics from each worker's latest report (at most a second old):
// packets and bytes by kind and direction, drops by reason, NACKs, retransmissions, keyframe
// requests, DTLS and ICE outcomes, loss/jitter/RTT histograms, what the workers hold, and
// each worker's loop lag and busy time. No label carries a value a user chose.
void render_media_metrics(PrometheusText& out,
                          const std::map<std::size_t, sfu::WorkerReport>& workers);

// The process's standard families (process_cpu_seconds_total, process_resident_memory_bytes,
// process_open_fds, …), read from /proc/self.
void render_process_metrics(PrometheusText& out);

}  // namespace rollcall::monitoring
