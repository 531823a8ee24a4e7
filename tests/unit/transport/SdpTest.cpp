#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "transport/Sdp.hpp"

namespace rollcall::transport {
namespace {

std::string sample(const std::string& name) {
    std::ifstream in(std::string(ROLLCALL_TEST_DATA) + "/sdp/" + name);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST(Sdp, ParsesChromiumOffer) {
    std::string error;
    auto sdp = parse_sdp(sample("chromium-156-offer.sdp"), error);
    ASSERT_TRUE(sdp) << error;
    EXPECT_EQ(sdp->bundle, (std::vector<std::string>{"0", "1"}));
    ASSERT_EQ(sdp->media.size(), 2u);

    const SdpMedia& audio = sdp->media[0];
    EXPECT_EQ(audio.kind, MediaKind::audio);
    EXPECT_EQ(audio.mid, "0");
    EXPECT_EQ(audio.protocol, "UDP/TLS/RTP/SAVPF");
    EXPECT_EQ(audio.direction, Direction::sendrecv);
    EXPECT_TRUE(audio.rtcp_mux);
    EXPECT_TRUE(audio.rtcp_rsize);
    EXPECT_FALSE(audio.has_crypto);
    EXPECT_EQ(sdp->ufrag_of(audio), "iHxL");
    EXPECT_EQ(sdp->pwd_of(audio), "MPq1+5KolRrsTl7yU6h/6fru");
    EXPECT_EQ(sdp->setup_of(audio), "actpass");
    ASSERT_EQ(sdp->fingerprints_of(audio).size(), 1u);
    EXPECT_EQ(sdp->fingerprints_of(audio)[0].algorithm, "sha-256");
    EXPECT_EQ(sdp->fingerprints_of(audio)[0].value.substr(0, 8), "BB:53:43");
    const SdpCodec* opus = audio.codec(111);
    ASSERT_NE(opus, nullptr);
    EXPECT_EQ(opus->name, "opus");
    EXPECT_EQ(opus->clock_rate, 48000u);
    EXPECT_EQ(opus->channels, 2);
    EXPECT_EQ(opus->fmtp, "minptime=10;useinbandfec=1");
    EXPECT_EQ(audio.codecs.front().payload_type, 111);  // m= line order kept
    ASSERT_NE(audio.extension("urn:ietf:params:rtp-hdrext:sdes:mid"), nullptr);
    EXPECT_EQ(audio.extension("urn:ietf:params:rtp-hdrext:sdes:mid")->id, 4);
    EXPECT_EQ(audio.ssrcs, std::vector<std::uint32_t>{798420712});
    EXPECT_EQ(audio.cname, "f2kXVIryg/OUcfKb");
    ASSERT_EQ(audio.candidates.size(), 2u);
    EXPECT_EQ(audio.candidates[0].address, "127.0.0.1");
    EXPECT_EQ(audio.candidates[0].port, 38274);
    EXPECT_EQ(audio.candidates[0].transport, "udp");
    EXPECT_EQ(audio.candidates[1].transport, "tcp");

    const SdpMedia& video = sdp->media[1];
    EXPECT_EQ(video.kind, MediaKind::video);
    const SdpCodec* vp8 = video.codec(96);
    ASSERT_NE(vp8, nullptr);
    EXPECT_EQ(vp8->name, "VP8");
    EXPECT_NE(std::find(vp8->feedback.begin(), vp8->feedback.end(), "nack pli"),
              vp8->feedback.end());
    EXPECT_EQ(video.codec(97)->fmtp, "apt=96");
    ASSERT_EQ(video.ssrc_groups.size(), 1u);
    EXPECT_EQ(video.ssrc_groups[0].semantics, "FID");
    EXPECT_EQ(video.ssrcs.size(), 2u);
}

// Firefox with max-bundle offers its video at port 0 with a=bundle-only: live, not stopped.
TEST(Sdp, ParsesFirefoxOfferWithABundleOnlySection) {
    std::string error;
    auto sdp = parse_sdp(sample("firefox-153-offer.sdp"), error);
    ASSERT_TRUE(sdp) << error;
    ASSERT_EQ(sdp->media.size(), 2u);
    EXPECT_EQ(sdp->bundle, (std::vector<std::string>{"0", "1"}));
    const SdpMedia& audio = sdp->media[0];
    const SdpMedia& video = sdp->media[1];
    EXPECT_FALSE(audio.bundle_only);
    EXPECT_NE(audio.port, 0);
    EXPECT_FALSE(sdp->is_stopped(audio));
    EXPECT_EQ(video.kind, MediaKind::video);
    EXPECT_EQ(video.port, 0);
    EXPECT_TRUE(video.bundle_only);
    EXPECT_FALSE(sdp->is_stopped(video));
    EXPECT_EQ(video.direction, Direction::sendonly);
    EXPECT_EQ(video.ssrcs, (std::vector<std::uint32_t>{1975556283u, 2744236902u}));
    EXPECT_EQ(sdp->ufrag_of(video), "06161033");
    ASSERT_EQ(sdp->fingerprints_of(video).size(), 1u);  // once, at session level
    // Written back, the section keeps its attribute.
    auto again = parse_sdp(write_sdp(*sdp), error);
    ASSERT_TRUE(again) << error;
    EXPECT_TRUE(again->media[1].bundle_only);
}

TEST(Sdp, PortZeroIsStoppedUnlessBundleOnlyInsideTheBundle) {
    std::string error;
    const std::string firefox = sample("firefox-153-offer.sdp");
    auto outside = parse_sdp(
        std::regex_replace(firefox, std::regex("a=group:BUNDLE 0 1"), "a=group:BUNDLE 0"), error);
    ASSERT_TRUE(outside) << error;
    EXPECT_TRUE(outside->is_stopped(outside->media[1]));  // bundle-only, but not in the group
    auto plain = parse_sdp(std::regex_replace(firefox, std::regex("a=bundle-only\r\n"), ""), error);
    ASSERT_TRUE(plain) << error;
    EXPECT_TRUE(plain->is_stopped(plain->media[1]));  // a stopped transceiver: port 0 alone
    EXPECT_FALSE(plain->is_stopped(plain->media[0]));
}

TEST(Sdp, ParsesAiortcAnswer) {
    std::string error;
    auto sdp = parse_sdp(sample("aiortc-1.4-answer.sdp"), error);
    ASSERT_TRUE(sdp) << error;
    ASSERT_EQ(sdp->media.size(), 2u);
    EXPECT_EQ(sdp->setup_of(sdp->media[0]), "active");
    EXPECT_TRUE(sdp->media[0].end_of_candidates);
    EXPECT_EQ(sdp->media[1].codec(96)->feedback.size(), 3u);
    EXPECT_EQ(sdp->media[1].ssrc_groups[0].ssrcs,
              (std::vector<std::uint32_t>{355201044, 3978421418}));
}

TEST(Sdp, ParsesAndWritesSimulcastRids) {
    std::string error;
    const std::string base = sample("chromium-156-offer.sdp");
    auto sdp = parse_sdp(base +
                             "a=rid:lo send max-width=320\r\na=rid:hi send\r\n"
                             "a=simulcast:send lo;~hi,alt recv r1\r\n",
                         error);
    ASSERT_TRUE(sdp) << error;
    const SdpMedia& video = sdp->media[1];
    ASSERT_EQ(video.rids.size(), 2u);
    EXPECT_EQ(video.rids[0].id, "lo");
    EXPECT_TRUE(video.rids[0].send);
    EXPECT_EQ(video.rids[0].params, "max-width=320");
    EXPECT_EQ(video.simulcast_send,
              (std::vector<std::string>{"lo", "hi"}));  // paused keeps its place
    EXPECT_EQ(video.simulcast_recv, (std::vector<std::string>{"r1"}));
    const std::string written = write_sdp(*sdp);
    EXPECT_NE(written.find("a=rid:lo send max-width=320\r\n"), std::string::npos);
    EXPECT_NE(written.find("a=simulcast:send lo;hi\r\n"), std::string::npos);
    // Refused: a rid that is not a token, a direction that is neither, a malformed list, too many.
    for (const char* bad :
         {"a=rid:l o send\r\n", "a=rid:lo both\r\n", "a=rid:\r\n", "a=simulcast:send\r\n",
          "a=simulcast:up lo\r\n", "a=simulcast:send lo;;;!\r\n"}) {
        EXPECT_FALSE(parse_sdp(base + bad, error)) << bad;
    }
    std::string many = base;
    for (int i = 0; i < 9; ++i) many += "a=rid:r" + std::to_string(i) + " send\r\n";
    EXPECT_FALSE(parse_sdp(many, error));
}

TEST(Sdp, RoundTripsThroughTheWriter) {
    std::string error;
    auto first = parse_sdp(sample("chromium-156-offer.sdp"), error);
    ASSERT_TRUE(first) << error;
    const std::string written = write_sdp(*first);
    auto second = parse_sdp(written, error);
    ASSERT_TRUE(second) << error << "\n" << written;
    ASSERT_EQ(second->media.size(), first->media.size());
    for (std::size_t i = 0; i < first->media.size(); ++i) {
        const SdpMedia& a = first->media[i];
        const SdpMedia& b = second->media[i];
        EXPECT_EQ(a.mid, b.mid);
        EXPECT_EQ(a.codecs.size(), b.codecs.size());
        EXPECT_EQ(a.extensions.size(), b.extensions.size());
        EXPECT_EQ(a.ssrcs, b.ssrcs);
        EXPECT_EQ(a.candidates.size(), b.candidates.size());
        EXPECT_EQ(a.fingerprints[0].value, b.fingerprints[0].value);
    }
    EXPECT_NE(written.find("o=- "), std::string::npos);
    EXPECT_NE(written.find("IN IP4 0.0.0.0\r\n"), std::string::npos);
}

TEST(Sdp, FlagsSdesCrypto) {
    std::string error;
    auto sdp = parse_sdp(
        "v=0\r\nm=audio 9 RTP/SAVPF 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA\r\n",
        error);
    ASSERT_TRUE(sdp) << error;
    EXPECT_TRUE(sdp->media[0].has_crypto);
}

TEST(Sdp, RefusesMalformedFingerprints) {
    std::string error;
    EXPECT_FALSE(parse_sdp("v=0\r\na=fingerprint:sha-256 \r\n", error));
    EXPECT_FALSE(parse_sdp("v=0\r\na=fingerprint:sha-256 AB:CD\r\n", error));
    EXPECT_FALSE(parse_sdp(
        "v=0\r\na=fingerprint:md5 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\r\n", error));
    EXPECT_FALSE(parse_sdp(
        "v=0\r\nm=audio 9 X 0\r\na=fingerprint:sha-256 " + std::string(95, 'Z') + "\r\n", error));
    EXPECT_NE(error.find("fingerprint"), std::string::npos);
}

TEST(Sdp, RefusesMalformedInput) {
    std::string error;
    for (const char* text :
         {"", "x=1\r\n", "v=1\r\n", "v=0\r\nbogus\r\n", "v=0\r\nm=audio\r\n",
          "v=0\r\nm=audio 99999 X 0\r\n", "v=0\r\nm=audio 9 X 0\r\na=rtpmap:200 x/1\r\n",
          "v=0\r\nm=audio 9 X 0\r\na=rtpmap:96 opus\r\n",
          "v=0\r\nm=audio 9 X 0\r\na=extmap:0 urn:x\r\n",
          "v=0\r\nm=audio 9 X 0\r\na=ssrc:abc cname:x\r\n",
          "v=0\r\nm=audio 9 X 0\r\na=candidate:1 1 udp\r\n", "v=0\r\nm=audio 9 X abc\r\n",
          "v=0\r\nm=audio 9 X 0\r\na=mid:\r\n"}) {
        EXPECT_FALSE(parse_sdp(text, error)) << text;
        EXPECT_FALSE(error.empty());
    }
    EXPECT_FALSE(parse_sdp(std::string("v=0\r\ns=\x01\r\n"), error));
}

TEST(Sdp, EnforcesLimits) {
    std::string error;
    // As many sections as the server ever offers a subscriber parse; one more does not.
    std::string full = "v=0\r\n";
    for (std::size_t i = 0; i < kMaxMediaSections; ++i) full += "m=audio 9 X 0\r\n";
    EXPECT_TRUE(parse_sdp(full, error)) << error;
    EXPECT_FALSE(parse_sdp(full + "m=audio 9 X 0\r\n", error));
    EXPECT_FALSE(parse_sdp("v=0\r\n" + std::string(70000, 'x'), error));
    std::string candidates = "v=0\r\nm=audio 9 X 0\r\n";
    for (int i = 0; i < 40; ++i)
        candidates +=
            "a=candidate:1 1 udp 1 127.0.0.1 " + std::to_string(1000 + i) + " typ host\r\n";
    EXPECT_FALSE(parse_sdp(candidates, error));
}

TEST(Sdp, ParsesAndWritesCandidates) {
    auto c = parse_candidate(
        "candidate:1945429034 1 udp 2122260223 127.0.0.1 38274 typ host generation 0");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->priority, 2122260223u);
    EXPECT_EQ(write_candidate(*c),
              "candidate:1945429034 1 udp 2122260223 127.0.0.1 38274 typ host");
    EXPECT_FALSE(parse_candidate("1 1 udp 1 127.0.0.1 1 host x"));
    EXPECT_FALSE(parse_candidate("1 0 udp 1 127.0.0.1 1 typ host"));
    EXPECT_FALSE(parse_candidate("1 1 udp 1 127.0.0.1 1 typ bogus"));
}

}  // namespace
}  // namespace rollcall::transport
