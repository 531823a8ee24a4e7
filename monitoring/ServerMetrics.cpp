#include "monitoring/ServerMetrics.hpp"

#include "monitoring/MediaMetrics.hpp"
#include "monitoring/PrometheusText.hpp"
#include "room/Roster.hpp"
#include "signaling/SignalingStats.hpp"
#include "transport/Census.hpp"

#ifndef ROLLCALL_VERSION
#define ROLLCALL_VERSION "0.0.0"
#endif

namespace rollcall::monitoring {

std::string render_server_metrics(const signaling::SignalingStats& stats,
                                  const room::Roster& roster, std::size_t signaling_connections,
                                  std::uint64_t audit_write_errors,
                                  const std::map<std::size_t, sfu::WorkerReport>& workers) {
    PrometheusText out;
    out.family("rollcall_build_info", "gauge", "Build information.");
    out.sample("rollcall_build_info", 1, {{"version", ROLLCALL_VERSION}});

    out.family("rollcall_rooms", "gauge", "Rooms open now.");
    out.sample("rollcall_rooms", static_cast<double>(roster.rooms().size()));
    out.family("rollcall_participants", "gauge", "Participants on the roster now.");
    out.sample("rollcall_participants", static_cast<double>(roster.participant_count()));
    out.family("rollcall_signaling_connections", "gauge", "Open signaling WebSocket connections.");
    out.sample("rollcall_signaling_connections", static_cast<double>(signaling_connections));

    const transport::Census& census = transport::census();
    out.family("rollcall_media_transports", "gauge", "WebRTC transports alive now.");
    out.sample("rollcall_media_transports", static_cast<double>(census.transports.load()));
    out.family("rollcall_media_ice_agents", "gauge", "libnice agents alive now.");
    out.sample("rollcall_media_ice_agents", static_cast<double>(census.ice_agents.load()));
    out.family("rollcall_media_srtp_sessions", "gauge",
               "libsrtp sessions (keyed transports) alive now.");
    out.sample("rollcall_media_srtp_sessions", static_cast<double>(census.srtp_sessions.load()));

    out.family("rollcall_signaling_connections_total", "counter",
               "Signaling connections accepted.");
    out.sample("rollcall_signaling_connections_total",
               static_cast<double>(stats.connections_opened));
    out.family("rollcall_signaling_connections_refused_total", "counter",
               "Connections refused over the limit.");
    out.sample("rollcall_signaling_connections_refused_total",
               static_cast<double>(stats.connections_refused));
    out.family("rollcall_signaling_messages_total", "counter", "Signaling messages by direction.");
    out.sample("rollcall_signaling_messages_total", static_cast<double>(stats.messages_received),
               {{"direction", "in"}});
    out.sample("rollcall_signaling_messages_total", static_cast<double>(stats.messages_sent),
               {{"direction", "out"}});
    out.family("rollcall_signaling_messages_dropped_total", "counter",
               "Messages dropped by the rate limit.");
    out.sample("rollcall_signaling_messages_dropped_total",
               static_cast<double>(stats.messages_dropped_rate_limited));
    out.family("rollcall_joins_total", "counter", "Successful joins.");
    out.sample("rollcall_joins_total", static_cast<double>(stats.joins));
    out.family("rollcall_resumes_total", "counter",
               "Joins that resumed a session within its reconnect grace.");
    out.sample("rollcall_resumes_total", static_cast<double>(stats.resumes));
    out.family("rollcall_resume_outbox_dropped_total", "counter",
               "Messages for a session whose link had dropped that did not fit its outbox.");
    out.sample("rollcall_resume_outbox_dropped_total",
               static_cast<double>(stats.resume_outbox_dropped));
    out.family("rollcall_kicks_total", "counter", "Participants kicked through the admin API.");
    out.sample("rollcall_kicks_total", static_cast<double>(stats.kicks));
    out.family("rollcall_leaves_total", "counter", "Participants who left the roster, by reason.");
    for (const auto& [reason, count] : stats.leaves_by_reason) {
        out.sample("rollcall_leaves_total", static_cast<double>(count), {{"reason", reason}});
    }
    out.family("rollcall_audit_ejections_total", "counter",
               "Hidden participants ejected (or refused) by roll call, by reason.");
    for (const char* reason : {"not_on_roster", "too_many_transports", "fingerprint_mismatch",
                               "unauthorized_consumer", "reconnect_grace_expired"}) {
        auto it = stats.audit_ejections_by_reason.find(reason);
        out.sample(
            "rollcall_audit_ejections_total",
            static_cast<double>(it == stats.audit_ejections_by_reason.end() ? 0 : it->second),
            {{"reason", reason}});
    }
    out.family("rollcall_audit_events_total", "counter",
               "Audit events recorded (ejections, refusals, kicks, discrepancies).");
    out.sample("rollcall_audit_events_total", static_cast<double>(stats.audit_events));
    out.family("rollcall_audit_write_errors_total", "counter",
               "Audit events that did not reach the disk (kept in memory only).");
    out.sample("rollcall_audit_write_errors_total", static_cast<double>(audit_write_errors));
    out.family("rollcall_audit_room_checks_total", "counter",
               "Rooms compared with an up-to-date media-plane truth.");
    out.sample("rollcall_audit_room_checks_total", static_cast<double>(stats.audit_sweeps));
    out.family("rollcall_signaling_errors_total", "counter", "Signaling errors sent, by code.");
    for (const auto& [code, count] : stats.errors_by_code) {
        out.sample("rollcall_signaling_errors_total", static_cast<double>(count), {{"code", code}});
    }
    out.family("rollcall_http_responses_total", "counter", "HTTP responses by status code.");
    for (const auto& [status, count] : stats.http_responses_by_status) {
        const std::string code = std::to_string(status);
        out.sample("rollcall_http_responses_total", static_cast<double>(count), {{"code", code}});
    }
    render_media_metrics(out, workers);
    render_process_metrics(out);
    return out.text();
}

}  // namespace rollcall::monitoring
