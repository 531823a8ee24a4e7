// Two real WebRtcTransports (libnice ICE over UDP on 127.0.0.1, OpenSSL DTLS, libsrtp2)
// talking to each other: the offering side is what the SFU will be toward subscribers, the
// answering side what it is toward publishers. Runs inside a loopback-only namespace.
#include <glib.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <vector>

#include "transport/RtcpPacket.hpp"
#include "transport/WebRtcTransport.hpp"

namespace rollcall::transport {
namespace {

struct Peer : WebRtcTransport::Listener {
    std::vector<SdpCandidate> candidates;
    bool connected = false;
    std::string failure;
    std::vector<std::vector<std::uint8_t>> rtp;
    std::vector<std::vector<std::uint8_t>> rtcp;

    void on_transport_candidate(const SdpCandidate& c) override { candidates.push_back(c); }
    void on_transport_connected() override { connected = true; }
    void on_transport_failed(std::string_view reason) override { failure = std::string(reason); }
    void on_rtp(RtpPacket& packet) override { rtp.emplace_back(packet.bytes().begin(), packet.bytes().end()); }
    void on_rtcp(std::span<const std::uint8_t> c) override { rtcp.emplace_back(c.begin(), c.end()); }
};

std::vector<std::uint8_t> rtp_packet(std::uint32_t ssrc, std::uint16_t sequence, std::uint8_t fill) {
    std::vector<std::uint8_t> p(12 + 200, fill);
    p[0] = 0x80;
    p[1] = 96;
    p[2] = static_cast<std::uint8_t>(sequence >> 8);
    p[3] = static_cast<std::uint8_t>(sequence);
    p[8] = static_cast<std::uint8_t>(ssrc >> 24);
    p[9] = static_cast<std::uint8_t>(ssrc >> 16);
    p[10] = static_cast<std::uint8_t>(ssrc >> 8);
    p[11] = static_cast<std::uint8_t>(ssrc);
    return p;
}

class WebRtcTransportLoopback : public ::testing::Test {
protected:
    WebRtcTransportLoopback() : context_(g_main_context_new()) {}
    ~WebRtcTransportLoopback() override {
        offerer_.reset();
        answerer_.reset();
        while (g_main_context_iteration(context_, FALSE)) {
        }
        g_main_context_unref(context_);
    }

    // Runs the loop until `done` or the deadline; bounded.
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            g_main_context_iteration(context_, FALSE);
            g_usleep(1000);
        }
        return true;
    }

    static RemoteTransportParameters parameters_of(const WebRtcTransport& t, const std::string& setup,
                                                   std::set<std::uint32_t> ssrcs, const SdpFingerprint* fingerprint = nullptr) {
        RemoteTransportParameters p;
        p.ice_ufrag = t.local_ufrag();
        p.ice_pwd = t.local_pwd();
        p.fingerprint = fingerprint ? *fingerprint : t.local_fingerprint();
        p.setup = setup;
        p.candidates = t.local_candidates();
        p.ssrcs = std::move(ssrcs);
        return p;
    }

    // The offerer gathers and offers; the answerer starts from the offer; the answer returns.
    void connect(const SdpFingerprint* forged = nullptr) {
        offerer_ = std::make_unique<WebRtcTransport>(context_, offerer_identity_, std::vector<std::string>{"127.0.0.1"}, offerer_peer_);
        answerer_ = std::make_unique<WebRtcTransport>(context_, answerer_identity_, std::vector<std::string>{"127.0.0.1"}, answerer_peer_);
        ASSERT_EQ(offerer_->prepare_offer(), "");
        EXPECT_STREQ(offerer_->local_setup(), "actpass");
        ASSERT_FALSE(offerer_->local_candidates().empty());
        ASSERT_EQ(answerer_->start(parameters_of(*offerer_, "actpass", {kOffererSsrc}, forged)), "");
        EXPECT_STREQ(answerer_->local_setup(), "passive");
        ASSERT_EQ(offerer_->set_remote(parameters_of(*answerer_, answerer_->local_setup(), {kAnswererSsrc})), "");
    }

    static constexpr std::uint32_t kOffererSsrc = 0x11111111;
    static constexpr std::uint32_t kAnswererSsrc = 0x22222222;
    GMainContext* context_;
    std::shared_ptr<const DtlsIdentity> offerer_identity_ = DtlsIdentity::generate();
    std::shared_ptr<const DtlsIdentity> answerer_identity_ = DtlsIdentity::generate();
    Peer offerer_peer_, answerer_peer_;
    std::unique_ptr<WebRtcTransport> offerer_, answerer_;
};

TEST_F(WebRtcTransportLoopback, ConnectsAndCarriesSrtpBothWays) {
    connect();
    ASSERT_TRUE(run_until([&] { return offerer_peer_.connected && answerer_peer_.connected; }))
        << "offerer: " << offerer_peer_.failure << " answerer: " << answerer_peer_.failure;
    EXPECT_EQ(offerer_->dtls().protocol_version(), "DTLSv1.2");
    EXPECT_EQ(offerer_->srtp_profile(), SrtpProfile::aead_aes_128_gcm);
    EXPECT_EQ(answerer_->remote_address()->rfind("127.0.0.1:", 0), 0u);

    ASSERT_TRUE(offerer_->send_rtp(rtp_packet(kOffererSsrc, 1, 0xab)));
    ASSERT_TRUE(answerer_->send_rtp(rtp_packet(kAnswererSsrc, 1, 0xcd)));
    const auto pli = write_pli(kAnswererSsrc, kOffererSsrc);
    ASSERT_TRUE(answerer_->send_rtcp(pli));
    ASSERT_TRUE(run_until([&] { return !answerer_peer_.rtp.empty() && !offerer_peer_.rtp.empty() && !offerer_peer_.rtcp.empty(); }));
    EXPECT_EQ(answerer_peer_.rtp[0], rtp_packet(kOffererSsrc, 1, 0xab));
    EXPECT_EQ(offerer_peer_.rtp[0], rtp_packet(kAnswererSsrc, 1, 0xcd));
    EXPECT_EQ(offerer_peer_.rtcp[0], std::vector<std::uint8_t>(pli.begin(), pli.end()));
}

TEST_F(WebRtcTransportLoopback, DropsSsrcsTheOfferDidNotSignalAndRefusesToResend) {
    connect();
    ASSERT_TRUE(run_until([&] { return offerer_peer_.connected && answerer_peer_.connected; }));
    ASSERT_TRUE(offerer_->send_rtp(rtp_packet(0x99999999, 1, 0x01)));  // never signaled
    ASSERT_TRUE(offerer_->send_rtp(rtp_packet(kOffererSsrc, 2, 0x02)));
    EXPECT_FALSE(offerer_->send_rtp(rtp_packet(kOffererSsrc, 2, 0x02)));  // same index: SRTP refuses
    ASSERT_TRUE(run_until([&] { return !answerer_peer_.rtp.empty(); }));
    run_until([] { return false; }, std::chrono::milliseconds(200));
    ASSERT_EQ(answerer_peer_.rtp.size(), 1u);
    EXPECT_EQ(answerer_peer_.rtp[0][3], 2);
    EXPECT_EQ(answerer_->counters().dropped_unknown_ssrc, 1u);
}

TEST_F(WebRtcTransportLoopback, AForgedFingerprintFailsClosed) {
    auto stranger = DtlsIdentity::generate();
    connect(&stranger->fingerprint());  // the answerer is told the wrong fingerprint
    ASSERT_TRUE(run_until([&] { return !answerer_peer_.failure.empty(); }));
    EXPECT_NE(answerer_peer_.failure.find("DTLS"), std::string::npos);
    EXPECT_FALSE(answerer_peer_.connected);
    EXPECT_FALSE(answerer_->connected());
    EXPECT_FALSE(answerer_->send_rtp(rtp_packet(kAnswererSsrc, 1, 0)));
}

TEST_F(WebRtcTransportLoopback, RefusesAnAnswerThatSaysActpass) {
    offerer_ = std::make_unique<WebRtcTransport>(context_, offerer_identity_, std::vector<std::string>{"127.0.0.1"}, offerer_peer_);
    ASSERT_EQ(offerer_->prepare_offer(), "");
    RemoteTransportParameters bogus = parameters_of(*offerer_, "actpass", {1});
    EXPECT_NE(offerer_->set_remote(bogus), "");
}

}  // namespace
}  // namespace rollcall::transport
