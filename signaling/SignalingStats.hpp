#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace rollcall::signaling {

// Counters the signaling thread keeps and the metrics endpoint reads (on the same thread).
struct SignalingStats {
    std::uint64_t connections_opened = 0;
    std::uint64_t connections_refused = 0;
    std::uint64_t messages_received = 0;
    std::uint64_t messages_sent = 0;
    std::uint64_t messages_dropped_rate_limited = 0;
    std::uint64_t joins = 0;
    std::uint64_t resumes = 0;                // joins that re-attached a session
    std::uint64_t resume_outbox_dropped = 0;  // messages a detached session could not keep
    std::uint64_t kicks = 0;
    std::map<std::string, std::uint64_t, std::less<>> leaves_by_reason;
    std::map<std::string, std::uint64_t, std::less<>> errors_by_code;  // includes token_* codes
    std::map<int, std::uint64_t> http_responses_by_status;
    std::map<std::string, std::uint64_t, std::less<>> audit_ejections_by_reason;
    std::uint64_t audit_events = 0;
    std::uint64_t audit_sweeps = 0;  // rooms compared against a current truth
};

}  // namespace rollcall::signaling
