#include <gtest/gtest.h>

#include "sfu/Prober.hpp"

namespace rollcall::sfu {
namespace {

using namespace std::chrono_literals;
using Clock = Prober::Clock;

const Clock::time_point t0 = Clock::time_point{} + 100s;

TEST(Prober, ProbesOnlyAVideoTheEstimateHoldsBelowWhatWasAsked) {
    Prober prober;
    EXPECT_EQ(prober.start(300'000, 1'300'000, /*limited=*/false, false, t0), -1);
    EXPECT_EQ(prober.start(300'000, 1'300'000, true, /*blocked=*/true, t0), -1);
    EXPECT_EQ(prober.start(2'000'000, 1'300'000, true, false, t0), -1) << "the estimate covers it";
    const int cluster = prober.start(300'000, 1'300'000, true, false, t0);
    EXPECT_GE(cluster, 0);
    EXPECT_EQ(prober.cluster(), cluster);
    EXPECT_DOUBLE_EQ(prober.target_bps(), 600'000) << "at most twice the estimate";
    EXPECT_EQ(prober.start(300'000, 1'300'000, true, false, t0), -1) << "one at a time";
}

TEST(Prober, AimsAtWhatIsWantedWithAMargin) {
    Prober prober;
    ASSERT_GE(prober.start(1'000'000, 1'300'000, true, false, t0), 0);
    EXPECT_DOUBLE_EQ(prober.target_bps(), 1'430'000);
}

TEST(Prober, PadsUpToTheTargetOverTwentyMilliseconds) {
    Prober prober;
    ASSERT_GE(prober.start(1'000'000, 10'000'000, true, false, t0), 0);  // 2 Mbit/s
    const std::size_t extra = 36;
    Prober::Due start = prober.due(t0, extra);
    EXPECT_EQ(start.packets, 1u);  // the cluster's first
    EXPECT_FALSE(start.last);
    const std::size_t padding = start.padding;
    EXPECT_EQ(padding, 255u);  // 5,000 bytes in 20 ms: in packets as big as padding goes
    std::size_t bytes = start.packets * (padding + extra);
    prober.on_sent(bytes);
    for (auto at : {5ms, 10ms, 15ms}) {
        const Prober::Due due = prober.due(t0 + at, extra);
        EXPECT_FALSE(due.last);
        bytes += due.packets * (due.padding + extra);
        prober.on_sent(due.packets * (due.padding + extra));
    }
    const Prober::Due last = prober.due(t0 + 20ms, extra);
    EXPECT_TRUE(last.last);
    EXPECT_TRUE(prober.running()) << "until its last padding is sent";
    prober.finish(t0 + 20ms);
    EXPECT_FALSE(prober.running());
    bytes += last.packets * (last.padding + extra);
    EXPECT_NEAR(static_cast<double>(bytes), 2'000'000 / 8 * 0.020, 2.0 * (padding + extra));
    EXPECT_EQ(prober.due(t0 + 25ms, extra).packets, 0u) << "over";
}

TEST(Prober, ALateTickPadsForTheTimeThatPassed) {
    Prober prober;
    ASSERT_GE(prober.start(500'000, 10'000'000, true, false, t0), 0);  // 1 Mbit/s
    const Prober::Due first = prober.due(t0, 36);
    prober.on_sent(first.packets * (first.padding + 36));
    const Prober::Due late = prober.due(t0 + 30ms, 36);
    EXPECT_TRUE(late.last);
    const double bytes = static_cast<double>((first.packets + late.packets) * (late.padding + 36));
    EXPECT_NEAR(bytes, 1'000'000 / 8 * 0.030, late.padding + 36.0);
}

TEST(Prober, AStalledTimerSendsAtMostTheClusterLimit) {
    Prober prober;
    ASSERT_GE(prober.start(10'000'000, 100'000'000, true, false, t0), 0);  // 20 Mbit/s
    prober.due(t0, 36);
    const Prober::Due late = prober.due(t0 + 2s, 36);  // the loop was stalled
    EXPECT_TRUE(late.last);
    EXPECT_LE(late.packets, Prober::kMaxPackets - 1);
}

TEST(Prober, ASuccessLeadsToTheNextProbeAFailureBacksOff) {
    Prober prober;
    ASSERT_GE(prober.start(300'000, 1'300'000, true, false, t0), 0);
    prober.finish(t0 + 20ms);
    EXPECT_EQ(prober.start(600'000, 1'300'000, true, false, t0 + 100ms), -1) << "awaiting";
    prober.on_result(580'000, t0 + 100ms);
    EXPECT_EQ(prober.start(600'000, 1'300'000, true, false, t0 + 150ms), -1) << "too soon";
    ASSERT_GE(prober.start(600'000, 1'300'000, true, false, t0 + 200ms), 0);
    prober.finish(t0 + 220ms);
    prober.on_result(300'000, t0 + 300ms);  // fell short
    EXPECT_EQ(prober.start(600'000, 1'300'000, true, false, t0 + 1200ms), -1);
    ASSERT_GE(prober.start(600'000, 1'300'000, true, false, t0 + 1300ms), 0);
    prober.finish(t0 + 1320ms);
    prober.on_result(300'000, t0 + 1400ms);  // again: twice as long
    EXPECT_EQ(prober.start(600'000, 1'300'000, true, false, t0 + 3300ms), -1);
    EXPECT_GE(prober.start(600'000, 1'300'000, true, false, t0 + 3400ms), 0);
}

TEST(Prober, AResultThatNeverComesCountsAsFallingShort) {
    Prober prober;
    ASSERT_GE(prober.start(300'000, 1'300'000, true, false, t0), 0);
    prober.finish(t0 + 20ms);
    EXPECT_EQ(prober.start(300'000, 1'300'000, true, false, t0 + 900ms), -1);
    // A second after it ended: given up; the backoff starts then.
    EXPECT_EQ(prober.start(300'000, 1'300'000, true, false, t0 + 1020ms), -1);
    EXPECT_GE(prober.start(300'000, 1'300'000, true, false, t0 + 2020ms), 0);
}

}  // namespace
}  // namespace rollcall::sfu
