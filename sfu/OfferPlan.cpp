#include "sfu/OfferPlan.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <set>

#include "transport/TransportCc.hpp"

namespace rollcall::sfu {

using namespace transport;

std::uint32_t random_ssrc() {
    std::uint32_t value = 0;
    while (value == 0) RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof(value));
    return value;
}

namespace {

constexpr std::string_view kMidUri = "urn:ietf:params:rtp-hdrext:sdes:mid";
constexpr std::string_view kAudioLevelUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
constexpr std::string_view kRidUri = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
constexpr std::size_t kMaxTracks = 8;

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

const SdpCodec* choose_codec(const SdpMedia& m) {
    auto find = [&](std::string_view name, auto&& accept) -> const SdpCodec* {
        for (const auto& c : m.codecs)
            if (iequals(c.name, name) && accept(c)) return &c;
        return nullptr;
    };
    auto any = [](const SdpCodec&) { return true; };
    if (m.kind == MediaKind::audio) return find("opus", any);
    if (const SdpCodec* vp8 = find("VP8", any)) return vp8;
    if (const SdpCodec* h264 = find("H264", [](const SdpCodec& c) {
            return c.fmtp.find("packetization-mode=1") != std::string::npos;
        })) {
        return h264;
    }
    return find("VP9", any);
}

// The SSRC a sender's media rides on: signaled, and not the repair SSRC of an FID group.
std::optional<std::uint32_t> primary_ssrc(const SdpMedia& m) {
    for (std::uint32_t ssrc : m.ssrcs) {
        const bool is_repair =
            std::any_of(m.ssrc_groups.begin(), m.ssrc_groups.end(), [&](const SdpSsrcGroup& g) {
                return g.semantics == "FID" && g.ssrcs.size() == 2 && g.ssrcs[1] == ssrc;
            });
        if (!is_repair) return ssrc;
    }
    return std::nullopt;
}

// An extension's id, in the one-byte range, agreeing with the id the plan already took for
// it (one id per URI on the BUNDLE transport; the first section sets it); 0 otherwise.
std::uint8_t agreed_extension(const SdpMedia& m, std::string_view uri, std::uint8_t& taken) {
    const SdpExtension* ext = m.extension(uri);
    if (!ext || ext->id == 0 || ext->id > 14) return 0;
    if (taken == 0) taken = ext->id;
    return ext->id == taken ? ext->id : 0;
}

// The simulcast layers a video section offers to send, lowest first: by rid when the mid
// and rid extensions come with them, else by an a=ssrc-group:SIM.
void plan_simulcast(const SdpMedia& m, OfferPlan& plan, OfferedTrack& track, SdpMedia& answer) {
    if (!m.simulcast_send.empty()) {
        const std::uint8_t mid = agreed_extension(m, kMidUri, plan.mid_extension);
        const std::uint8_t rid = agreed_extension(m, kRidUri, plan.rid_extension);
        if (mid == 0 || rid == 0) return;
        for (const std::string& id : m.simulcast_send) {
            const bool sends = std::any_of(m.rids.begin(), m.rids.end(),
                                           [&](const SdpRid& r) { return r.id == id && r.send; });
            if (!sends || track.rids.size() == kMaxSimulcastLayers) continue;
            track.rids.push_back(id);
            answer.rids.push_back({id, false, ""});
        }
        if (track.rids.empty()) return;
        answer.simulcast_recv = track.rids;
        answer.extensions.push_back({mid, std::string(kMidUri)});
        answer.extensions.push_back({rid, std::string(kRidUri)});
        return;
    }
    for (const SdpSsrcGroup& group : m.ssrc_groups) {
        if (group.semantics != "SIM" || group.ssrcs.size() < 2) continue;
        for (std::size_t i = 0; i < group.ssrcs.size() && i < kMaxSimulcastLayers; ++i)
            track.layer_ssrcs.push_back(group.ssrcs[i]);
        return;
    }
}

// Whether the section numbers its packets transport-wide (with the transport's one id).
bool accept_transport_cc(const SdpMedia& m, OfferPlan& plan) {
    return agreed_extension(m, kTransportCcUri, plan.transport_cc_extension) != 0;
}

// The answer's section for an accepted track: receive-only (or sendrecv in echo), rtcp-mux,
// the chosen codec with the feedback the server uses, and the extensions it reads.
void fill_answer(const SdpMedia& m, const SdpCodec& codec, OfferMode mode, OfferPlan& plan,
                 const OfferedTrack& track, SdpMedia& answer) {
    answer.kind = m.kind;
    answer.kind_name = m.kind_name;
    answer.port = 9;
    answer.protocol = m.protocol;
    answer.formats = {std::to_string(codec.payload_type)};
    answer.mid = m.mid;
    answer.direction = mode == OfferMode::echo ? Direction::sendrecv : Direction::recvonly;
    answer.rtcp_mux = true;
    answer.rtcp_rsize = m.rtcp_rsize;
    const bool transport_cc = mode == OfferMode::publish && accept_transport_cc(m, plan);
    if (transport_cc)
        answer.extensions.push_back({plan.transport_cc_extension, std::string(kTransportCcUri)});
    SdpCodec chosen = codec;
    chosen.feedback.clear();
    for (const auto& fb : codec.feedback) {
        // Keyframe requests we relay; when publishing, NACKs too (the server may ask).
        if (fb == "nack pli" || fb == "ccm fir" || (mode == OfferMode::publish && fb == "nack") ||
            (transport_cc && fb == "transport-cc")) {
            chosen.feedback.push_back(fb);
        }
    }
    answer.codecs = {chosen};
    if (mode == OfferMode::echo) {
        for (const auto& ext : m.extensions) {
            if (ext.uri == kMidUri || (m.kind == MediaKind::audio && ext.uri == kAudioLevelUri))
                answer.extensions.push_back(ext);
        }
        answer.ssrcs = {track.local_ssrc};
        answer.cname = "rollcall";
        answer.msid = "rollcall-echo " + std::string(to_string(m.kind)) + "-" + m.mid;
    }
}

SdpMedia rejected(const SdpMedia& offered) {
    SdpMedia m;
    m.kind = offered.kind;
    m.kind_name = offered.kind_name;
    m.port = 0;
    m.protocol = offered.protocol;
    m.formats = offered.formats.empty() ? std::vector<std::string>{"0"}
                                        : std::vector<std::string>{offered.formats.front()};
    m.mid = offered.mid;
    m.direction = Direction::inactive;
    return m;
}

std::string offered_codecs(const SdpMedia& m) {
    std::vector<std::string_view> seen;
    std::string names;
    for (const auto& c : m.codecs) {
        if (iequals(c.name, "rtx") || iequals(c.name, "red") || iequals(c.name, "ulpfec") ||
            std::find(seen.begin(), seen.end(), c.name) != seen.end()) {
            continue;
        }
        seen.push_back(c.name);
        names += (names.empty() ? "" : ", ") + c.name;
    }
    return names.empty() ? "none" : names;
}

// Why a sending audio/video section cannot become a track, if it cannot.
std::optional<RejectedSection> refusal(const SdpMedia& m, const SdpCodec* codec, bool has_ssrc,
                                       std::size_t tracks) {
    if (!codec) {
        const char* wanted =
            m.kind == MediaKind::audio ? "Opus" : "VP8, H264 (packetization-mode 1) or VP9";
        return RejectedSection{m.mid, m.kind, "no_codec",
                               std::string("no codec rollcall can receive: it takes ") + wanted +
                                   "; offered " + offered_codecs(m)};
    }
    if (!has_ssrc) {
        return RejectedSection{
            m.mid, m.kind, "no_ssrc",
            "the section signals no a=ssrc: rollcall accepts only signaled SSRCs"};
    }
    if (tracks >= kMaxTracks) {
        return RejectedSection{m.mid, m.kind, "too_many_tracks",
                               "at most " + std::to_string(kMaxTracks) + " tracks per connection"};
    }
    return std::nullopt;
}

// The rules every media section of a peer's description follows, or an error.
bool check_media_section(const SessionDescription& sdp, const SdpMedia& m, MediaResult& error) {
    if (m.protocol != "UDP/TLS/RTP/SAVPF" && m.protocol != "UDP/TLS/RTP/SAVP") {
        error = {MediaError::unsupported_transport,
                 "media must use UDP/TLS/RTP/SAVPF (DTLS-SRTP); got " + m.protocol};
        return false;
    }
    if (std::find(sdp.bundle.begin(), sdp.bundle.end(), m.mid) == sdp.bundle.end()) {
        error = {MediaError::bundle_required, "every media section must be in the BUNDLE group"};
        return false;
    }
    if (!m.rtcp_mux) {
        error = {MediaError::rtcp_mux_required, "a=rtcp-mux is required"};
        return false;
    }
    return true;
}

// Accepts (in plan.data, answered in plan.answer) or refuses a publisher's data-channel
// section; false with `error` for one that breaks the transport's rules.
bool plan_data_section(const SessionDescription& offer, const SdpMedia& m, OfferPlan& plan,
                       MediaResult& error) {
    const bool current = (m.protocol == "UDP/DTLS/SCTP" || m.protocol == "TCP/DTLS/SCTP") &&
                         m.formats.size() == 1 && m.formats.front() == "webrtc-datachannel";
    const bool legacy = m.protocol == "DTLS/SCTP" && m.sctpmap && m.formats.size() == 1 &&
                        m.formats.front() == std::to_string(m.sctp_port);
    const bool usable = (current || legacy) && m.sctp_port != 0 && !m.mid.empty() && !plan.data;
    if (!usable) {
        plan.answer.media.push_back(rejected(m));
        plan.rejected.push_back({m.mid, m.kind, "unsupported_media",
                                 plan.data ? "one data-channel section per connection"
                                           : "data channels must be UDP/DTLS/SCTP "
                                             "webrtc-datachannel with a=sctp-port"});
        return true;
    }
    if (std::find(offer.bundle.begin(), offer.bundle.end(), m.mid) == offer.bundle.end()) {
        error = {MediaError::bundle_required, "every media section must be in the BUNDLE group"};
        return false;
    }
    DataSection data;
    data.mid = m.mid;
    data.sctp_port = m.sctp_port;
    if (m.max_message_size != 0)
        data.remote_max_message_size =
            static_cast<std::size_t>(std::min<std::uint64_t>(m.max_message_size, 256 * 1024));
    plan.data = data;
    SdpMedia answer;
    answer.kind = MediaKind::application;
    answer.kind_name = "application";
    answer.port = 9;
    answer.protocol = legacy ? m.protocol : "UDP/DTLS/SCTP";
    answer.formats = legacy ? std::vector<std::string>{"5000"} : m.formats;
    answer.mid = m.mid;
    answer.sctp_port = 5000;
    answer.sctpmap = legacy;
    answer.max_message_size = kMaxDataMessage;
    plan.answer.bundle.push_back(m.mid);
    plan.answer.media.push_back(std::move(answer));
    return true;
}

}  // namespace

bool transport_parameters(const SessionDescription& sdp, const SdpMedia& m,
                          RemoteTransportParameters& remote, MediaResult& error) {
    const auto& fingerprints = sdp.fingerprints_of(m);
    if (fingerprints.empty()) {
        error = {MediaError::fingerprint_missing, "the description has no a=fingerprint"};
        return false;
    }
    const auto sha256 =
        std::find_if(fingerprints.begin(), fingerprints.end(),
                     [](const SdpFingerprint& f) { return f.algorithm == "sha-256"; });
    remote.fingerprint = sha256 != fingerprints.end() ? *sha256 : fingerprints.front();
    remote.ice_ufrag = sdp.ufrag_of(m);
    remote.ice_pwd = sdp.pwd_of(m);
    remote.setup = sdp.setup_of(m);
    if (remote.ice_ufrag.empty() || remote.ice_pwd.empty()) {
        error = {MediaError::ice_credentials_missing, "a=ice-ufrag and a=ice-pwd are required"};
        return false;
    }
    remote.candidates = m.candidates;
    return true;
}

std::optional<OfferPlan> plan_offer(const SessionDescription& offer, OfferMode mode,
                                    MediaResult& error) {
    auto fail = [&](MediaError code, std::string message) -> std::optional<OfferPlan> {
        error = {code, std::move(message)};
        return std::nullopt;
    };
    OfferPlan plan;
    plan.answer.origin_session_id = std::to_string(random_ssrc());
    const SdpMedia* transport_media = nullptr;
    for (const SdpMedia& m : offer.media) {
        if (m.has_crypto)
            return fail(MediaError::sdes_not_supported,
                        "SDES (a=crypto) keying is refused: rollcall is DTLS-SRTP only");
    }
    for (const SdpMedia& m : offer.media) {
        if (offer.is_stopped(m)) {
            plan.answer.media.push_back(rejected(m));
            continue;
        }
        const bool media = m.kind == MediaKind::audio || m.kind == MediaKind::video;
        const bool sends = m.direction == Direction::sendrecv || m.direction == Direction::sendonly;
        if (m.kind == MediaKind::application && mode == OfferMode::publish) {
            if (!plan_data_section(offer, m, plan, error)) return std::nullopt;
            if (!transport_media) transport_media = &m;
            continue;
        }
        if (!media || m.mid.empty()) {
            plan.answer.media.push_back(rejected(m));
            if (media && sends)
                plan.rejected.push_back({m.mid, m.kind, "no_mid", "the section has no a=mid"});
            if (!media) {
                plan.rejected.push_back({m.mid, m.kind, "unsupported_media",
                                         "rollcall takes audio and video sections; \"" +
                                             m.kind_name + "\" is not supported"});
            }
            continue;
        }
        if (!check_media_section(offer, m, error)) return std::nullopt;
        if (!transport_media) transport_media = &m;
        if (!sends) {  // nothing to receive here, and nothing wrong with that
            plan.answer.media.push_back(rejected(m));
            continue;
        }
        const SdpCodec* codec = choose_codec(m);
        OfferedTrack track;
        SdpMedia answer;
        if (codec && mode == OfferMode::publish && m.kind == MediaKind::video)
            plan_simulcast(m, plan, track, answer);
        auto remote_ssrc = primary_ssrc(m);
        const bool identified = remote_ssrc.has_value() || !track.rids.empty();
        if (auto why = refusal(m, codec, identified, plan.tracks.size())) {
            plan.answer.media.push_back(rejected(m));
            plan.rejected.push_back(std::move(*why));
            continue;
        }
        track.mid = m.mid;
        track.kind = m.kind;
        track.remote_ssrc = remote_ssrc.value_or(0);
        track.local_ssrc = random_ssrc();
        track.payload_type = codec->payload_type;
        track.codec = codec->name;
        track.codec_info = *codec;
        fill_answer(m, *codec, mode, plan, track, answer);
        plan.answer.bundle.push_back(m.mid);
        plan.answer.media.push_back(std::move(answer));
        plan.remote.ssrcs.insert(m.ssrcs.begin(), m.ssrcs.end());
        plan.tracks.push_back(track);
    }
    if (!transport_media || (plan.tracks.empty() && !plan.data)) {
        std::string message = mode == OfferMode::echo
                                  ? "the offer has no audio or video rollcall can echo"
                                  : "the offer has no audio or video track rollcall can receive";
        for (const RejectedSection& r : plan.rejected)
            message += "; mid " + r.mid + ": " + r.message;
        return fail(MediaError::no_media, std::move(message));
    }
    std::set<std::uint32_t> ssrcs = std::move(plan.remote.ssrcs);
    if (!transport_parameters(offer, *transport_media, plan.remote, error)) return std::nullopt;
    plan.remote.ssrcs = std::move(ssrcs);
    plan.remote.data = plan.data.has_value();
    return plan;
}

std::optional<SubscriberAnswer> plan_subscriber_answer(const SessionDescription& answer,
                                                       MediaResult& error) {
    for (const SdpMedia& m : answer.media) {
        if (m.has_crypto) {
            error = {MediaError::sdes_not_supported,
                     "SDES (a=crypto) keying is refused: rollcall is DTLS-SRTP only"};
            return std::nullopt;
        }
    }
    SubscriberAnswer out;
    const SdpMedia* transport_media = nullptr;
    for (const SdpMedia& m : answer.media) {
        if (answer.is_stopped(m)) {
            out.rejected_mids.push_back(m.mid);
            continue;
        }
        if (m.kind != MediaKind::audio && m.kind != MediaKind::video) continue;
        if (!check_media_section(answer, m, error)) return std::nullopt;
        if (!transport_media) transport_media = &m;
        const bool rtx = std::any_of(m.codecs.begin(), m.codecs.end(),
                                     [](const SdpCodec& c) { return iequals(c.name, "rtx"); });
        if (rtx) out.rtx_mids.push_back(m.mid);
        const SdpExtension* twcc = m.extension(kTransportCcUri);
        if (twcc && twcc->id == kSubscriberTransportCcId) out.transport_cc = true;
    }
    if (!transport_media) {
        error = {MediaError::no_media, "the answer accepts no media section"};
        return std::nullopt;
    }
    if (!transport_parameters(answer, *transport_media, out.remote, error)) return std::nullopt;
    return out;
}

namespace {

std::optional<SessionDescription> parse(std::string_view sdp, MediaResult& error) {
    std::string why;
    auto parsed = parse_sdp(sdp, why);
    if (!parsed) error = {MediaError::sdp_malformed, std::move(why)};
    return parsed;
}

}  // namespace

std::optional<OfferPlan> plan_offer(std::string_view sdp, OfferMode mode, MediaResult& error) {
    auto parsed = parse(sdp, error);
    if (!parsed) return std::nullopt;
    return plan_offer(*parsed, mode, error);
}

std::optional<SubscriberAnswer> plan_subscriber_answer(std::string_view sdp, MediaResult& error) {
    auto parsed = parse(sdp, error);
    if (!parsed) return std::nullopt;
    return plan_subscriber_answer(*parsed, error);
}

std::optional<SdpCandidate> parse_remote_candidate(std::string_view line) {
    return parse_candidate(line);
}

LocalTransportParameters local_parameters(const WebRtcTransport& transport) {
    return {transport.local_ufrag(), transport.local_pwd(), transport.local_fingerprint(),
            transport.local_setup(), transport.local_candidates()};
}

namespace {

void set_transport(SdpMedia& m, const LocalTransportParameters& local) {
    m.ice_ufrag = local.ice_ufrag;
    m.ice_pwd = local.ice_pwd;
    m.fingerprints = {local.fingerprint};
    m.setup = local.setup;
    m.candidates = local.candidates;
    if (!m.candidates.empty()) m.port = m.candidates.front().port;
}

}  // namespace

void complete_answer(OfferPlan& plan, const LocalTransportParameters& local) {
    for (SdpMedia& m : plan.answer.media) {
        if (m.port != 0) set_transport(m, local);
    }
}

SessionDescription subscriber_offer(const std::string& origin, std::uint64_t version,
                                    const LocalTransportParameters& local,
                                    const std::vector<SubscriberSection>& sections) {
    SessionDescription description;
    description.origin_session_id = origin;
    description.origin_version = version;
    for (const SubscriberSection& section : sections) {
        SdpMedia m;
        m.kind = section.kind;
        m.kind_name = std::string(transport::to_string(section.kind));
        m.port = 9;
        m.protocol = "UDP/TLS/RTP/SAVPF";
        m.mid = section.mid;
        m.rtcp_mux = true;
        m.rtcp_rsize = true;
        set_transport(m, local);
        m.codecs = {section.codec};
        m.codecs.front().feedback.push_back("transport-cc");
        m.extensions = {{kSubscriberTransportCcId, std::string(kTransportCcUri)}};
        m.direction = section.track_id.empty() ? Direction::inactive : Direction::sendonly;
        if (!section.track_id.empty()) {
            m.ssrcs = {section.ssrc};
            if (section.rtx_ssrc != 0) {
                SdpCodec rtx;
                rtx.payload_type = section.rtx_payload_type;
                rtx.name = "rtx";
                rtx.clock_rate = 90000;
                rtx.fmtp = "apt=" + std::to_string(section.codec.payload_type);
                m.codecs.push_back(rtx);
                m.ssrcs.push_back(section.rtx_ssrc);
                m.ssrc_groups.push_back({"FID", {section.ssrc, section.rtx_ssrc}});
            }
            m.cname = "rollcall";
            m.msid = section.stream_id + " " + section.track_id;
        }
        for (const SdpCodec& c : m.codecs) m.formats.push_back(std::to_string(c.payload_type));
        description.bundle.push_back(section.mid);
        description.media.push_back(std::move(m));
    }
    return description;
}

}  // namespace rollcall::sfu
