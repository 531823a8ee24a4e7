// Issue 12 item 16, deterministically: when a publisher's connection fails, no subscription
// offer made afterwards may name its tracks, not even one made the moment after (here: from
// inside the failure report itself, the earliest anything can run). Real transports on
// 127.0.0.1: the publisher's DTLS fails because its offer names another certificate.
#include <glib.h>
#include <gtest/gtest.h>

#include <functional>

#include "sfu/Router.hpp"
#include "tests/peer/TestPeer.hpp"

namespace rollcall::testpeer {
namespace {

using sfu::PeerRole;
using sfu::SessionId;

struct Recorder final : sfu::RouterListener {
    void on_candidate(SessionId, PeerRole, const transport::SdpCandidate&) override {}
    void on_connected(SessionId, PeerRole, const sfu::MediaConnectedInfo&) override {}
    void on_failed(SessionId session, PeerRole role, sfu::TransportId, std::string_view) override {
        if (session != kPublisher || role != PeerRole::publisher || failed) return;
        failed = true;
        offers_before_failure = offers.size();
        if (on_publisher_failed) on_publisher_failed();
    }
    void on_subscriber_offer(SessionId session, const sfu::SubscriberOffer& offer) override {
        if (session == kSubscriber) offers.push_back(offer);
    }
    void on_incident(const sfu::MediaIncident&) override {}

    static constexpr SessionId kPublisher = 1;
    static constexpr SessionId kSubscriber = 3;
    bool failed = false;
    std::size_t offers_before_failure = 0;
    std::vector<sfu::SubscriberOffer> offers;
    std::function<void()> on_publisher_failed;
};

struct Quiet final : transport::WebRtcTransport::Listener {
    void on_transport_candidate(const transport::SdpCandidate&) override {}
    void on_transport_connected() override {}
    void on_transport_failed(std::string_view) override {}
    void on_rtp(transport::RtpPacket&) override {}
    void on_rtcp(std::span<const std::uint8_t>) override {}
};

class RouterFailure : public ::testing::Test {
  protected:
    RouterFailure() : context_(g_main_context_new()) {
        g_main_context_push_thread_default(context_);
    }
    ~RouterFailure() override {
        router_.reset();
        clients_.clear();
        while (g_main_context_iteration(context_, FALSE)) {
        }
        g_main_context_pop_thread_default(context_);
        g_main_context_unref(context_);
    }

    // A publisher whose client offers audio and video; `fingerprint` may be another's.
    std::optional<sfu::OfferPlan> publish(SessionId session, const std::string& name,
                                          const transport::SdpFingerprint* fingerprint) {
        clients_.push_back(std::make_unique<transport::WebRtcTransport>(
            context_, transport::DtlsIdentity::generate(), transport::LocalNetwork({"127.0.0.1"}),
            quiet_));
        transport::WebRtcTransport& client = *clients_.back();
        EXPECT_EQ(client.prepare_offer(), "");
        sfu::MediaResult error;
        auto plan = sfu::plan_offer(
            publisher_offer(client, fingerprint ? *fingerprint : client.local_fingerprint(),
                            0x1000 + session, 0x2000 + session, name),
            sfu::OfferMode::publish, error);
        EXPECT_TRUE(plan) << error.message;
        if (!plan) return plan;
        for (std::size_t i = 0; i < plan->tracks.size(); ++i)
            plan->tracks[i].track_id = "TR_" + name + std::to_string(i);
        EXPECT_TRUE(router_->publish(session, *plan).ok());
        return plan;
    }

    sfu::SubscriberAnswer answer(const sfu::SubscriberOffer& offer) {
        sfu::MediaResult error;
        auto planned = sfu::plan_subscriber_answer(
            mirror_subscriber_offer(offer.sdp, "abcd", "abcdefghijklmnopqrstuv",
                                    subscriber_identity_->fingerprint(), "active"),
            error);
        EXPECT_TRUE(planned) << error.message;
        return planned.value_or(sfu::SubscriberAnswer{});
    }

    GMainContext* context_;
    Quiet quiet_;
    Recorder recorder_;
    std::shared_ptr<const transport::DtlsIdentity> subscriber_identity_ =
        transport::DtlsIdentity::generate();
    std::unique_ptr<sfu::Router> router_ = std::make_unique<sfu::Router>(
        "room",
        sfu::TransportSetup{context_, transport::DtlsIdentity::generate(),
                            transport::LocalNetwork({"127.0.0.1"})},
        recorder_);
    std::vector<std::unique_ptr<transport::WebRtcTransport>> clients_;
};

TEST_F(RouterFailure, NoOfferAfterAPublisherFailedNamesItsTracks) {
    const auto forged = transport::DtlsIdentity::generate()->fingerprint();
    auto failing = publish(Recorder::kPublisher, "P", &forged);
    ASSERT_TRUE(failing);
    ASSERT_TRUE(publish(2, "Q", nullptr));
    constexpr SessionId S = Recorder::kSubscriber;

    // S receives P's tracks (offer 1, answered), then asks for Q's audio (offer 2, its answer
    // still to come) and Q's video (a change waiting behind offer 2).
    router_->set_subscriptions(S, {"TR_P0", "TR_P1"});
    ASSERT_EQ(recorder_.offers.size(), 1u);
    ASSERT_TRUE(router_->subscriber_answer(S, answer(recorder_.offers[0]), 1).ok());
    router_->set_subscriptions(S, {"TR_P0", "TR_P1", "TR_Q0"});
    ASSERT_EQ(recorder_.offers.size(), 2u);
    router_->set_subscriptions(S, {"TR_P0", "TR_P1", "TR_Q0", "TR_Q1"});
    ASSERT_EQ(recorder_.offers.size(), 2u) << "one offer at a time";

    // The moment P fails, S's answer to offer 2 arrives, and the waiting change is offered.
    const sfu::SubscriberAnswer second = answer(recorder_.offers[1]);
    recorder_.on_publisher_failed = [&] {
        EXPECT_TRUE(router_->subscriber_answer(S, second, 2).ok());
    };
    auto remote = transport_parameters(failing->answer);
    ASSERT_TRUE(remote);
    ASSERT_EQ(clients_[0]->set_remote(*remote), "");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!recorder_.failed && std::chrono::steady_clock::now() < deadline) {
        g_main_context_iteration(context_, FALSE);
        g_usleep(500);
    }
    ASSERT_TRUE(recorder_.failed) << "P's DTLS never failed";
    ASSERT_GT(recorder_.offers.size(), recorder_.offers_before_failure)
        << "the waiting change was offered";
    for (std::size_t i = recorder_.offers_before_failure; i < recorder_.offers.size(); ++i) {
        for (const auto& slot : recorder_.offers[i].slots) {
            EXPECT_NE(slot.track_id.rfind("TR_P", 0), 0u)
                << "offer " << recorder_.offers[i].version << " names " << slot.track_id;
        }
    }
    const auto& last = recorder_.offers.back().slots;
    EXPECT_TRUE(
        std::any_of(last.begin(), last.end(), [](const auto& s) { return s.track_id == "TR_Q1"; }));
}

}  // namespace
}  // namespace rollcall::testpeer
