#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace rollcall::transport {

// RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1).
enum class RtcpType : std::uint8_t {
    sender_report = 200,
    receiver_report = 201,
    sdes = 202,
    bye = 203,
    app = 204,
    rtp_feedback = 205,      // FMT 1 NACK, 15 transport-cc
    payload_feedback = 206,  // FMT 1 PLI, 4 FIR, 15 application layer (REMB)
    extended_report = 207,
};

// One packet of a compound (or reduced-size, RFC 5506) RTCP datagram.
struct RtcpHeader {
    std::uint8_t count = 0;  // report count, source count or FMT, by type
    std::uint8_t type = 0;
    std::span<const std::uint8_t> packet;  // the whole packet, header and padding included
    std::span<const std::uint8_t> body;    // after the 4-byte header, padding removed
};

// Splits a datagram into its RTCP packets, checking every length word. Fails on a packet
// that overruns, a bad version, padding anywhere but the last packet, or too many packets.
class RtcpCompound {
  public:
    static constexpr std::size_t kMaxPackets = 16;

    static std::optional<RtcpCompound> parse(std::span<const std::uint8_t> data) noexcept;

    std::span<const RtcpHeader> packets() const noexcept { return {packets_.data(), count_}; }

  private:
    std::array<RtcpHeader, kMaxPackets> packets_{};
    std::size_t count_ = 0;
};

struct ReportBlock {
    std::uint32_t ssrc = 0;
    std::uint8_t fraction_lost = 0;
    std::int32_t cumulative_lost = 0;  // 24-bit signed
    std::uint32_t highest_sequence = 0;
    std::uint32_t jitter = 0;
    std::uint32_t last_sr = 0;
    std::uint32_t delay_since_last_sr = 0;
};

struct SenderReport {
    std::uint32_t ssrc = 0;
    std::uint64_t ntp_time = 0;
    std::uint32_t rtp_time = 0;
    std::uint32_t packet_count = 0;
    std::uint32_t octet_count = 0;
    std::vector<ReportBlock> reports;
};

struct ReceiverReport {
    std::uint32_t ssrc = 0;
    std::vector<ReportBlock> reports;
};

struct SdesChunk {
    std::uint32_t ssrc = 0;
    std::span<const std::uint8_t> cname;  // empty when the chunk has none
};

struct Bye {
    std::vector<std::uint32_t> ssrcs;
    std::span<const std::uint8_t> reason;
};

// The common part of RTPFB/PSFB messages (RFC 4585 §6.1).
struct FeedbackHeader {
    std::uint32_t sender_ssrc = 0;
    std::uint32_t media_ssrc = 0;
    std::span<const std::uint8_t> fci;
};

struct NackItem {
    std::uint16_t packet_id = 0;
    std::uint16_t lost_bitmask = 0;  // bit i set: packet_id + i + 1 lost too
};

struct FirEntry {
    std::uint32_t ssrc = 0;
    std::uint8_t sequence = 0;
};

struct Remb {
    std::uint64_t bitrate_bps = 0;
    std::vector<std::uint32_t> ssrcs;
};

std::optional<SenderReport> parse_sender_report(const RtcpHeader& header);
std::optional<ReceiverReport> parse_receiver_report(const RtcpHeader& header);
std::optional<std::vector<SdesChunk>> parse_sdes(const RtcpHeader& header);
std::optional<Bye> parse_bye(const RtcpHeader& header);
std::optional<FeedbackHeader> parse_feedback(const RtcpHeader& header) noexcept;
std::optional<std::vector<NackItem>> parse_nack(const FeedbackHeader& feedback);
std::optional<std::vector<FirEntry>> parse_fir(const FeedbackHeader& feedback);
std::optional<Remb> parse_remb(const FeedbackHeader& feedback);
// transport-cc feedback: transport/TransportCc.hpp

// Which feedback message a packet is, by type and FMT (RFC 4585 §6.2-6.3, RFC 5104 §4.3).
bool is_pli(const RtcpHeader& header) noexcept;
bool is_fir(const RtcpHeader& header) noexcept;
bool is_nack(const RtcpHeader& header) noexcept;
bool is_transport_cc(const RtcpHeader& header) noexcept;
bool is_application_feedback(const RtcpHeader& header) noexcept;  // REMB rides here

// Writers for what the server itself sends.
std::array<std::uint8_t, 12> write_pli(std::uint32_t sender_ssrc,
                                       std::uint32_t media_ssrc) noexcept;
std::array<std::uint8_t, 20> write_fir(std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                                       std::uint8_t sequence) noexcept;
// A sender report with no report blocks (28 bytes, RFC 3550 §6.4.1).
std::array<std::uint8_t, 28> write_sender_report(const SenderReport& report) noexcept;
// A receiver report with up to 31 blocks written into `out` (at least 8 + 24 per block
// bytes); returns the bytes written, or 0 when `out` is too small.
std::size_t write_receiver_report(std::uint32_t sender_ssrc, std::span<const ReportBlock> blocks,
                                  std::span<std::uint8_t> out) noexcept;
std::vector<std::uint8_t> write_nack(std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                                     std::span<const NackItem> items);

}  // namespace rollcall::transport
