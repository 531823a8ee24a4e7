#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "transport/Sdp.hpp"
#include "transport/WebRtcTransport.hpp"

namespace rollcall::sfu {

// One echoed track: what the peer sends on `remote_ssrc` comes back on `local_ssrc`.
struct EchoTrack {
    std::string mid;
    transport::MediaKind kind = transport::MediaKind::unknown;
    std::uint32_t remote_ssrc = 0;
    std::uint32_t local_ssrc = 0;
    std::uint8_t payload_type = 0;
    std::string codec;
};

// The answer to an offer for echo mode, before the transport's ICE and DTLS values exist.
struct EchoPlan {
    transport::SessionDescription answer;
    transport::RemoteTransportParameters remote;
    std::vector<EchoTrack> tracks;
};

struct PlanError {
    std::string code;  // signaling error code, e.g. "sdes_not_supported"
    std::string message;
};

// Checks an offer against what rollcall accepts (DTLS-SRTP only: SDES refused; BUNDLE and
// rtcp-mux required; a usable fingerprint) and chooses codecs: Opus for audio; VP8, then
// H264 (packetization-mode 1), then VP9 for video.
std::optional<EchoPlan> plan_echo(const transport::SessionDescription& offer, PlanError& error);

// Fills in the transport's ICE credentials, candidates, fingerprint and DTLS role.
void complete_answer(EchoPlan& plan, const transport::WebRtcTransport& transport);

}  // namespace rollcall::sfu
