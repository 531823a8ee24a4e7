#include "monitoring/MediaMetrics.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "monitoring/PrometheusText.hpp"

namespace rollcall::monitoring {

namespace {

using transport::MediaTally;

constexpr std::array<const char*, MediaTally::kKinds> kKindNames{"audio", "video"};

void counter(PrometheusText& out, const char* name, const char* help, std::uint64_t value) {
    out.family(name, "counter", help);
    out.sample(name, static_cast<double>(value));
}

template <std::size_t N>
void by_label(PrometheusText& out, const char* name, const char* type, const char* help,
              const char* label, const std::array<const char*, N>& names,
              const std::array<std::uint64_t, N>& values) {
    out.family(name, type, help);
    for (std::size_t i = 0; i < N; ++i)
        out.sample(name, static_cast<double>(values[i]), {{label, names[i]}});
}

template <std::size_t N>
void histogram(PrometheusText& out, const char* name, PrometheusText::Labels labels,
               const std::array<double, N>& bounds, const transport::Histogram& h) {
    static_assert(N <= transport::Histogram::kMaxBuckets);
    out.histogram(name, labels, bounds, std::span(h.counts.data(), N + 1), h.sum, h.count);
}

MediaTally sum(const std::map<std::size_t, sfu::WorkerReport>& workers) {
    MediaTally total;
    auto add = [](auto& into, const auto& from) {
        for (std::size_t i = 0; i < into.size(); ++i) into[i] += from[i];
    };
    for (const auto& [index, report] : workers) {
        const MediaTally& t = report.tally;
        add(total.rtp_packets_in, t.rtp_packets_in);
        add(total.rtp_bytes_in, t.rtp_bytes_in);
        add(total.rtp_packets_out, t.rtp_packets_out);
        add(total.rtp_bytes_out, t.rtp_bytes_out);
        total.rtcp_packets_in += t.rtcp_packets_in;
        total.rtcp_packets_out += t.rtcp_packets_out;
        add(total.dropped, t.dropped);
        total.nacks_received += t.nacks_received;
        total.nack_packets_requested += t.nack_packets_requested;
        total.retransmissions += t.retransmissions;
        total.retransmission_bytes += t.retransmission_bytes;
        total.retransmissions_refused += t.retransmissions_refused;
        total.pli_received += t.pli_received;
        total.fir_received += t.fir_received;
        total.pli_sent += t.pli_sent;
        total.fir_sent += t.fir_sent;
        total.transport_feedback_sent += t.transport_feedback_sent;
        total.probe_clusters += t.probe_clusters;
        total.padding_packets += t.padding_packets;
        total.padding_bytes += t.padding_bytes;
        total.dtls_handshakes += t.dtls_handshakes;
        add(total.dtls_failures, t.dtls_failures);
        total.ice_restarts += t.ice_restarts;
        total.consent_failures += t.consent_failures;
        for (std::size_t leg = 0; leg < total.loss.size(); ++leg) {
            total.loss[leg].add(t.loss[leg]);
            total.jitter[leg].add(t.jitter[leg]);
        }
        total.rtt.add(t.rtt);
        total.data_messages_in += t.data_messages_in;
        total.data_bytes_in += t.data_bytes_in;
        total.data_messages_out += t.data_messages_out;
        total.data_bytes_out += t.data_bytes_out;
        add(total.data_dropped, t.data_dropped);
        total.data_slow_receivers += t.data_slow_receivers;
    }
    return total;
}

void render_packets(PrometheusText& out, const MediaTally& t) {
    by_label(out, "rollcall_rtp_packets_received_total", "counter",
             "RTP packets received from publishers (decrypted), by kind.", "kind", kKindNames,
             t.rtp_packets_in);
    by_label(out, "rollcall_rtp_received_bytes_total", "counter",
             "RTP bytes received from publishers (decrypted), by kind.", "kind", kKindNames,
             t.rtp_bytes_in);
    by_label(out, "rollcall_rtp_packets_sent_total", "counter",
             "RTP packets forwarded to subscribers (retransmissions not included), by kind.",
             "kind", kKindNames, t.rtp_packets_out);
    by_label(out, "rollcall_rtp_sent_bytes_total", "counter",
             "RTP bytes forwarded to subscribers (before encryption), by kind.", "kind", kKindNames,
             t.rtp_bytes_out);
    out.family("rollcall_rtcp_packets_total", "counter", "SRTCP compounds, by direction.");
    out.sample("rollcall_rtcp_packets_total", static_cast<double>(t.rtcp_packets_in),
               {{"direction", "in"}});
    out.sample("rollcall_rtcp_packets_total", static_cast<double>(t.rtcp_packets_out),
               {{"direction", "out"}});
    by_label(out, "rollcall_packets_dropped_total", "counter",
             "Datagrams a transport did not use, by reason.", "reason", transport::kDropReasonNames,
             t.dropped);
}

void render_feedback(PrometheusText& out, const MediaTally& t) {
    counter(out, "rollcall_nacks_received_total", "NACK messages received from subscribers.",
            t.nacks_received);
    counter(out, "rollcall_nack_packets_requested_total",
            "Distinct packets the NACKs asked for (at most 64 a message).",
            t.nack_packets_requested);
    counter(out, "rollcall_retransmissions_total", "Packets resent (RTX) on a NACK.",
            t.retransmissions);
    counter(out, "rollcall_retransmitted_bytes_total", "Bytes resent (RTX) on a NACK.",
            t.retransmission_bytes);
    counter(out, "rollcall_retransmissions_refused_total",
            "Resends refused: asked again within 100 ms, or over the subscriber's budget.",
            t.retransmissions_refused);
    counter(out, "rollcall_probe_clusters_total",
            "Bandwidth probes started towards subscribers (20 ms of padding at a target rate).",
            t.probe_clusters);
    counter(out, "rollcall_padding_packets_total", "Padding-only RTX packets sent in probes.",
            t.padding_packets);
    counter(out, "rollcall_padding_bytes_total", "Bytes of padding-only RTX packets sent.",
            t.padding_bytes);
    out.family("rollcall_keyframe_requests_received_total", "counter",
               "Keyframe requests from subscribers, by type.");
    out.sample("rollcall_keyframe_requests_received_total", static_cast<double>(t.pli_received),
               {{"type", "pli"}});
    out.sample("rollcall_keyframe_requests_received_total", static_cast<double>(t.fir_received),
               {{"type", "fir"}});
    out.family("rollcall_keyframe_requests_sent_total", "counter",
               "Keyframe requests sent to publishers (paced), by type.");
    out.sample("rollcall_keyframe_requests_sent_total", static_cast<double>(t.pli_sent),
               {{"type", "pli"}});
    out.sample("rollcall_keyframe_requests_sent_total", static_cast<double>(t.fir_sent),
               {{"type", "fir"}});
    counter(out, "rollcall_transport_feedback_sent_total",
            "transport-cc feedback messages sent to publishers (their estimators read them).",
            t.transport_feedback_sent);
}

void render_data(PrometheusText& out, const MediaTally& t) {
    counter(out, "rollcall_data_messages_received_total",
            "Data-channel messages received from participants.", t.data_messages_in);
    counter(out, "rollcall_data_received_bytes_total",
            "Data-channel bytes received from participants.", t.data_bytes_in);
    counter(out, "rollcall_data_messages_sent_total",
            "Data-channel messages delivered to participants (one per receiver).",
            t.data_messages_out);
    counter(out, "rollcall_data_sent_bytes_total",
            "Data-channel bytes delivered to participants (stamped, one copy per receiver).",
            t.data_bytes_out);
    by_label(out, "rollcall_data_messages_dropped_total", "counter",
             "Data-channel messages not relayed (or not delivered), by reason.", "reason",
             transport::kDataDropNames, t.data_dropped);
    counter(out, "rollcall_data_slow_receivers_total",
            "Data associations closed because their receiver stopped reading a reliable channel.",
            t.data_slow_receivers);
}

void render_connections(PrometheusText& out, const MediaTally& t) {
    counter(out, "rollcall_dtls_handshakes_total", "DTLS handshakes completed (SRTP keyed).",
            t.dtls_handshakes);
    by_label(out, "rollcall_dtls_handshake_failures_total", "counter",
             "DTLS handshakes that failed, by cause.", "cause", transport::kDtlsFailureNames,
             t.dtls_failures);
    counter(out, "rollcall_ice_restarts_total", "ICE restarts of server transports.",
            t.ice_restarts);
    counter(out, "rollcall_ice_consent_failures_total",
            "Connected transports that failed for lack of ICE consent (RFC 7675).",
            t.consent_failures);
}

void render_quality(PrometheusText& out, const MediaTally& t) {
    out.family("rollcall_media_loss_ratio", "histogram",
               "Fraction of packets lost per report interval: measured by the server from "
               "publishers (leg=publisher) and reported by subscribers (leg=subscriber).");
    for (std::size_t leg = 0; leg < t.loss.size(); ++leg)
        histogram(out, "rollcall_media_loss_ratio", {{"leg", transport::kLegNames[leg]}},
                  MediaTally::kLossBounds, t.loss[leg]);
    out.family("rollcall_media_jitter_seconds", "histogram",
               "Interarrival jitter per report interval, by leg (as for loss).");
    for (std::size_t leg = 0; leg < t.jitter.size(); ++leg)
        histogram(out, "rollcall_media_jitter_seconds", {{"leg", transport::kLegNames[leg]}},
                  MediaTally::kJitterBounds, t.jitter[leg]);
    out.family("rollcall_media_rtt_seconds", "histogram",
               "Round-trip time to subscribers, from their reports on the server's sender "
               "reports.");
    histogram(out, "rollcall_media_rtt_seconds", {}, MediaTally::kRttBounds, t.rtt);
}

void render_workers(PrometheusText& out, const std::map<std::size_t, sfu::WorkerReport>& workers) {
    std::uint64_t producers = 0;
    std::uint64_t consumers = 0;
    for (const auto& [index, report] : workers) {
        producers += report.producers;
        consumers += report.consumers;
    }
    out.family("rollcall_media_producers", "gauge", "Published tracks (producers) now.");
    out.sample("rollcall_media_producers", static_cast<double>(producers));
    out.family("rollcall_media_consumers", "gauge", "Forwarding sinks (consumers) now.");
    out.sample("rollcall_media_consumers", static_cast<double>(consumers));
    out.family("rollcall_worker_busy_seconds_total", "counter",
               "Time each media worker's loop spent working rather than waiting for events.");
    for (const auto& [index, report] : workers) {
        const std::string worker = std::to_string(index);
        out.sample("rollcall_worker_busy_seconds_total", report.busy_seconds, {{"worker", worker}});
    }
    out.family("rollcall_worker_loop_lag_seconds", "histogram",
               "How late a 250 ms timer fired on each media worker's loop.");
    for (const auto& [index, report] : workers) {
        const std::string worker = std::to_string(index);
        histogram(out, "rollcall_worker_loop_lag_seconds", {{"worker", worker}},
                  MediaTally::kLagBounds, report.tally.loop_lag);
    }
}

}  // namespace

void render_media_metrics(PrometheusText& out,
                          const std::map<std::size_t, sfu::WorkerReport>& workers) {
    const MediaTally total = sum(workers);
    render_packets(out, total);
    render_feedback(out, total);
    render_data(out, total);
    render_connections(out, total);
    render_quality(out, total);
    render_workers(out, workers);
}

void render_process_metrics(PrometheusText& out) {
    // /proc/self/stat: fields 14 and 15 are utime and stime in clock ticks, 22 the start
    // time in ticks after boot, 23 vsize in bytes, 24 rss in pages (proc(5)).
    std::ifstream stat_file("/proc/self/stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    const auto close = stat.rfind(')');  // the command name may hold spaces
    if (close == std::string::npos) return;
    std::istringstream fields(stat.substr(close + 2));
    std::vector<std::string> f((std::istream_iterator<std::string>(fields)),
                               std::istream_iterator<std::string>());
    if (f.size() < 22) return;  // f[0] is field 3
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    const double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
    double boot_time = 0;
    std::ifstream proc_stat("/proc/stat");
    for (std::string line; std::getline(proc_stat, line);) {
        if (line.rfind("btime ", 0) == 0) boot_time = std::stod(line.substr(6));
    }
    std::size_t fds = 0;
    std::error_code error;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", error);
         !error && it != std::filesystem::directory_iterator(); it.increment(error))
        ++fds;
    out.family("process_cpu_seconds_total", "counter", "User and system CPU time spent.");
    out.sample("process_cpu_seconds_total", cpu);
    out.family("process_resident_memory_bytes", "gauge", "Resident memory size.");
    out.sample("process_resident_memory_bytes", std::stod(f[21]) * page);
    out.family("process_virtual_memory_bytes", "gauge", "Virtual memory size.");
    out.sample("process_virtual_memory_bytes", std::stod(f[20]));
    out.family("process_start_time_seconds", "gauge", "Start time since the Unix epoch.");
    out.sample("process_start_time_seconds", boot_time + std::stod(f[19]) / ticks);
    out.family("process_open_fds", "gauge", "Open file descriptors.");
    out.sample("process_open_fds",
               static_cast<double>(fds > 0 ? fds - 1 : 0));  // minus the listing's own
    out.family("process_max_fds", "gauge", "The limit on open file descriptors.");
    out.sample("process_max_fds", static_cast<double>(sysconf(_SC_OPEN_MAX)));
    out.family("process_threads", "gauge", "Threads of the process.");
    out.sample("process_threads", std::stod(f[17]));
}

}  // namespace rollcall::monitoring
