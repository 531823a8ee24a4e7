// Endurance (not a test; numbers only): N join → publish → subscribe → leave cycles against
// the real server with real transports (C++ test peers, tests/peer), then what the server
// holds before and after: resident memory, open file descriptors, threads, WebRTC transports,
// libnice agents and libsrtp sessions. The goal is flat within 5 %. Run inside a
// loopback-only namespace:
//   cmake --build --preset dev --target rollcall_bench_soak
//   tests/e2e/run-in-netns.sh build/dev/rollcall_bench_soak [cycles=10000]
// Writes bench/results/soak.json. tests/peer/PeerTest.cpp runs 200 cycles in CI.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "tests/peer/TestPeer.hpp"

using namespace rollcall::testpeer;

namespace {

struct Snapshot {
    ProcessSample process;
    double transports = 0;
    double agents = 0;
    double sessions = 0;
};

Snapshot snapshot(const ServerProcess& server) {
    return {sample_process(server.pid()), server.metric("rollcall_media_transports"),
            server.metric("rollcall_media_ice_agents"),
            server.metric("rollcall_media_srtp_sessions")};
}

std::string json(const Snapshot& s) {
    char text[256];
    std::snprintf(
        text, sizeof(text),
        R"({"rss_kb":%ld,"fds":%ld,"threads":%ld,"transports":%.0f,"ice_agents":%.0f,"srtp_sessions":%.0f})",
        s.process.rss_kb, s.process.fds, s.process.threads, s.transports, s.agents, s.sessions);
    return text;
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress as it goes
    const int cycles = argc > 1 ? std::atoi(argv[1]) : 10000;
    const char* binary = std::getenv("ROLLCALL_BIN");
    ServerProcess server(binary ? binary : "build/dev/signaling/rollcall", "");
    Loop loop;
    TestParticipant resident(loop, server, "resident", "soak");
    resident.join();
    resident.publish();
    if (!run_until(loop, {&resident}, [&] { return resident.publisher_connected(); })) {
        std::fprintf(stderr, "the resident did not connect\n");
        return 1;
    }
    constexpr int kWarmUp = 50;
    for (int i = 0; i < kWarmUp; ++i) {
        if (auto error = soak_cycle(loop, server, resident, "soak", i); !error.empty()) {
            std::fprintf(stderr, "%s\n", error.c_str());
            return 1;
        }
    }
    const Snapshot before = snapshot(server);
    std::printf("after %d warm-up cycles: %s\n", kWarmUp, json(before).c_str());
    const auto started = std::chrono::steady_clock::now();
    int failures = 0;
    for (int i = 0; i < cycles; ++i) {
        if (auto error = soak_cycle(loop, server, resident, "soak", kWarmUp + i); !error.empty()) {
            ++failures;
            std::fprintf(stderr, "%s\n", error.c_str());
        }
        if ((i + 1) % 1000 == 0)
            std::printf("%6d cycles: %s\n", i + 1, json(snapshot(server)).c_str());
    }
    loop.run_for(std::chrono::milliseconds(1000));
    const Snapshot after = snapshot(server);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const double rss_change = 100.0 * (after.process.rss_kb - before.process.rss_kb) /
                              static_cast<double>(before.process.rss_kb);
    std::printf("%d cycles in %.0f s (%d failed): RSS %+.1f %%\nbefore %s\nafter  %s\n", cycles,
                seconds, failures, rss_change, json(before).c_str(), json(after).c_str());
    std::ofstream("bench/results/soak.json")
        << "{\"cycles\":" << cycles << ",\"failed\":" << failures << ",\"seconds\":" << seconds
        << ",\"rss_change_percent\":" << rss_change << ",\"before\":" << json(before)
        << ",\"after\":" << json(after) << "}\n";
    return failures == 0 ? 0 : 1;
}
