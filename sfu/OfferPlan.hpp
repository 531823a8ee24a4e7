#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "transport/Sdp.hpp"
#include "transport/WebRtcTransport.hpp"

namespace rollcall::sfu {

// One track a peer offered to send. In echo mode what it sends on `remote_ssrc` comes back
// on `local_ssrc`; when publishing, `local_ssrc` is unused.
struct OfferedTrack {
    std::string mid;
    transport::MediaKind kind = transport::MediaKind::unknown;
    std::uint32_t remote_ssrc = 0;
    std::uint32_t local_ssrc = 0;
    std::uint8_t payload_type = 0;
    std::string codec;
    transport::SdpCodec codec_info;  // the chosen codec as offered (clock rate, fmtp, feedback)
    std::string track_id;            // publish: the server's name for the track (set by signaling)
};

// A section the peer offered to send on that the server answered inactive, and why: never
// silent, so the client can tell the person (docs/protocol.md, `answer`).
struct RejectedSection {
    std::string mid;
    transport::MediaKind kind = transport::MediaKind::unknown;
    std::string code;  // "no_codec", "no_ssrc", "no_mid", "too_many_tracks", "unsupported_media"
    std::string message;
};

// The answer to a client's offer (echo or publish), before the transport's ICE and DTLS
// values exist.
struct OfferPlan {
    transport::SessionDescription answer;
    transport::RemoteTransportParameters remote;
    std::vector<OfferedTrack> tracks;
    std::vector<RejectedSection> rejected;
};

struct PlanError {
    std::string code;  // signaling error code, e.g. "sdes_not_supported"
    std::string message;
};

enum class OfferMode : std::uint8_t {
    echo,     // sendrecv: the peer's own media comes back
    publish,  // recvonly: the server receives the tracks and forwards them to subscribers
};

// Checks an offer against what rollcall accepts (DTLS-SRTP only: SDES refused; BUNDLE and
// rtcp-mux required; a usable fingerprint) and chooses codecs: Opus for audio; VP8, then
// H264 (packetization-mode 1), then VP9 for video. Header extensions are not negotiated
// when publishing (the SFU demuxes by SSRC and forwards without them). A section stopped by
// its sender (SessionDescription::is_stopped) or not sending is answered inactive quietly; a
// sending section the server cannot take is answered inactive and listed in `rejected`.
std::optional<OfferPlan> plan_offer(const transport::SessionDescription& offer, OfferMode mode,
                                    PlanError& error);
inline std::optional<OfferPlan> plan_echo(const transport::SessionDescription& offer,
                                          PlanError& error) {
    return plan_offer(offer, OfferMode::echo, error);
}

// A subscriber's answer to the server's offer: its transport parameters (the same rules:
// no SDES, BUNDLE, rtcp-mux, a fingerprint), and the mids it accepted RTX on.
struct SubscriberAnswer {
    transport::RemoteTransportParameters remote;
    std::vector<std::string> rtx_mids;
    std::vector<std::string> rejected_mids;  // port 0
};
std::optional<SubscriberAnswer> plan_subscriber_answer(const transport::SessionDescription& answer,
                                                       PlanError& error);

// Fills in the transport's ICE credentials, candidates, fingerprint and DTLS role.
void complete_answer(OfferPlan& plan, const transport::WebRtcTransport& transport);

}  // namespace rollcall::sfu
