#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sfu/StreamStats.hpp"
#include "transport/MediaTally.hpp"
#include "transport/Sdp.hpp"

namespace rollcall::sfu {

using SessionId = std::uint64_t;
using Clock = std::chrono::steady_clock;
// Unique for the process's lifetime; never reused.
using TransportId = std::uint64_t;
TransportId next_transport_id() noexcept;

// A participant holds up to two transports: one it publishes on (it offers, the server
// answers recvonly) and one it receives on (the server offers sendonly, it answers).
enum class PeerRole : std::uint8_t { publisher, subscriber };
std::string_view to_string(PeerRole role) noexcept;

// What the media plane knows about one of its transports (docs/design.md, Roll call).
struct TransportFact {
    TransportId id = 0;
    SessionId session = 0;  // the participant the transport was created for
    PeerRole role = PeerRole::publisher;
    bool echo = false;
    bool connected = false;              // ICE and DTLS done, SRTP keyed
    std::string remote_address;          // the selected pair's remote end, once there is one
    transport::SdpFingerprint signaled;  // what the transport was told to expect
    std::string peer_fingerprint;        // the verified certificate's, in the signaled algorithm
    Clock::time_point since{};           // created
    // A subscriber transport with transport-cc: what the server estimates its link carries.
    double estimate_bps = 0;
    std::uint64_t probes = 0;  // bandwidth probes it has sent
};

// A forwarding sink: one producer's track going out on one transport.
struct ConsumerFact {
    TransportId transport = 0;
    SessionId subscriber = 0;
    std::string track_id;
    SessionId publisher = 0;
    bool active = false;  // packets are being forwarded
    Clock::time_point since{};
    StreamStats stats;  // in a full truth; zero otherwise
    // Simulcast: the layer forwarded now and the one wanted (-1: none, e.g. paused).
    int layer = -1;
    int target_layer = -1;
    // The subscriber's link: the highest layer it allows (-1: any), or no video at all.
    int max_layer = -1;
    bool video_off = false;
};

// One simulcast layer of a published track, as it arrives.
struct LayerFact {
    std::string rid;                      // empty for layers signaled by SSRC
    std::uint16_t width = 0, height = 0;  // from its last keyframe; 0 unknown
    bool active = false;                  // it flows
    double bitrate_bps = 0;               // over the last second
};

// A published track, with what arrives of it (in a full truth).
struct ProducerFact {
    std::string track_id;
    SessionId publisher = 0;
    transport::MediaKind kind = transport::MediaKind::unknown;
    bool paused = false;
    StreamStats stats;
    std::vector<LayerFact> layers;  // simulcast only, lowest first
};

// An SCTP association carrying data channels (docs/design.md, Data channels).
struct DataFact {
    TransportId transport = 0;
    SessionId session = 0;
    PeerRole role = PeerRole::publisher;
    bool connected = false;
    bool receives = false;              // the room's data is delivered to it
    bool sends = false;                 // what it sends is relayed to the room
    std::vector<std::string> channels;  // the open channels' labels
    std::uint64_t messages_in = 0, messages_out = 0;
};

struct RoomTruth {
    std::string room;
    std::vector<TransportFact> transports;
    std::vector<ConsumerFact> consumers;
    std::vector<ProducerFact> producers;
    std::vector<DataFact> data;
};

// A worker's own figures for /metrics, in each full truth: its thread's tally, what it holds
// now, and how busy its loop has been.
struct WorkerReport {
    transport::MediaTally tally;
    std::uint64_t producers = 0;
    std::uint64_t consumers = 0;
    double busy_seconds = 0;  // since the worker started: wall time not spent waiting in poll
};

// Something a transport saw that the roster cannot: the evidence of a refusal.
struct MediaIncident {
    enum class Kind : std::uint8_t {
        fingerprint_refused,  // the DTLS peer presented a certificate other than the signaled one
        path_change,          // ICE selected a new remote address; media stays on the old one
        credential_reuse,     // checks with the transport's ICE credentials from a stranger
    };
    Kind kind = Kind::fingerprint_refused;
    std::string room;
    TransportId transport = 0;
    SessionId session = 0;
    PeerRole role = PeerRole::publisher;
    std::string expected;  // the signaled fingerprint or the established address
    std::string observed;  // the presented fingerprint or the new address
    Clock::time_point at{};
};
std::string_view to_string(MediaIncident::Kind kind) noexcept;

// One worker's media plane as it was at `taken_at`, after it had run the signaling
// thread's commands up to number `applied`. `full`: every room the worker holds is here
// (a room that is absent has no media); otherwise only the rooms that just changed.
struct MediaTruth {
    std::size_t worker = 0;
    std::uint64_t applied = 0;
    Clock::time_point taken_at{};
    bool full = false;
    std::vector<RoomTruth> rooms;
    std::vector<MediaIncident> incidents;
    std::optional<WorkerReport> report;  // full truths only
};

}  // namespace rollcall::sfu
