#include "transport/PacketDemux.hpp"

namespace rollcall::transport {

PacketKind PacketDemux::classify(std::span<const std::uint8_t> datagram) noexcept {
    if (datagram.empty()) return PacketKind::unknown;
    const std::uint8_t first = datagram[0];
    if (first <= 3) return PacketKind::stun;
    if (first >= 16 && first <= 19) return PacketKind::zrtp;
    if (first >= 20 && first <= 63) return PacketKind::dtls;
    if (first >= 64 && first <= 79) return PacketKind::turn;
    if (first >= 128 && first <= 191) {
        if (datagram.size() < 2) return PacketKind::unknown;
        const std::uint8_t payload_type = datagram[1];
        // RFC 5761 §4: RTCP packet types 192..223 collide with RTP payload types 64..95
        // with the marker bit set; those RTP payload types must not be used.
        if (payload_type >= 192 && payload_type <= 223) {
            return datagram.size() >= 8 ? PacketKind::rtcp : PacketKind::unknown;
        }
        return datagram.size() >= 12 ? PacketKind::rtp : PacketKind::unknown;
    }
    return PacketKind::unknown;
}

std::string_view to_string(PacketKind kind) noexcept {
    switch (kind) {
        case PacketKind::stun:
            return "stun";
        case PacketKind::zrtp:
            return "zrtp";
        case PacketKind::dtls:
            return "dtls";
        case PacketKind::turn:
            return "turn";
        case PacketKind::rtp:
            return "rtp";
        case PacketKind::rtcp:
            return "rtcp";
        case PacketKind::unknown:
            return "unknown";
    }
    return "unknown";
}

}  // namespace rollcall::transport
