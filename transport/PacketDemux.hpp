#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace rollcall::transport {

// What a datagram on a WebRTC 5-tuple carries, sorted once at the entry (RFC 7983 §7).
enum class PacketKind : std::uint8_t {
    stun,     // first byte 0..3
    zrtp,     // 16..19, never accepted
    dtls,     // 20..63
    turn,     // 64..79 (TURN channel data), never accepted here
    rtp,      // 128..191 and not RTCP
    rtcp,     // 128..191 with payload type 192..223 (RFC 5761 §4)
    unknown,  // everything else, including an empty datagram
};

class PacketDemux {
  public:
    // Classifies by the first byte; RTP and RTCP are told apart by the second byte and
    // require a full 12-byte RTP header (8 bytes for RTCP) to count as either.
    static PacketKind classify(std::span<const std::uint8_t> datagram) noexcept;
};

std::string_view to_string(PacketKind kind) noexcept;

}  // namespace rollcall::transport
