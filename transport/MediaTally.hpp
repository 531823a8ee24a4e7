#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace rollcall::transport {

// A Prometheus histogram's state: a count per bucket (not cumulative; the last is +Inf), the
// sum and the number of observations. The bucket bounds belong to the family (MediaTally).
struct Histogram {
    static constexpr std::size_t kMaxBuckets = 12;
    std::array<std::uint64_t, kMaxBuckets + 1> counts{};
    double sum = 0;
    std::uint64_t count = 0;

    void observe(std::span<const double> bounds, double value) noexcept {
        const auto it = std::lower_bound(bounds.begin(), bounds.end(), value);
        ++counts[static_cast<std::size_t>(it - bounds.begin())];
        sum += value;
        ++count;
    }
    void add(const Histogram& other) noexcept {
        for (std::size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
        sum += other.sum;
        count += other.count;
    }
};

// Why a datagram that reached a transport was not used.
enum class DropReason : std::uint8_t {
    before_dtls,   // media before SRTP was keyed, or DTLS before ICE validated the pair
    unknown_ssrc,  // an SSRC that was not negotiated (or one receiver-only SSRC too many)
    srtp_auth,     // SRTP/SRTCP authentication failed
    srtp_replay,   // a replayed SRTP/SRTCP packet
    malformed,     // not RTP, RTCP, DTLS or STUN, or not parseable as what it claimed
    dtls_records,  // a DTLS datagram refused before OpenSSL (too many or ill-formed records)
    send_failed,   // an outgoing packet the socket did not take
    count_
};
inline constexpr std::array<const char*, static_cast<std::size_t>(DropReason::count_)>
    kDropReasonNames{"before_dtls", "unknown_ssrc", "srtp_auth",  "srtp_replay",
                     "malformed",   "dtls_records", "send_failed"};

// Why a data-channel message was not relayed (docs/protocol.md, Data channels).
enum class DataDrop : std::uint8_t {
    not_permitted,  // the sender's token has no canPublishData
    too_big,        // beyond the server's a=max-message-size
    rate_limited,   // over the sender's message or byte budget
    malformed,      // not a message of the room-data format
    receiver_full,  // an unreliable channel's receiver was not keeping up
    count_
};
inline constexpr std::array<const char*, static_cast<std::size_t>(DataDrop::count_)> kDataDropNames{
    "not_permitted", "too_big", "rate_limited", "malformed", "receiver_full"};

enum class DtlsFailure : std::uint8_t {
    fingerprint_mismatch,  // the certificate was not the signaled one
    timeout,               // the handshake did not complete in time
    protocol,              // any other handshake error (alert, no SRTP profile, …)
    count_
};
inline constexpr std::array<const char*, static_cast<std::size_t>(DtlsFailure::count_)>
    kDtlsFailureNames{"fingerprint_mismatch", "timeout", "protocol"};

// Which end measured a loss, jitter or RTT sample: the server receiving from a publisher, or
// a subscriber reporting what it received from the server (RTCP receiver reports).
enum class Leg : std::uint8_t { publisher, subscriber, count_ };
inline constexpr std::array<const char*, 2> kLegNames{"publisher", "subscriber"};

// Media counters of one thread, cumulative for the process's life. Each media worker thread
// writes its own (media_tally()) without atomics or locks and copies it into the truth it
// publishes once a second; the metrics page adds the workers' latest copies together.
struct MediaTally {
    static constexpr std::size_t kKinds = 2;  // 0 audio, 1 video
    static constexpr std::array<double, 10> kLossBounds{0.001, 0.005, 0.01, 0.02, 0.05,
                                                        0.1,   0.2,   0.3,  0.5,  1.0};
    static constexpr std::array<double, 10> kJitterBounds{0.001, 0.0025, 0.005, 0.01, 0.02,
                                                          0.04,  0.08,   0.16,  0.32, 0.64};
    static constexpr std::array<double, 11> kRttBounds{0.005, 0.01, 0.02, 0.04, 0.08, 0.16,
                                                       0.32,  0.64, 1.28, 2.56, 5.12};
    static constexpr std::array<double, 9> kLagBounds{0.001, 0.002, 0.005, 0.01, 0.025,
                                                      0.05,  0.1,   0.25,  1.0};

    std::array<std::uint64_t, kKinds> rtp_packets_in{}, rtp_bytes_in{};
    std::array<std::uint64_t, kKinds> rtp_packets_out{}, rtp_bytes_out{};
    std::uint64_t rtcp_packets_in = 0, rtcp_packets_out = 0;
    std::array<std::uint64_t, static_cast<std::size_t>(DropReason::count_)> dropped{};

    std::uint64_t nacks_received = 0;          // NACK messages from subscribers
    std::uint64_t nack_packets_requested = 0;  // distinct packets they named
    std::uint64_t retransmissions = 0, retransmission_bytes = 0;
    std::uint64_t retransmissions_refused = 0;  // resent too recently, or over the budget
    std::uint64_t pli_received = 0, fir_received = 0, pli_sent = 0, fir_sent = 0;
    std::uint64_t transport_feedback_sent = 0;  // transport-cc messages to publishers
    // Bandwidth probes towards subscribers: clusters started, padding-only RTX packets sent.
    std::uint64_t probe_clusters = 0, padding_packets = 0, padding_bytes = 0;

    std::uint64_t dtls_handshakes = 0;
    std::array<std::uint64_t, static_cast<std::size_t>(DtlsFailure::count_)> dtls_failures{};
    std::uint64_t ice_restarts = 0;
    std::uint64_t consent_failures = 0;  // connected transports that lost ICE consent

    std::array<Histogram, 2> loss{};    // fraction lost per report interval, by Leg
    std::array<Histogram, 2> jitter{};  // seconds, by Leg
    Histogram rtt;                      // seconds, subscriber leg (from its reports on our SRs)

    // Data channels: messages relayed in and out, and those refused, by DataDrop.
    std::uint64_t data_messages_in = 0, data_bytes_in = 0;
    std::uint64_t data_messages_out = 0, data_bytes_out = 0;
    std::array<std::uint64_t, static_cast<std::size_t>(DataDrop::count_)> data_dropped{};
    std::uint64_t data_slow_receivers = 0;  // associations closed for not keeping up

    Histogram loop_lag;              // seconds a 250 ms timer of the worker fired late
    std::uint64_t loop_idle_ns = 0;  // time the worker's loop spent waiting in poll()

    void drop(DropReason reason) noexcept { ++dropped[static_cast<std::size_t>(reason)]; }
    static std::size_t kind_index(bool video) noexcept { return video ? 1 : 0; }
};

// The calling thread's tally (a media worker's, or a unit test's).
inline MediaTally& media_tally() noexcept {
    thread_local MediaTally tally;
    return tally;
}

}  // namespace rollcall::transport
