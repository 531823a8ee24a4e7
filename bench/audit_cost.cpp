// What roll call costs the signaling thread at scale (not a test; numbers only): the
// RosterAuditor comparing synthetic honest rooms with their media-plane truth, as the 1 s
// full snapshot makes it do for every room. Build and run:
//   ninja -C build/dev rollcall_bench_audit && build/dev/rollcall_bench_audit [rooms=1000]
//   [people=10]
// Each participant publishes audio and video and receives everyone else's; so a room of N
// has 2N transports and 2N(N-1) consumers.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "room/RosterAuditor.hpp"

using namespace rollcall;

namespace {

struct Case {
    room::Room room;
    sfu::RoomTruth truth;
};

Case honest_room(int index, int people) {
    Case c;
    c.room.name = c.truth.room = "room-" + std::to_string(index);
    const transport::SdpFingerprint fp{"sha-256", std::string(95, 'A')};
    sfu::TransportId next_transport = 1;
    for (int p = 0; p < people; ++p) {
        room::Participant participant;
        participant.identity = "p" + std::to_string(p);
        participant.session =
            static_cast<std::uint64_t>(index) * 1000 + static_cast<std::uint64_t>(p) + 1;
        participant.grants.can_publish = participant.grants.can_subscribe = true;
        participant.publisher_fingerprint = participant.subscriber_fingerprint = fp;
        for (const char* kind : {"audio", "video"}) {
            const std::string id = "TR_" + participant.identity + kind;
            participant.tracks[id] =
                room::Track{id, kind, kind[0] == 'a' ? "microphone" : "camera", "0", "VP8", false};
        }
        c.room.participants[participant.identity] = participant;
    }
    for (auto& [identity, participant] : c.room.participants) {
        for (const auto& [other_identity, other] : c.room.participants) {
            if (other_identity == identity) continue;
            for (const auto& [track_id, track] : other.tracks)
                participant.subscriptions.insert(track_id);
        }
    }
    for (const auto& [identity, participant] : c.room.participants) {
        for (sfu::PeerRole role : {sfu::PeerRole::publisher, sfu::PeerRole::subscriber}) {
            sfu::TransportFact fact;
            fact.id = next_transport++;
            fact.session = participant.session;
            fact.role = role;
            fact.connected = true;
            fact.signaled = fp;
            fact.peer_fingerprint = fp.value;
            c.truth.transports.push_back(fact);
        }
        const sfu::TransportId subscriber_transport = c.truth.transports.back().id;
        for (const auto& [other_identity, other] : c.room.participants) {
            if (other_identity == identity) continue;
            for (const auto& [track_id, track] : other.tracks) {
                c.truth.consumers.push_back(
                    {subscriber_transport, participant.session, track_id, other.session, true, {}});
            }
        }
    }
    return c;
}

}  // namespace

int main(int argc, char** argv) {
    const int rooms = argc > 1 ? std::atoi(argv[1]) : 1000;
    const int people = argc > 2 ? std::atoi(argv[2]) : 10;
    std::vector<Case> cases;
    for (int i = 0; i < rooms; ++i) cases.push_back(honest_room(i, people));
    std::vector<double> sweeps_ms;
    std::size_t findings = 0;
    for (int sweep = 0; sweep < 21; ++sweep) {
        const auto start = std::chrono::steady_clock::now();
        for (const Case& c : cases) findings += room::RosterAuditor::audit(&c.room, c.truth).size();
        sweeps_ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
    }
    std::sort(sweeps_ms.begin(), sweeps_ms.end());
    const double median = sweeps_ms[sweeps_ms.size() / 2];
    std::printf(
        "{\"rooms\":%d,\"people_per_room\":%d,\"consumers_per_room\":%zu,\"sweeps\":%zu,"
        "\"sweep_median_ms\":%.3f,\"sweep_max_ms\":%.3f,\"per_room_us\":%.2f,\"findings\":%zu}\n",
        rooms, people, cases.front().truth.consumers.size(), sweeps_ms.size(), median,
        sweeps_ms.back(), median * 1000.0 / rooms, findings);
    return findings == 0 ? 0 : 1;  // honest rooms: anything found would be a false ejection
}
