#include <gtest/gtest.h>

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

}  // namespace
}  // namespace rollcall::monitoring
