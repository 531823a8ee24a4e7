#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sfu/MediaError.hpp"
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
    // Simulcast (publish, video), lowest layer first: by rid, or by an a=ssrc-group:SIM.
    std::vector<std::string> rids;
    std::vector<std::uint32_t> layer_ssrcs;
};

// The most simulcast layers a track may have; more offered are answered without them.
inline constexpr std::size_t kMaxSimulcastLayers = 3;

// A section the peer offered to send on that the server answered inactive, and why: never
// silent, so the client can tell the person (docs/protocol.md, `answer`).
struct RejectedSection {
    std::string mid;
    transport::MediaKind kind = transport::MediaKind::unknown;
    std::string code;  // "no_codec", "no_ssrc", "no_mid", "too_many_tracks", "unsupported_media"
    std::string message;
};

// The data channels' section a publisher offered (m=application … webrtc-datachannel).
struct DataSection {
    std::string mid;
    std::uint16_t sctp_port = 5000;
    std::size_t remote_max_message_size = 64 * 1024;  // RFC 8841 §6.1: 64 KB when absent
    // Set by signaling from the token: who sends, and whether it may send and receive.
    std::string identity;
    bool may_send = false;
    bool may_receive = false;
};

// The server's a=max-message-size: the largest data-channel message it takes.
inline constexpr std::size_t kMaxDataMessage = 16 * 1024;

// The answer to a client's offer (echo or publish), before the transport's ICE and DTLS
// values exist.
struct OfferPlan {
    transport::SessionDescription answer;
    transport::RemoteTransportParameters remote;
    std::vector<OfferedTrack> tracks;
    std::vector<RejectedSection> rejected;
    std::optional<DataSection> data;  // publish only: the offer's data channels
    // publish only: the transport-wide sequence number's extension id (0: not negotiated);
    // the server then sends transport-cc feedback for everything the publisher sends.
    std::uint8_t transport_cc_extension = 0;
    // Simulcast by rid: the mid and rid extensions' ids (0: none), which name a layer's
    // SSRC in its first packets.
    std::uint8_t mid_extension = 0;
    std::uint8_t rid_extension = 0;
};

// The fingerprint (sha-256 preferred), ICE credentials, setup and candidates of the BUNDLE
// transport carried by `m`; false (with `error` set) when something is missing.
bool transport_parameters(const transport::SessionDescription& sdp, const transport::SdpMedia& m,
                          transport::RemoteTransportParameters& remote, MediaResult& error);

// A random SSRC (never 0), also good for an SDP session id.
std::uint32_t random_ssrc();

enum class OfferMode : std::uint8_t {
    echo,     // sendrecv: the peer's own media comes back
    publish,  // recvonly: the server receives the tracks and forwards them to subscribers
};

// Checks an offer against what rollcall accepts (DTLS-SRTP only: SDES refused; BUNDLE and
// rtcp-mux required; a usable fingerprint) and chooses codecs: Opus for audio; VP8, then
// H264 (packetization-mode 1), then VP9 for video. When publishing, the only header
// extension negotiated is the transport-wide sequence number (with `transport-cc` feedback:
// the server reports arrivals, the browser's estimator reads them); the SFU demuxes by SSRC
// and forwards without extensions. Video may be simulcast: by rid (a=rid, a=simulcast, with
// the mid and rid extensions negotiated too; up to kMaxSimulcastLayers, in the offer's order,
// which the server takes as lowest first) or by an a=ssrc-group:SIM. A section stopped by
// its sender (SessionDescription::is_stopped) or not sending is answered inactive quietly; a
// sending section the server cannot take is answered inactive and listed in `rejected`.
// When publishing, one data-channel section in the BUNDLE group is accepted too (`data`),
// and an offer with only that section is a data-only connection.
std::optional<OfferPlan> plan_offer(const transport::SessionDescription& offer, OfferMode mode,
                                    MediaResult& error);
inline std::optional<OfferPlan> plan_echo(const transport::SessionDescription& offer,
                                          MediaResult& error) {
    return plan_offer(offer, OfferMode::echo, error);
}

// A subscriber's answer to the server's offer: its transport parameters (the same rules:
// no SDES, BUNDLE, rtcp-mux, a fingerprint), and the mids it accepted RTX on.
struct SubscriberAnswer {
    transport::RemoteTransportParameters remote;
    std::vector<std::string> rtx_mids;
    std::vector<std::string> rejected_mids;  // port 0
    // It kept the transport-wide sequence extension: the server stamps what it sends and
    // reads the subscriber's transport-cc feedback (kSubscriberTransportCcId).
    bool transport_cc = false;
};

// The id of the transport-wide sequence extension in the server's offers to subscribers.
inline constexpr std::uint8_t kSubscriberTransportCcId = 3;
std::optional<SubscriberAnswer> plan_subscriber_answer(const transport::SessionDescription& answer,
                                                       MediaResult& error);

// What the server's side of a transport puts in its SDP.
struct LocalTransportParameters {
    std::string ice_ufrag;
    std::string ice_pwd;
    transport::SdpFingerprint fingerprint;
    std::string setup;  // "actpass" in the server's offers; "passive" or "active" in answers
    std::vector<transport::SdpCandidate> candidates;
};
LocalTransportParameters local_parameters(const transport::WebRtcTransport& transport);

// The same from SDP text, which they parse first (sdp_malformed when it does not parse):
// signaling hands the media layer text and gets a plan back.
std::optional<OfferPlan> plan_offer(std::string_view sdp, OfferMode mode, MediaResult& error);
std::optional<SubscriberAnswer> plan_subscriber_answer(std::string_view sdp, MediaResult& error);
// A trickled candidate line ("candidate:…"), or nullopt when it is not one.
std::optional<transport::SdpCandidate> parse_remote_candidate(std::string_view line);

// Fills in the transport's ICE credentials, candidates, fingerprint and DTLS role.
void complete_answer(OfferPlan& plan, const LocalTransportParameters& local);

// One m-section of the server's offer to a subscriber. A section with a track sends it on
// `ssrc` (and RTX on `rtx_ssrc` when non-zero); one without is inactive and keeps its last
// codec, so mids and payload types stay stable for the connection's life.
struct SubscriberSection {
    std::string mid;
    transport::MediaKind kind = transport::MediaKind::unknown;
    transport::SdpCodec codec;  // with this leg's payload type and feedback
    std::string track_id;       // empty: inactive
    std::string stream_id;      // the publisher's, so a participant's tracks share a stream
    std::uint32_t ssrc = 0;
    std::uint32_t rtx_ssrc = 0;
    std::uint8_t rtx_payload_type = 0;
};

// The server's offer to a subscriber: every section in one BUNDLE group, sendonly or
// inactive, rtcp-mux and rtcp-rsize, the transport-wide sequence extension with
// transport-cc feedback, the server's own candidates only. A pure function.
transport::SessionDescription subscriber_offer(const std::string& origin, std::uint64_t version,
                                               const LocalTransportParameters& local,
                                               const std::vector<SubscriberSection>& sections);

}  // namespace rollcall::sfu
