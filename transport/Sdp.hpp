#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rollcall::transport {

// The parts of an SDP (RFC 8866) that WebRTC peers use, as Chromium and aiortc write them
// (JSEP, RFC 8829): BUNDLE, ICE and DTLS attributes, codecs, header extensions and SSRCs.
enum class MediaKind : std::uint8_t { audio, video, application, unknown };
enum class Direction : std::uint8_t { sendrecv, sendonly, recvonly, inactive };

struct SdpCodec {
    std::uint8_t payload_type = 0;
    std::string name;  // as written, e.g. "opus", "VP8", "rtx"
    std::uint32_t clock_rate = 0;
    std::uint8_t channels = 0;  // 0 when absent
    std::string fmtp;
    std::vector<std::string> feedback;  // "nack", "nack pli", "transport-cc", ...
};

struct SdpExtension {
    std::uint8_t id = 0;
    std::string uri;
};

struct SdpCandidate {
    std::string foundation;
    std::uint16_t component = 1;
    std::string transport;  // "udp", "tcp"
    std::uint32_t priority = 0;
    std::string address;
    std::uint16_t port = 0;
    std::string type;  // "host", "srflx", "prflx", "relay"
};

struct SdpFingerprint {
    std::string algorithm;  // lower case, e.g. "sha-256"
    std::string value;      // upper-case hex pairs separated by ':'

    bool operator==(const SdpFingerprint&) const = default;
};

struct SdpSsrcGroup {
    std::string semantics;  // "FID", "SIM"
    std::vector<std::uint32_t> ssrcs;
};

// a=rid (RFC 8851): one RTP stream of a simulcast section, named in the rid header
// extension instead of by SSRC.
struct SdpRid {
    std::string id;
    bool send = true;    // "send" or "recv"
    std::string params;  // as written ("max-width=…;…"), may be empty
};

struct SdpMedia {
    MediaKind kind = MediaKind::unknown;
    std::string kind_name;
    std::uint16_t port = 0;
    std::string protocol;  // "UDP/TLS/RTP/SAVPF"
    std::vector<std::string> formats;
    std::string mid;
    Direction direction = Direction::sendrecv;
    bool rtcp_mux = false;
    bool rtcp_rsize = false;
    bool has_crypto = false;  // a=crypto (SDES): refused by rollcall
    std::string ice_ufrag;
    std::string ice_pwd;
    std::vector<SdpFingerprint> fingerprints;
    std::string setup;  // "actpass", "active", "passive"
    std::vector<SdpCodec> codecs;
    std::vector<SdpExtension> extensions;
    std::vector<std::uint32_t> ssrcs;
    std::vector<SdpSsrcGroup> ssrc_groups;
    std::vector<SdpRid> rids;
    // a=simulcast (RFC 8853): the streams each way, in order, by rid (the first alternative
    // of each; a paused "~" stream keeps its place, without the "~").
    std::vector<std::string> simulcast_send;
    std::vector<std::string> simulcast_recv;
    std::string cname;
    std::string msid;
    std::vector<SdpCandidate> candidates;
    bool end_of_candidates = false;
    bool bundle_only = false;  // a=bundle-only (RFC 8843 §6): live only inside the BUNDLE group
    // Data channels (m=application … UDP/DTLS/SCTP webrtc-datachannel, RFC 8841): 0 = absent.
    std::uint16_t sctp_port = 0;
    std::uint64_t max_message_size = 0;
    // The older form (draft-ietf-mmusic-sctp-sdp-05, as aiortc writes it): m=application …
    // DTLS/SCTP <port> with a=sctpmap:<port> webrtc-datachannel <streams>.
    bool sctpmap = false;

    const SdpCodec* codec(std::uint8_t payload_type) const;
    const SdpExtension* extension(std::string_view uri) const;
};

struct SessionDescription {
    std::string origin_session_id = "0";
    std::uint64_t origin_version = 1;
    std::vector<std::string> bundle;  // mids in a=group:BUNDLE
    std::string ice_ufrag;            // session-level defaults
    std::string ice_pwd;
    std::vector<SdpFingerprint> fingerprints;
    std::string setup;
    bool ice_lite = false;
    std::vector<SdpMedia> media;

    // Media-level value, else the session-level one (RFC 8839 §5.4, RFC 8122 §5).
    const std::string& ufrag_of(const SdpMedia& m) const {
        return m.ice_ufrag.empty() ? ice_ufrag : m.ice_ufrag;
    }
    const std::string& pwd_of(const SdpMedia& m) const {
        return m.ice_pwd.empty() ? ice_pwd : m.ice_pwd;
    }
    const std::vector<SdpFingerprint>& fingerprints_of(const SdpMedia& m) const {
        return m.fingerprints.empty() ? fingerprints : m.fingerprints;
    }
    const std::string& setup_of(const SdpMedia& m) const {
        return m.setup.empty() ? setup : m.setup;
    }
    bool in_bundle(const SdpMedia& m) const;
    // A section its sender stopped or rejected: port 0, unless it is `a=bundle-only` inside
    // the BUNDLE group. With max-bundle, Firefox offers every section but the first that way
    // (RFC 8843 §7.2, RFC 8829 §5.2.1) and those are live (Chromium writes port 9 instead).
    bool is_stopped(const SdpMedia& m) const;
};

// The most m= sections a description may carry: as many as the server ever offers a
// subscriber (one per received track), so a full offer's answer always parses.
inline constexpr std::size_t kMaxMediaSections = 64;

struct SdpLimits {
    std::size_t max_bytes = 64 * 1024;
    std::size_t max_media = kMaxMediaSections;
    std::size_t max_codecs = 64;
    std::size_t max_candidates = 32;
    std::size_t max_ssrcs = 64;
    std::size_t max_rids = 8;  // per section
};

// Parses an SDP; on failure returns nullopt and says why in `error`. Never throws.
std::optional<SessionDescription> parse_sdp(std::string_view text, std::string& error,
                                            const SdpLimits& limits = {});
// Writes an SDP with CRLF line ends.
std::string write_sdp(const SessionDescription& description);

// A candidate line's value (after "candidate:"), or nullopt.
std::optional<SdpCandidate> parse_candidate(std::string_view value);
std::string write_candidate(const SdpCandidate& candidate);

std::string_view to_string(Direction direction) noexcept;
std::string_view to_string(MediaKind kind) noexcept;
// "sha-256 AB:CD:…", as in a=fingerprint.
std::string to_string(const SdpFingerprint& fingerprint);

}  // namespace rollcall::transport
