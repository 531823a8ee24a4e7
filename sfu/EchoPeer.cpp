#include "sfu/EchoPeer.hpp"

#include "transport/RtcpPacket.hpp"

namespace rollcall::sfu {

using namespace transport;

EchoPeer::EchoPeer(GMainContext* context, std::shared_ptr<const DtlsIdentity> identity,
                   transport::LocalNetwork network, std::vector<OfferedTrack> tracks,
                   Listener& listener)
    : tracks_(std::move(tracks)),
      listener_(listener),
      transport_(context, std::move(identity), std::move(network), *this) {}

void EchoPeer::on_transport_candidate(const SdpCandidate& candidate) {
    listener_.on_peer_candidate(candidate);
}

void EchoPeer::on_transport_connected() {
    request_keyframes();  // the echoed decoder starts on a keyframe
    listener_.on_peer_connected();
}

void EchoPeer::on_transport_failed(std::string_view reason) {
    listener_.on_peer_failed(reason);
}

void EchoPeer::on_rtp(RtpPacket& packet) {
    for (const OfferedTrack& track : tracks_) {
        if (track.remote_ssrc == packet.ssrc()) {
            if (packet.payload_type() != track.payload_type) return;  // only the negotiated codec
            packet.set_ssrc(track.local_ssrc);
            transport_.send_rtp(packet.bytes());
            return;
        }
    }
}

void EchoPeer::on_rtcp(std::span<const std::uint8_t> compound) {
    auto parsed = RtcpCompound::parse(compound);
    if (!parsed) return;
    // Reports are terminated here; keyframe requests for what we send are relayed to the
    // sender of the original stream.
    for (const RtcpHeader& header : parsed->packets()) {
        if (!is_pli(header) && !is_fir(header)) continue;
        auto feedback = parse_feedback(header);
        if (!feedback) continue;
        std::uint32_t target = feedback->media_ssrc;
        if (is_fir(header)) {
            auto entries = parse_fir(*feedback);
            if (!entries || entries->empty()) continue;
            target = entries->front().ssrc;
        }
        for (const OfferedTrack& track : tracks_) {
            if (track.local_ssrc == target) {
                const auto pli = write_pli(track.local_ssrc, track.remote_ssrc);
                transport_.send_rtcp(pli);
            }
        }
    }
}

void EchoPeer::request_keyframes() {
    for (const OfferedTrack& track : tracks_) {
        if (track.kind != MediaKind::video) continue;
        const auto pli = write_pli(track.local_ssrc, track.remote_ssrc);
        transport_.send_rtcp(pli);
    }
}

}  // namespace rollcall::sfu
