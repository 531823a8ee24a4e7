#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "transport/BandwidthEstimator.hpp"
#include "transport/TransportCc.hpp"

namespace rollcall::transport {
namespace {

// A path of `capacity_bps` with a FIFO queue and 20 ms of propagation: the sender paces
// 1,200-byte packets at `send_bps`; the receiver's TransportCcRecorder reports every 50 ms,
// and its feedback goes back through the real writer and parser.
struct Path {
    double capacity_bps;
    double loss = 0;  // every 1/loss-th packet, when non-zero
    std::int64_t link_free_us = 0;
    std::uint64_t sent = 0;
};

struct Result {
    double estimate;
    BandwidthEstimator::Usage usage;
};

// Runs `seconds` of traffic; `send_bps` may follow the estimate (a sender that obeys it).
// `probe`: every 2 s, half a second at twice the rate (the server's padding probes).
std::vector<double> run(BandwidthEstimator& bwe, Path& path, double seconds, double send_bps,
                        bool follow_estimate, std::int64_t& now_us, bool probe = false) {
    const std::int64_t start_us = now_us;
    TransportCcRecorder receiver;
    std::vector<double> estimates;  // one per feedback
    const std::int64_t end = now_us + static_cast<std::int64_t>(seconds * 1e6);
    std::int64_t next_feedback = now_us + 50'000;
    std::int64_t next_send = now_us;
    std::vector<std::pair<std::int64_t, std::uint16_t>> in_flight;  // arrival, sequence
    while (now_us < end) {
        now_us = std::min(next_send, next_feedback);
        if (now_us == next_send) {
            const std::uint16_t seq = bwe.on_send(1200, now_us);
            const bool dropped =
                path.loss > 0 && ++path.sent % static_cast<std::uint64_t>(1 / path.loss) == 0;
            if (!dropped) {
                const std::int64_t start = std::max(now_us, path.link_free_us);
                path.link_free_us =
                    start + static_cast<std::int64_t>(1200 * 8 * 1e6 / path.capacity_bps);
                in_flight.emplace_back(path.link_free_us + 20'000, seq);
            }
            double rate = follow_estimate ? bwe.estimate_bps() : send_bps;
            if (probe && (now_us - start_us) % 2'000'000 < 500'000) rate *= 2;
            next_send = now_us + static_cast<std::int64_t>(1200 * 8 * 1e6 / rate);
        }
        if (now_us == next_feedback) {
            std::erase_if(in_flight, [&](const auto& p) {
                if (p.first > now_us) return false;
                receiver.on_packet(p.second, p.first + 7'000'000);  // the receiver's own clock
                return true;
            });
            std::array<std::uint8_t, 1500> buffer{};
            while (std::size_t size = receiver.write_feedback(1, 2, buffer)) {
                auto compound = RtcpCompound::parse(std::span(buffer.data(), size));
                auto header = parse_feedback(compound->packets()[0]);
                auto feedback = parse_transport_cc(*header);
                // Feedback takes 20 ms back; applied now, it is a little early: close enough.
                bwe.on_feedback(*feedback, now_us);
            }
            estimates.push_back(bwe.estimate_bps());
            next_feedback = now_us + 50'000;
        }
    }
    return estimates;
}

TEST(BandwidthEstimator, GrowsOnAPathThatCarriesEverything) {
    BandwidthEstimator bwe({500'000, 30'000, 20'000'000});
    Path path{10'000'000};
    std::int64_t now = 1'000'000;
    run(bwe, path, 5, 800'000, false, now);
    EXPECT_EQ(bwe.usage(), BandwidthEstimator::Usage::normal);
    EXPECT_GT(bwe.estimate_bps(), 650'000);  // 8% a second for 5 s from 500 kbit/s
    EXPECT_NEAR(bwe.acked_bps(), 800'000, 80'000);
    EXPECT_EQ(bwe.loss(), 0);
}

TEST(BandwidthEstimator, BacksOffToWhatANarrowPathCarries) {
    BandwidthEstimator bwe({1'500'000, 30'000, 20'000'000});
    Path path{300'000};
    std::int64_t now = 1'000'000;
    // A sender that follows the estimate, as the server's layer choice does.
    auto estimates = run(bwe, path, 10, 0, true, now);
    // Within 3 s the estimate is at most a little over the path's capacity.
    ASSERT_GE(estimates.size(), 60u);
    EXPECT_LT(estimates[59], 400'000) << "after 3 s";
    // And it settles around it: neither collapsed nor far above.
    EXPECT_GT(bwe.estimate_bps(), 150'000);
    EXPECT_LT(bwe.estimate_bps(), 450'000);
}

TEST(BandwidthEstimator, RecoversWhenThePathWidens) {
    BandwidthEstimator bwe({1'500'000, 30'000, 20'000'000});
    Path path{300'000};
    std::int64_t now = 1'000'000;
    run(bwe, path, 8, 0, true, now);
    const double narrow = bwe.estimate_bps();
    path.capacity_bps = 5'000'000;
    // With probes, quickly: within 10 s it is several times what it was.
    run(bwe, path, 10, 0, true, now, /*probe=*/true);
    EXPECT_GT(bwe.estimate_bps(), narrow * 4) << narrow;
    EXPECT_LT(bwe.estimate_bps(), 5'500'000);
}

// A probe on a path: `media_bps` of 1,200-byte packets for a second, then one cluster of
// 250-byte padding packets at `probe_bps` for 20 ms (media going on), then feedback every
// 50 ms for half a second more. Returns the estimate before the probe.
double probe_once(BandwidthEstimator& bwe, Path& path, double media_bps, double probe_bps,
                  std::int64_t& now_us) {
    TransportCcRecorder receiver;
    std::vector<std::pair<std::int64_t, std::uint16_t>> in_flight;
    auto send = [&](std::size_t size, int cluster) {
        const std::uint16_t seq = bwe.on_send(size, now_us, cluster);
        const std::int64_t start = std::max(now_us, path.link_free_us);
        path.link_free_us = start + static_cast<std::int64_t>(size * 8 * 1e6 / path.capacity_bps);
        in_flight.emplace_back(path.link_free_us + 20'000, seq);
    };
    auto feedback = [&] {
        std::erase_if(in_flight, [&](const auto& p) {
            if (p.first > now_us) return false;
            receiver.on_packet(p.second, p.first + 7'000'000);
            return true;
        });
        std::array<std::uint8_t, 1500> buffer{};
        while (std::size_t size = receiver.write_feedback(1, 2, buffer)) {
            auto compound = RtcpCompound::parse(std::span(buffer.data(), size));
            auto header = parse_feedback(compound->packets()[0]);
            bwe.on_feedback(*parse_transport_cc(*header), now_us);
        }
    };
    const auto media_gap = static_cast<std::int64_t>(1200 * 8 * 1e6 / media_bps);
    const std::int64_t media_end = now_us + 1'000'000;
    std::int64_t next_feedback = now_us + 50'000;
    while (now_us < media_end) {
        send(1200, -1);
        now_us += media_gap;
        if (now_us >= next_feedback) {
            feedback();
            next_feedback += 50'000;
        }
    }
    const double before = bwe.estimate_bps();
    // The cluster: padding paced to make up `probe_bps` with the media, 5 ms at a time.
    const std::int64_t cluster_start = now_us;
    std::uint64_t cluster_bytes = 0;
    std::int64_t next_media = now_us;
    for (std::int64_t tick = 0; tick <= 20'000; tick += 5'000) {
        now_us = cluster_start + tick;
        const double owed = probe_bps / 8 * tick / 1e6 - static_cast<double>(cluster_bytes);
        for (int i = 0; tick == 0 ? i < 1 : i < owed / 250; ++i) {
            send(250, 7);
            cluster_bytes += 250;
        }
        while (next_media <= now_us) {
            send(1200, 7);
            cluster_bytes += 1200;
            next_media += media_gap;
        }
    }
    bwe.end_cluster(7);
    for (int i = 0; i < 10; ++i) {
        now_us += 50'000;
        send(1200, -1);
        feedback();
    }
    return before;
}

TEST(BandwidthEstimator, AProbeTheWidePathCarriesRaisesTheEstimateAtOnce) {
    BandwidthEstimator bwe({300'000, 30'000, 20'000'000});
    Path path{10'000'000};
    std::int64_t now = 1'000'000;
    const double before = probe_once(bwe, path, 300'000, 1'200'000, now);
    EXPECT_LT(before, 450'000);
    EXPECT_EQ(bwe.probes(), 1u);
    EXPECT_NEAR(bwe.probe_bps(), 1'200'000, 250'000);
    EXPECT_GT(bwe.estimate_bps(), 1'000'000);
}

TEST(BandwidthEstimator, AProbeANarrowPathStretchesShowsItsCapacity) {
    BandwidthEstimator bwe({300'000, 30'000, 20'000'000});
    Path path{500'000};
    std::int64_t now = 1'000'000;
    probe_once(bwe, path, 300'000, 1'200'000, now);
    // Judged: the path stretched the cluster to about its own rate.
    EXPECT_EQ(bwe.probes(), 1u);
    EXPECT_LT(bwe.probe_bps(), 600'000);
    EXPECT_GT(bwe.probe_bps(), 300'000);
    EXPECT_LT(bwe.estimate_bps(), 650'000);
}

TEST(BandwidthEstimator, AClusterIsJudgedOnlyOnceEnded) {
    BandwidthEstimator bwe({300'000, 30'000, 20'000'000});
    TransportCcFeedback feedback;
    std::int64_t now = 1'000'000;
    const std::uint16_t first = bwe.on_send(250, now, 3);
    for (int i = 1; i < 10; ++i) bwe.on_send(250, now + i * 2'000, 3);
    feedback.base_sequence = first;
    for (int i = 0; i < 10; ++i)
        feedback.packets.push_back({static_cast<std::uint16_t>(first + i), true, i * 2'000});
    bwe.on_feedback(feedback, now + 50'000);
    EXPECT_EQ(bwe.probes(), 0u) << "not ended: more of it may come";
    bwe.end_cluster(3);
    feedback.packets.clear();
    bwe.on_feedback(feedback, now + 100'000);
    EXPECT_EQ(bwe.probes(), 1u);
    EXPECT_NEAR(bwe.probe_bps(), 9 * 250 * 8 / 0.018, 1'000);
}

TEST(BandwidthEstimator, HeavyLossCutsTheEstimate) {
    BandwidthEstimator bwe({2'000'000, 30'000, 20'000'000});
    Path path{50'000'000, 0.25};  // no queue, a quarter of the packets lost
    std::int64_t now = 1'000'000;
    run(bwe, path, 3, 1'000'000, false, now);
    EXPECT_NEAR(bwe.loss(), 0.25, 0.06);
    EXPECT_LT(bwe.estimate_bps(), 1'000'000);
}

TEST(BandwidthEstimator, FeedbackAboutPacketsNeverSentChangesNothing) {
    BandwidthEstimator bwe;
    TransportCcFeedback feedback;
    feedback.base_sequence = 40'000;
    for (int i = 0; i < 100; ++i)
        feedback.packets.push_back({static_cast<std::uint16_t>(40'000 + i), i % 2 == 0, i * 1000});
    bwe.on_feedback(feedback, 1'000'000);
    bwe.on_feedback(feedback, 2'000'000);
    EXPECT_EQ(bwe.acked_bps(), 0);
    EXPECT_EQ(bwe.loss(), 0);
    EXPECT_GE(bwe.estimate_bps(), 1'000'000);  // grows as nothing says otherwise
}

}  // namespace
}  // namespace rollcall::transport
