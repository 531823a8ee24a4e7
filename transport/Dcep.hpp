#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace rollcall::transport {

// The Data Channel Establishment Protocol (RFC 8832): the two messages that open a data
// channel, carried on the channel's own SCTP stream with PPID 50.
enum class DataChannelType : std::uint8_t {
    reliable = 0x00,
    partial_reliable_rexmit = 0x01,  // maxRetransmits
    partial_reliable_timed = 0x02,   // maxPacketLifeTime (ms)
    reliable_unordered = 0x80,
    partial_reliable_rexmit_unordered = 0x81,
    partial_reliable_timed_unordered = 0x82,
};

struct DataChannelOpen {
    DataChannelType type = DataChannelType::reliable;
    std::uint16_t priority = 0;
    std::uint32_t reliability_parameter = 0;
    std::string label;
    std::string protocol;

    bool ordered() const noexcept { return (static_cast<std::uint8_t>(type) & 0x80) == 0; }
    // Delivered whatever it takes (not partially reliable).
    bool reliable() const noexcept { return (static_cast<std::uint8_t>(type) & 0x7f) == 0; }
};

// SCTP payload protocol identifiers used by WebRTC data channels (RFC 8831 §8).
enum class DataPpid : std::uint32_t {
    dcep = 50,
    string = 51,
    binary = 53,
    string_empty = 56,
    binary_empty = 57,
};

inline constexpr std::uint8_t kDcepOpen = 0x03;
inline constexpr std::uint8_t kDcepAck = 0x02;
// Label and protocol are each at most this long (rollcall's bound; the RFC allows 65535).
inline constexpr std::size_t kMaxDcepString = 256;

// A DATA_CHANNEL_OPEN, or nullopt (with why) when it is not a well-formed one: unknown
// type, lengths beyond the message or beyond kMaxDcepString, trailing bytes.
std::optional<DataChannelOpen> parse_dcep_open(std::span<const std::uint8_t> message,
                                               std::string& error);
// True for a DATA_CHANNEL_ACK (exactly one byte).
bool is_dcep_ack(std::span<const std::uint8_t> message) noexcept;
std::vector<std::uint8_t> write_dcep_open(const DataChannelOpen& open);
inline std::vector<std::uint8_t> write_dcep_ack() {
    return {kDcepAck};
}

}  // namespace rollcall::transport
