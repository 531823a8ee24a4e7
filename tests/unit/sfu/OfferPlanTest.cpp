#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "sfu/OfferPlan.hpp"
#include "transport/TransportCc.hpp"

namespace rollcall::sfu {
namespace {

using namespace transport;

std::string sample(const std::string& name) {
    std::ifstream in(std::string(ROLLCALL_TEST_DATA) + "/sdp/" + name);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string chromium_offer() {
    return sample("chromium-156-offer.sdp");
}
std::string firefox_offer() {
    return sample("firefox-153-offer.sdp");
}

SessionDescription parse(const std::string& text) {
    std::string error;
    auto sdp = parse_sdp(text, error);
    EXPECT_TRUE(sdp) << error;
    return sdp.value_or(SessionDescription{});
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

TEST(OfferPlan, AnswersChromiumWithOpusAndVp8) {
    MediaResult error;
    auto plan = plan_echo(parse(chromium_offer()), error);
    ASSERT_TRUE(plan) << error.message;
    ASSERT_EQ(plan->tracks.size(), 2u);
    EXPECT_EQ(plan->tracks[0].codec, "opus");
    EXPECT_EQ(plan->tracks[0].remote_ssrc, 798420712u);
    EXPECT_EQ(plan->tracks[1].codec, "VP8");
    EXPECT_NE(plan->tracks[1].local_ssrc, plan->tracks[1].remote_ssrc);
    EXPECT_EQ(plan->remote.ice_ufrag, "iHxL");
    EXPECT_EQ(plan->remote.setup, "actpass");
    EXPECT_EQ(plan->remote.fingerprint.algorithm, "sha-256");
    EXPECT_EQ(plan->remote.ssrcs.size(), 3u);  // audio, video and its RTX
    const SdpMedia& video = plan->answer.media[1];
    EXPECT_EQ(video.codecs.size(), 1u);
    EXPECT_EQ(video.ssrcs.size(), 1u);
    ASSERT_NE(video.extension("urn:ietf:params:rtp-hdrext:sdes:mid"), nullptr);
    EXPECT_EQ(plan->answer.bundle, (std::vector<std::string>{"0", "1"}));
}

TEST(OfferPlan, RefusesSdes) {
    MediaResult error;
    const std::string offer =
        replace(chromium_offer(), "a=rtcp-mux\r\n",
                "a=rtcp-mux\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA\r\n");
    EXPECT_FALSE(plan_echo(parse(offer), error));
    EXPECT_EQ(error.code, MediaError::sdes_not_supported);
}

TEST(OfferPlan, RefusesPlainRtp) {
    MediaResult error;
    EXPECT_FALSE(
        plan_echo(parse(replace(chromium_offer(), "UDP/TLS/RTP/SAVPF", "RTP/AVP")), error));
    EXPECT_EQ(error.code, MediaError::unsupported_transport);
}

TEST(OfferPlan, RefusesAMissingFingerprint) {
    std::string offer = chromium_offer();
    std::string without;
    std::istringstream lines(offer);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("a=fingerprint", 0) != 0) without += line + "\n";
    }
    MediaResult error;
    EXPECT_FALSE(plan_echo(parse(without), error));
    EXPECT_EQ(error.code, MediaError::fingerprint_missing);
}

TEST(OfferPlan, RequiresBundleAndRtcpMux) {
    MediaResult error;
    EXPECT_FALSE(plan_echo(
        parse(replace(chromium_offer(), "a=group:BUNDLE 0 1", "a=group:BUNDLE 0")), error));
    EXPECT_EQ(error.code, MediaError::bundle_required);
    EXPECT_FALSE(plan_echo(parse(replace(chromium_offer(), "a=rtcp-mux\r\n", "")), error));
    EXPECT_EQ(error.code, MediaError::rtcp_mux_required);
}

TEST(OfferPlan, NothingToEchoIsAnError) {
    MediaResult error;
    EXPECT_FALSE(plan_echo(parse(replace(chromium_offer(), "a=sendrecv", "a=recvonly")), error));
    EXPECT_EQ(error.code, MediaError::no_media);
}

// Firefox's video section is port 0 with a=bundle-only (max-bundle): a live track.
TEST(OfferPlan, PublishesFirefoxVideoFromItsBundleOnlySection) {
    MediaResult error;
    auto plan = plan_offer(parse(firefox_offer()), OfferMode::publish, error);
    ASSERT_TRUE(plan) << error.message;
    ASSERT_EQ(plan->tracks.size(), 2u);
    EXPECT_EQ(plan->tracks[0].codec, "opus");
    EXPECT_EQ(plan->tracks[0].payload_type, 109);
    EXPECT_EQ(plan->tracks[1].kind, MediaKind::video);
    EXPECT_EQ(plan->tracks[1].mid, "1");
    EXPECT_EQ(plan->tracks[1].codec, "VP8");
    EXPECT_EQ(plan->tracks[1].payload_type, 120);
    EXPECT_EQ(plan->tracks[1].remote_ssrc, 1975556283u);  // not the FID repair SSRC
    EXPECT_EQ(plan->remote.ssrcs, (std::set<std::uint32_t>{323160388u, 1975556283u, 2744236902u}));
    EXPECT_EQ(plan->remote.ice_ufrag, "06161033");
    EXPECT_EQ(plan->remote.fingerprint.algorithm, "sha-256");
    // Only UDP candidates of component 1 are used later; all are carried.
    EXPECT_FALSE(plan->remote.candidates.empty());
    EXPECT_TRUE(plan->rejected.empty());
    ASSERT_EQ(plan->answer.media.size(), 2u);
    const SdpMedia& video = plan->answer.media[1];
    EXPECT_EQ(video.port, 9);
    EXPECT_EQ(video.direction, Direction::recvonly);
    EXPECT_EQ(video.codecs.front().name, "VP8");
    EXPECT_EQ(plan->answer.bundle, (std::vector<std::string>{"0", "1"}));
}

// Publishing, the transport-wide sequence number is the one extension negotiated, with the
// transport-cc feedback that reports it, in every section (one id for the BUNDLE transport).
TEST(OfferPlan, NegotiatesTransportWideCongestionControlWhenPublishing) {
    MediaResult error;
    for (const std::string& offer : {chromium_offer(), firefox_offer()}) {
        auto plan = plan_offer(parse(offer), OfferMode::publish, error);
        ASSERT_TRUE(plan) << error.message;
        const std::uint8_t id = offer == chromium_offer() ? 3 : 7;
        EXPECT_EQ(plan->transport_cc_extension, id);
        for (const SdpMedia& m : plan->answer.media) {
            ASSERT_EQ(m.extensions.size(), 1u);
            EXPECT_EQ(m.extensions[0].id, id);
            EXPECT_EQ(m.extensions[0].uri, kTransportCcUri);
            const auto& fb = m.codecs.front().feedback;
            EXPECT_NE(std::find(fb.begin(), fb.end(), "transport-cc"), fb.end());
        }
        const std::string answer = write_sdp(plan->answer);
        EXPECT_NE(
            answer.find("a=extmap:" + std::to_string(id) + " " + std::string(kTransportCcUri)),
            std::string::npos);
    }
    // Echo: no feedback of that kind (the loop is a diagnostic, not a sender to steer).
    auto echo = plan_echo(parse(chromium_offer()), error);
    ASSERT_TRUE(echo);
    EXPECT_EQ(echo->transport_cc_extension, 0);
    EXPECT_EQ(write_sdp(echo->answer).find("transport-cc"), std::string::npos);
    // An offer without the extension: none, and no transport-cc feedback either.
    auto plain = plan_offer(
        parse(
            replace(chromium_offer(),
                    "a=extmap:3 "
                    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n",
                    "")),
        OfferMode::publish, error);
    ASSERT_TRUE(plain) << error.message;
    EXPECT_EQ(plain->transport_cc_extension, 0);
    EXPECT_EQ(write_sdp(plain->answer).find("transport-cc"), std::string::npos);
    // Sections disagreeing on the id: the first one's holds; the other goes without.
    std::string mixed = chromium_offer();
    const auto video = mixed.find("m=video");
    mixed.replace(mixed.find("a=extmap:3 http://www.ietf.org/id/draft-holmer", video), 11,
                  "a=extmap:9 ");
    auto split = plan_offer(parse(mixed), OfferMode::publish, error);
    ASSERT_TRUE(split) << error.message;
    EXPECT_EQ(split->transport_cc_extension, 3);
    EXPECT_EQ(split->answer.media[0].extensions.size(), 1u);
    EXPECT_TRUE(split->answer.media[1].extensions.empty());
}

// Chromium's camera with sendEncodings of three rids: no a=ssrc in the video section.
std::string chromium_simulcast_offer() {
    std::string offer = chromium_offer();
    const auto from = offer.find("a=ssrc-group:FID 1581236015");
    offer.erase(from);  // the video section's SSRC lines run to the end
    return offer + "a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;~f\r\n";
}

TEST(OfferPlan, AcceptsSimulcastByRidWithTheExtensionsThatNameTheLayers) {
    MediaResult error;
    auto plan = plan_offer(parse(chromium_simulcast_offer()), OfferMode::publish, error);
    ASSERT_TRUE(plan) << error.message;
    ASSERT_EQ(plan->tracks.size(), 2u);
    const OfferedTrack& video = plan->tracks[1];
    EXPECT_EQ(video.rids, (std::vector<std::string>{"q", "h", "f"}));
    EXPECT_EQ(video.remote_ssrc, 0u);
    EXPECT_EQ(plan->mid_extension, 4);
    EXPECT_EQ(plan->rid_extension, 10);
    EXPECT_FALSE(plan->remote.ssrcs.contains(1581236015u));
    const std::string answer = write_sdp(plan->answer);
    EXPECT_NE(answer.find("a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\n"), std::string::npos);
    EXPECT_NE(answer.find("a=simulcast:recv q;h;f\r\n"), std::string::npos);
    EXPECT_NE(answer.find("a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"),
              std::string::npos);
    EXPECT_NE(answer.find("a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid"), std::string::npos);
    // Without the rid extension the layers cannot be told apart: the section is refused.
    auto no_rid = plan_offer(
        parse(replace(chromium_simulcast_offer(),
                      "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n", "")),
        OfferMode::publish, error);
    ASSERT_TRUE(no_rid) << error.message;
    EXPECT_EQ(no_rid->tracks.size(), 1u);
    ASSERT_EQ(no_rid->rejected.size(), 1u);
    EXPECT_EQ(no_rid->rejected[0].code, "no_ssrc");
    // More than three layers: the first three, as offered.
    auto four = plan_offer(parse(replace(chromium_simulcast_offer(), "a=simulcast:send q;h;~f",
                                         "a=rid:x send\r\na=simulcast:send x;q;h;f")),
                           OfferMode::publish, error);
    ASSERT_TRUE(four) << error.message;
    EXPECT_EQ(four->tracks[1].rids, (std::vector<std::string>{"x", "q", "h"}));
}

TEST(OfferPlan, AcceptsSimulcastBySsrcGroup) {
    MediaResult error;
    std::string offer = chromium_offer();
    offer += "a=ssrc-group:SIM 1581236015 11 12\r\na=ssrc:11 cname:x\r\na=ssrc:12 cname:x\r\n";
    auto plan = plan_offer(parse(offer), OfferMode::publish, error);
    ASSERT_TRUE(plan) << error.message;
    EXPECT_EQ(plan->tracks[1].layer_ssrcs, (std::vector<std::uint32_t>{1581236015u, 11u, 12u}));
    EXPECT_TRUE(plan->remote.ssrcs.contains(12u));
}

TEST(OfferPlan, EchoesFirefoxVideoToo) {
    MediaResult error;
    auto plan = plan_echo(parse(firefox_offer()), error);
    ASSERT_TRUE(plan) << error.message;
    ASSERT_EQ(plan->tracks.size(), 2u);
    EXPECT_EQ(plan->answer.media[1].direction, Direction::sendrecv);
}

TEST(OfferPlan, AStoppedSectionIsQuietlyInactive) {
    MediaResult error;
    // Port 0 without a=bundle-only: Firefox's stopped transceiver (also dropped from BUNDLE).
    std::string offer = replace(firefox_offer(), "a=bundle-only\r\n", "");
    offer = replace(offer, "a=group:BUNDLE 0 1", "a=group:BUNDLE 0");
    auto plan = plan_offer(parse(offer), OfferMode::publish, error);
    ASSERT_TRUE(plan) << error.message;
    ASSERT_EQ(plan->tracks.size(), 1u);
    EXPECT_EQ(plan->tracks[0].kind, MediaKind::audio);
    EXPECT_TRUE(plan->rejected.empty());
    EXPECT_EQ(plan->answer.media[1].port, 0);
    EXPECT_EQ(plan->answer.media[1].direction, Direction::inactive);
    EXPECT_EQ(plan->answer.bundle, (std::vector<std::string>{"0"}));
}

TEST(OfferPlan, SaysWhyASendingSectionWasNotAccepted) {
    MediaResult error;
    std::string offer =
        replace(firefox_offer(), "a=rtpmap:120 VP8/90000", "a=rtpmap:120 H265/90000");
    offer = replace(offer, "a=rtpmap:121 VP9/90000", "a=rtpmap:121 H265/90000");
    auto plan = plan_offer(parse(offer), OfferMode::publish, error);
    ASSERT_TRUE(plan) << error.message;
    ASSERT_EQ(plan->tracks.size(), 1u);
    ASSERT_EQ(plan->rejected.size(), 1u);
    EXPECT_EQ(plan->rejected[0].mid, "1");
    EXPECT_EQ(plan->rejected[0].kind, MediaKind::video);
    EXPECT_EQ(plan->rejected[0].code, "no_codec");
    EXPECT_NE(plan->rejected[0].message.find("offered H265, AV1"), std::string::npos)
        << plan->rejected[0].message;
    EXPECT_EQ(plan->answer.media[1].direction, Direction::inactive);

    // A sending section without a signaled SSRC.
    std::string unsignaled;
    std::istringstream lines(firefox_offer());
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("a=ssrc:1975556283", 0) != 0 && line.rfind("a=ssrc:2744236902", 0) != 0 &&
            line.rfind("a=ssrc-group", 0) != 0) {
            unsignaled += line + "\n";
        }
    }
    plan = plan_offer(parse(unsignaled), OfferMode::publish, error);
    ASSERT_TRUE(plan) << error.message;
    ASSERT_EQ(plan->rejected.size(), 1u);
    EXPECT_EQ(plan->rejected[0].code, "no_ssrc");
}

// Firefox answering the server's subscriber offer: one port for the bundle, RTX accepted.
TEST(OfferPlan, ReadsFirefoxSubscriberAnswer) {
    MediaResult error;
    auto answer = plan_subscriber_answer(parse(sample("firefox-153-answer.sdp")), error);
    ASSERT_TRUE(answer) << error.message;
    EXPECT_TRUE(answer->rejected_mids.empty());
    EXPECT_EQ(answer->rtx_mids, (std::vector<std::string>{"0"}));
    EXPECT_EQ(answer->remote.setup, "active");
    EXPECT_EQ(answer->remote.ice_ufrag, "93b8ff27");
    // That answer is to an older offer without the transport-wide extension; one that keeps
    // it (at the id offered) makes the server estimate the link; another id does not.
    EXPECT_FALSE(answer->transport_cc);
    const std::string with_twcc =
        replace(sample("firefox-153-answer.sdp"), "a=mid:0\r\n",
                "a=mid:0\r\na=extmap:3 " + std::string(kTransportCcUri) + "\r\n");
    EXPECT_TRUE(plan_subscriber_answer(parse(with_twcc), error)->transport_cc);
    EXPECT_FALSE(
        plan_subscriber_answer(parse(replace(with_twcc, "a=extmap:3 ", "a=extmap:5 ")), error)
            ->transport_cc);
    // An answerer that writes its second section as RFC 8843 allows (port 0, bundle-only)
    // still accepts it; port 0 alone rejects it.
    const std::string m_audio = "m=audio 44984 ";
    std::string bundle_only = replace(sample("firefox-153-answer.sdp"), m_audio, "m=audio 0 ");
    bundle_only = replace(bundle_only, "a=mid:1\r\n", "a=mid:1\r\na=bundle-only\r\n");
    answer = plan_subscriber_answer(parse(bundle_only), error);
    ASSERT_TRUE(answer) << error.message;
    EXPECT_TRUE(answer->rejected_mids.empty());
    answer = plan_subscriber_answer(
        parse(replace(sample("firefox-153-answer.sdp"), m_audio, "m=audio 0 ")), error);
    ASSERT_TRUE(answer) << error.message;
    EXPECT_EQ(answer->rejected_mids, (std::vector<std::string>{"1"}));
}

// The server's offer to a subscriber, written by a pure function and read back as a browser
// would: one BUNDLE, a sending video section with RTX, an inactive audio section.
TEST(SubscriberOffer, WritesSendingAndInactiveSectionsOnOneTransport) {
    LocalTransportParameters local;
    local.ice_ufrag = "srvU";
    local.ice_pwd = "server-password-1234567";
    local.fingerprint = {
        "sha-256",
        "BB:53:43:2E:8E:1C:2B:35:1A:56:82:C5:02:AC:0A:3E:75:10:D1:AA:0B:AD:23:33:17:06:3C:02:4F:"
        "B3:42:C9"};
    local.setup = "actpass";
    local.candidates = {*parse_candidate("candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host")};
    SdpCodec vp8;
    vp8.payload_type = 96;
    vp8.name = "VP8";
    vp8.clock_rate = 90000;
    vp8.feedback = {"nack", "nack pli", "ccm fir"};
    SdpCodec opus;
    opus.payload_type = 111;
    opus.name = "opus";
    opus.clock_rate = 48000;
    opus.channels = 2;
    std::vector<SubscriberSection> sections{
        {"0", MediaKind::video, vp8, "TR_video", "s7", 1111, 2222, 97},
        {"1", MediaKind::audio, opus, "", "", 0, 0, 0},
    };
    const std::string sdp = write_sdp(subscriber_offer("42", 3, local, sections));
    const SessionDescription offer = parse(sdp);
    EXPECT_EQ(offer.origin_session_id, "42");
    EXPECT_EQ(offer.origin_version, 3u);
    EXPECT_EQ(offer.bundle, (std::vector<std::string>{"0", "1"}));
    ASSERT_EQ(offer.media.size(), 2u);
    const SdpMedia& video = offer.media[0];
    EXPECT_EQ(video.direction, Direction::sendonly);
    EXPECT_EQ(video.port, 40000);
    EXPECT_TRUE(video.rtcp_mux);
    EXPECT_EQ(video.setup, "actpass");
    EXPECT_EQ(video.ssrcs, (std::vector<std::uint32_t>{1111, 2222}));
    ASSERT_EQ(video.ssrc_groups.size(), 1u);
    EXPECT_EQ(video.ssrc_groups[0].semantics, "FID");
    ASSERT_EQ(video.codecs.size(), 2u);
    EXPECT_EQ(video.codecs[1].name, "rtx");
    EXPECT_EQ(video.codecs[1].fmtp, "apt=96");
    EXPECT_EQ(video.msid, "s7 TR_video");
    // Every section numbers packets transport-wide, with transport-cc feedback asked for.
    ASSERT_EQ(video.extensions.size(), 1u);
    EXPECT_EQ(video.extensions[0].id, kSubscriberTransportCcId);
    EXPECT_EQ(video.extensions[0].uri, kTransportCcUri);
    const auto& fb = video.codecs[0].feedback;
    EXPECT_NE(std::find(fb.begin(), fb.end(), "transport-cc"), fb.end());
    const SdpMedia& audio = offer.media[1];
    EXPECT_EQ(audio.direction, Direction::inactive);
    EXPECT_TRUE(audio.ssrcs.empty());
    ASSERT_EQ(audio.codecs.size(), 1u);  // an inactive section keeps its codec
    EXPECT_EQ(audio.codecs[0].payload_type, 111);
    // Only the server's own address is ever offered.
    for (const SdpMedia& m : offer.media) {
        ASSERT_EQ(m.candidates.size(), 1u);
        EXPECT_EQ(m.candidates[0].address, "127.0.0.1");
        EXPECT_EQ(m.ice_ufrag, "srvU");
    }
    EXPECT_EQ(sdp.find("a=crypto"), std::string::npos);
}

TEST(OfferPlan, NoMediaErrorCarriesEachSectionsReason) {
    MediaResult error;
    std::string offer =
        replace(firefox_offer(), "a=rtpmap:109 opus/48000/2", "a=rtpmap:109 speex/48000/2");
    offer = replace(offer, "a=rtpmap:120 VP8/90000", "a=rtpmap:120 H265/90000");
    offer = replace(offer, "a=rtpmap:121 VP9/90000", "a=rtpmap:121 H265/90000");
    EXPECT_FALSE(plan_offer(parse(offer), OfferMode::publish, error));
    EXPECT_EQ(error.code, MediaError::no_media);
    EXPECT_NE(error.message.find("mid 0: no codec rollcall can receive: it takes Opus"),
              std::string::npos)
        << error.message;
    EXPECT_NE(error.message.find("mid 1: no codec"), std::string::npos) << error.message;
}

}  // namespace
}  // namespace rollcall::sfu

namespace rollcall::sfu {
namespace {

// A data-only offer as browsers write it (RFC 8841), and as aiortc does (the older sctpmap).
const char* kDataOffer =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 "
    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:"
    "99\r\na=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n";

TEST(OfferPlanData, ADataOnlyOfferIsAnsweredWithOneDataSection) {
    MediaResult error;
    auto plan = plan_offer(std::string_view(kDataOffer), OfferMode::publish, error);
    ASSERT_TRUE(plan) << error.message;
    EXPECT_TRUE(plan->tracks.empty());
    ASSERT_TRUE(plan->data);
    EXPECT_EQ(plan->data->mid, "0");
    EXPECT_EQ(plan->data->sctp_port, 5000);
    EXPECT_EQ(plan->data->remote_max_message_size, 256u * 1024);
    EXPECT_TRUE(plan->remote.data);
    complete_answer(*plan, LocalTransportParameters{"u", "p", {"sha-256", "AA"}, "passive", {}});
    const std::string answer = write_sdp(plan->answer);
    EXPECT_NE(answer.find("m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"),
              std::string::npos);
    EXPECT_NE(answer.find("a=sctp-port:5000\r\n"), std::string::npos);
    EXPECT_NE(answer.find("a=max-message-size:16384\r\n"), std::string::npos);
    EXPECT_EQ(answer.find("a=sendrecv"), std::string::npos);  // no direction for data
}

TEST(OfferPlanData, TheOlderSctpmapFormIsAnsweredInKind) {
    std::string offer = replace(kDataOffer, "UDP/DTLS/SCTP webrtc-datachannel", "DTLS/SCTP 5000");
    offer = replace(offer, "a=sctp-port:5000", "a=sctpmap:5000 webrtc-datachannel 65535");
    MediaResult error;
    auto plan = plan_offer(std::string_view(offer), OfferMode::publish, error);
    ASSERT_TRUE(plan) << error.message;
    ASSERT_TRUE(plan->data);
    EXPECT_EQ(plan->data->remote_max_message_size, 256u * 1024);
    const std::string answer = write_sdp(plan->answer);
    EXPECT_NE(answer.find("m=application 9 DTLS/SCTP 5000\r\n"), std::string::npos);
    EXPECT_NE(answer.find("a=sctpmap:5000 webrtc-datachannel 1024\r\n"), std::string::npos);
}

TEST(OfferPlanData, UnusableDataSectionsAreRefusedWithAReason) {
    MediaResult error;
    // No port: refused, and then there is nothing left to answer.
    auto plan = plan_offer(std::string_view(replace(kDataOffer, "a=sctp-port:5000\r\n", "")),
                           OfferMode::publish, error);
    EXPECT_FALSE(plan);
    EXPECT_EQ(error.code, MediaError::no_media);
    EXPECT_NE(error.message.find("sctp-port"), std::string::npos);
    // Outside the BUNDLE group.
    plan = plan_offer(std::string_view(replace(kDataOffer, "a=group:BUNDLE 0", "a=group:BUNDLE")),
                      OfferMode::publish, error);
    EXPECT_FALSE(plan);
    EXPECT_EQ(error.code, MediaError::bundle_required);
    // Echo mode carries no data.
    plan = plan_offer(std::string_view(kDataOffer), OfferMode::echo, error);
    EXPECT_FALSE(plan);
    // A second data section is refused, the first kept.
    std::string two = std::string(kDataOffer) +
                      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:1\r\n"
                      "a=sctp-port:5000\r\n";
    two = replace(two, "a=group:BUNDLE 0", "a=group:BUNDLE 0 1");
    plan = plan_offer(std::string_view(two), OfferMode::publish, error);
    ASSERT_TRUE(plan) << error.message;
    EXPECT_EQ(plan->data->mid, "0");
    ASSERT_EQ(plan->rejected.size(), 1u);
    EXPECT_EQ(plan->rejected[0].mid, "1");
}

TEST(OfferPlanData, AMediaOfferWithADataSectionCarriesBoth) {
    std::string offer = chromium_offer();
    MediaResult error;
    auto media_only = plan_offer(std::string_view(offer), OfferMode::publish, error);
    ASSERT_TRUE(media_only);
    EXPECT_FALSE(media_only->data);
    EXPECT_FALSE(media_only->remote.data);
}

}  // namespace
}  // namespace rollcall::sfu
