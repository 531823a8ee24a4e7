#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "transport/RtcpPacket.hpp"

namespace rollcall::transport {

// Transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-extensions-01):
// the sender numbers every RTP packet of a transport in one header extension; the receiver
// reports when each arrived, and the sender's estimator (GoogCC in browsers) reads delay and
// loss from that. docs/design.md, "Congestion control".
inline constexpr std::string_view kTransportCcUri =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

// Receive times are kept in microseconds; the wire carries them in these steps.
inline constexpr std::int64_t kTransportCcDeltaUs = 250;
inline constexpr std::int64_t kTransportCcReferenceUs = 64'000;

// The transport-wide sequence number in a packet's extension element, or nullopt.
std::optional<std::uint16_t> transport_cc_sequence(std::span<const std::uint8_t> element) noexcept;

// One packet a feedback message reports.
struct TransportCcPacket {
    std::uint16_t sequence = 0;
    bool received = false;
    std::int64_t receive_us = 0;  // when received: the reference time plus the deltas so far
};

// A whole feedback message (RTPFB FMT 15).
struct TransportCcFeedback {
    std::uint16_t base_sequence = 0;
    std::int32_t reference_time = 0;  // 24-bit signed, multiples of 64 ms
    std::uint8_t feedback_count = 0;
    std::vector<TransportCcPacket> packets;  // base_sequence onwards, one per status
};

// The most packets one message may report: the server never writes more, and a message
// claiming more is refused before anything is allocated for it.
inline constexpr std::size_t kMaxTransportCcStatuses = 8192;

// Every chunk and delta of the message, checked against the FCI's length; nullopt when
// anything overruns, a chunk uses the reserved symbol, or the status count is too large.
std::optional<TransportCcFeedback> parse_transport_cc(const FeedbackHeader& feedback);

// The receiving side: remembers when each packet of the peer's transport-wide sequence
// arrived and writes the feedback that reports them, from the first packet not yet reported
// to the newest one. A packet that arrives after it was reported missing is reported again.
// At most kHistory packets are remembered (about 2 s of video at 1,000 packets/s); what falls
// out of that window unreported is left out.
class TransportCcRecorder {
  public:
    static constexpr std::size_t kHistory = 2048;
    static constexpr std::size_t kMaxPacketSize = 1200;  // one RTCP packet, all headers included

    void on_packet(std::uint16_t sequence, std::int64_t arrival_us);
    bool pending() const noexcept { return started_ && next_ <= newest_; }

    // The next feedback message (one RTCP packet of at most kMaxPacketSize bytes, padded
    // with the P bit, so it goes alone in its datagram) into `out`; returns its size, or 0
    // when nothing is pending or it does not fit `out` (then it stays pending).
    std::size_t write_feedback(std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                               std::span<std::uint8_t> out);

  private:
    struct Arrival {
        std::int64_t sequence = -1;  // unwrapped; -1: empty slot
        std::int64_t arrival_us = 0;
    };
    const Arrival* find(std::int64_t sequence) const noexcept;

    std::vector<Arrival> history_;  // allocated with the first packet
    bool started_ = false;
    std::int64_t newest_ = 0;  // unwrapped
    std::int64_t next_ = 0;    // the first sequence not yet reported
    std::uint8_t feedback_count_ = 0;
};

}  // namespace rollcall::transport
