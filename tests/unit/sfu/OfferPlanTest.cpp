#include "sfu/OfferPlan.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace rollcall::sfu {
namespace {

using namespace transport;

std::string chromium_offer() {
    std::ifstream in(std::string(ROLLCALL_TEST_DATA) + "/sdp/chromium-156-offer.sdp");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

SessionDescription parse(const std::string& text) {
    std::string error;
    auto sdp = parse_sdp(text, error);
    EXPECT_TRUE(sdp) << error;
    return sdp.value_or(SessionDescription{});
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
    return text;
}

TEST(OfferPlan, AnswersChromiumWithOpusAndVp8) {
    PlanError error;
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
    PlanError error;
    const std::string offer = replace(chromium_offer(), "a=rtcp-mux\r\n", "a=rtcp-mux\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA\r\n");
    EXPECT_FALSE(plan_echo(parse(offer), error));
    EXPECT_EQ(error.code, "sdes_not_supported");
}

TEST(OfferPlan, RefusesPlainRtp) {
    PlanError error;
    EXPECT_FALSE(plan_echo(parse(replace(chromium_offer(), "UDP/TLS/RTP/SAVPF", "RTP/AVP")), error));
    EXPECT_EQ(error.code, "unsupported_transport");
}

TEST(OfferPlan, RefusesAMissingFingerprint) {
    std::string offer = chromium_offer();
    std::string without;
    std::istringstream lines(offer);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("a=fingerprint", 0) != 0) without += line + "\n";
    }
    PlanError error;
    EXPECT_FALSE(plan_echo(parse(without), error));
    EXPECT_EQ(error.code, "fingerprint_missing");
}

TEST(OfferPlan, RequiresBundleAndRtcpMux) {
    PlanError error;
    EXPECT_FALSE(plan_echo(parse(replace(chromium_offer(), "a=group:BUNDLE 0 1", "a=group:BUNDLE 0")), error));
    EXPECT_EQ(error.code, "bundle_required");
    EXPECT_FALSE(plan_echo(parse(replace(chromium_offer(), "a=rtcp-mux\r\n", "")), error));
    EXPECT_EQ(error.code, "rtcp_mux_required");
}

TEST(OfferPlan, NothingToEchoIsAnError) {
    PlanError error;
    EXPECT_FALSE(plan_echo(parse(replace(chromium_offer(), "a=sendrecv", "a=recvonly")), error));
    EXPECT_EQ(error.code, "no_media");
}

}  // namespace
}  // namespace rollcall::sfu
