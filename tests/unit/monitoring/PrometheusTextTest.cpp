#include <gtest/gtest.h>

#include <array>
#include <set>
#include <sstream>

#include "monitoring/PrometheusText.hpp"
#include "monitoring/ServerMetrics.hpp"
#include "room/Roster.hpp"
#include "signaling/SignalingStats.hpp"

namespace rollcall::monitoring {
namespace {

TEST(PrometheusText, WritesFamiliesAndEscapedLabels) {
    PrometheusText out;
    out.family("x_total", "counter", "Things\nthat happened.");
    out.sample("x_total", 3, {{"reason", "a \"quoted\" \\ value\n"}});
    out.sample("x_total", 0.5);
    EXPECT_EQ(out.text(),
              "# HELP x_total Things\\nthat happened.\n"
              "# TYPE x_total counter\n"
              "x_total{reason=\"a \\\"quoted\\\" \\\\ value\\n\"} 3\n"
              "x_total 0.5\n");
}

TEST(ServerMetrics, ReportsRosterAndCounters) {
    room::Roster roster({});
    room::Participant p;
    p.identity = "a";
    roster.join("r1", p);
    signaling::SignalingStats stats;
    stats.errors_by_code["token_expired"] = 2;
    stats.leaves_by_reason["kicked"] = 1;
    const std::string text = render_server_metrics(stats, roster, 4);
    EXPECT_NE(text.find("rollcall_rooms 1\n"), std::string::npos);
    EXPECT_NE(text.find("rollcall_participants 1\n"), std::string::npos);
    EXPECT_NE(text.find("rollcall_signaling_connections 4\n"), std::string::npos);
    EXPECT_NE(text.find("rollcall_signaling_errors_total{code=\"token_expired\"} 2\n"),
              std::string::npos);
    EXPECT_NE(text.find("rollcall_leaves_total{reason=\"kicked\"} 1\n"), std::string::npos);
}

TEST(PrometheusText, HistogramBucketsAreCumulativeWithInfSumAndCount) {
    PrometheusText out;
    const std::array<double, 2> bounds{0.1, 1};
    transport::Histogram h;
    for (double v : {0.05, 0.1, 0.5, 7.0}) h.observe(bounds, v);
    out.histogram("lat_seconds", {{"worker", "0"}}, bounds, std::span(h.counts.data(), 3), h.sum,
                  h.count);
    EXPECT_EQ(out.text(),
              "lat_seconds_bucket{worker=\"0\",le=\"0.1\"} 2\n"
              "lat_seconds_bucket{worker=\"0\",le=\"1\"} 3\n"
              "lat_seconds_bucket{worker=\"0\",le=\"+Inf\"} 4\n"
              "lat_seconds_sum{worker=\"0\"} 7.6500000000000004\n"
              "lat_seconds_count{worker=\"0\"} 4\n");
}

TEST(ServerMetrics, SumsTheWorkersMediaReportsAndAddsTheProcess) {
    room::Roster roster({});
    signaling::SignalingStats stats;
    std::map<std::size_t, sfu::WorkerReport> workers;
    for (std::size_t i = 0; i < 2; ++i) {
        sfu::WorkerReport& report = workers[i];
        report.tally.rtp_packets_in[1] = 10 * (i + 1);
        report.tally.drop(transport::DropReason::srtp_auth);
        report.tally
            .dtls_failures[static_cast<std::size_t>(transport::DtlsFailure::fingerprint_mismatch)] =
            1;
        report.tally.rtt.observe(transport::MediaTally::kRttBounds, 0.03);
        report.producers = 2;
        report.consumers = 3;
        report.busy_seconds = 1.5;
    }
    const std::string text = render_server_metrics(stats, roster, 0, 0, workers);
    for (const char* line : {
             "rollcall_rtp_packets_received_total{kind=\"video\"} 30\n",
             "rollcall_rtp_packets_received_total{kind=\"audio\"} 0\n",
             "rollcall_packets_dropped_total{reason=\"srtp_auth\"} 2\n",
             "rollcall_dtls_handshake_failures_total{cause=\"fingerprint_mismatch\"} 2\n",
             "rollcall_media_rtt_seconds_bucket{le=\"0.02\"} 0\n",
             "rollcall_media_rtt_seconds_bucket{le=\"0.04\"} 2\n",
             "rollcall_media_rtt_seconds_count 2\n",
             "rollcall_media_producers 4\n",
             "rollcall_media_consumers 6\n",
             "rollcall_worker_busy_seconds_total{worker=\"1\"} 1.5\n",
             "rollcall_worker_loop_lag_seconds_count{worker=\"0\"} 0\n",
             "# TYPE process_cpu_seconds_total counter\n",
             "# TYPE process_open_fds gauge\n",
         }) {
        EXPECT_NE(text.find(line), std::string::npos) << line;
    }
    // Every family once: no HELP line repeats.
    std::set<std::string> helps;
    std::istringstream lines(text);
    for (std::string l; std::getline(lines, l);) {
        if (l.rfind("# HELP ", 0) == 0) {
            EXPECT_TRUE(helps.insert(l).second) << l;
        }
    }
}

}  // namespace
}  // namespace rollcall::monitoring
