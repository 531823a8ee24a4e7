// Resume: a session whose link dropped is taken up again by a new link that brings the same
// identity's token and the session's resume credential (docs/protocol.md, Reconnecting).
#include <gtest/gtest.h>

#include "signaling/HubFixture.hpp"

namespace rollcall::signaling {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using test::hs256;
using test::now_unix;

class HubResumeTest : public test::HubFixture {
  protected:
    HubResumeTest() {
        media_ = std::make_unique<test::FakeMedia>();
        config_.roll_call.reconnect_grace = 5000ms;
    }

    static std::string credential(const Client& c) {
        return c.link.of_type("joined").back().at("resume").get<std::string>();
    }

    // A new link that joins as `identity` in `room` with `resume`.
    Client& resume(const std::string& identity, const std::string& resume_credential,
                   const std::string& room = "r1", Clock::time_point at = {}) {
        Client& c = connect();
        const json join = {{"type", "join"},
                           {"token", hs256(token_for(identity, room))},
                           {"resume", resume_credential},
                           {"id", "j"}};
        hub().on_text(c.session, join.dump(), at == Clock::time_point{} ? now_ : at, now_unix());
        return c;
    }

    std::size_t roster_events(const Client& c) {
        return c.link.of_type("participant_left").size() +
               c.link.of_type("participant_joined").size();
    }

    test::FakeMedia& media() { return *media_; }

    json publish(Client& who) {
        say(who, {{"type", "publish"}, {"sdp", sample("chromium-156-offer.sdp")}, {"id", "p"}});
        return who.link.last();
    }
};

TEST_F(HubResumeTest, JoinedCarriesAResumeCredential) {
    Client& alice = join("alice");
    const std::string resume = credential(alice);
    EXPECT_TRUE(resume.starts_with("RS_"));
    EXPECT_EQ(resume.size(), 35u);
    EXPECT_NE(credential(join("bob")), resume);
}

TEST_F(HubResumeTest, ResumeTakesUpTheSessionAndTheOthersSeeNothing) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    const std::string id = bob.link.of_type("joined").at(0)["participant"]["id"];
    const std::size_t alice_events = roster_events(alice);
    hub().on_close(bob.session);
    Client& again = resume("bob", credential(bob));
    const json joined = again.link.of_type("joined").at(0);
    EXPECT_EQ(joined["resumed"], true);
    EXPECT_EQ(joined["ref"], "j");
    EXPECT_EQ(joined["participant"]["id"], id);
    EXPECT_EQ(joined["participants"].at(0)["identity"], "alice");
    EXPECT_NE(joined["resume"], credential(bob));  // a new one each time
    EXPECT_EQ(roster_events(alice), alice_events);
    EXPECT_EQ(roster_->find("r1", "bob")->session, bob.session);  // the same session
    EXPECT_FALSE(roster_->find("r1", "bob")->disconnected_since);
    EXPECT_EQ(stats_.resumes, 1u);
    // The new link speaks for the session: past the grace it is still there, and its leave
    // is the session's.
    hub().tick(now_ + 6s);
    ASSERT_NE(roster_->find("r1", "bob"), nullptr);
    say(again, {{"type", "leave"}});
    EXPECT_EQ(alice.link.of_type("participant_left").at(0)["reason"], "left");
    EXPECT_EQ(roster_->find("r1", "bob"), nullptr);
}

TEST_F(HubResumeTest, WhatWasDueWhileDetachedIsReplayedInOrder) {
    Client& alice = join("alice");
    join("bob");
    publish(alice);  // the media plane has not answered yet
    hub().on_close(alice.session);
    media().complete(0);  // the answer comes while alice has no link
    sfu::SubscriberOffer offer;
    offer.sdp = "v=0 fake offer";
    offer.version = 4;
    hub().on_subscriber_offer(alice.session, offer);
    Client& again = resume("alice", credential(alice));
    std::vector<std::string> types;
    for (const json& m : again.link.sent) types.push_back(m["type"]);
    ASSERT_EQ(types, (std::vector<std::string>{"joined", "answer", "subscribe_offer"}));
    EXPECT_EQ(again.link.sent[1]["ref"], "p");
    EXPECT_EQ(again.link.sent[2]["version"], 4);
    // Alice's track, published while she was away, is in the room she is shown.
    EXPECT_EQ(again.link.sent[0]["participant"]["tracks"].size(),
              roster_->find("r1", "alice")->tracks.size());
}

TEST_F(HubResumeTest, AnAdministratorsMuteWhileDetachedIsReplayed) {
    Client& alice = join("alice");
    publish(alice);
    media().complete(0);
    const std::string track = roster_->find("r1", "alice")->tracks.begin()->first;
    hub().on_close(alice.session);
    ASSERT_EQ(hub().admin_mute("r1", "alice", track, true), SignalingHub::MuteResult::done);
    Client& again = resume("alice", credential(alice));
    const auto muted = again.link.of_type("muted");
    ASSERT_EQ(muted.size(), 1u);
    EXPECT_EQ(muted[0]["track"], track);
    EXPECT_EQ(muted[0]["by"], "admin");
}

TEST_F(HubResumeTest, ADetachedSessionIsSubscribedToWhatIsPublishedMeanwhile) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    hub().on_close(bob.session);
    publish(alice);
    media().complete(0);
    ASSERT_FALSE(roster_->find("r1", "alice")->tracks.empty());
    const auto& subscriptions = media().subscriptions[bob.session];
    EXPECT_EQ(subscriptions.size(), roster_->find("r1", "alice")->tracks.size());
}

TEST_F(HubResumeTest, AnOfferAnsweredBeforeTheDropIsNotReplayed) {
    Client& alice = join("alice");
    sfu::SubscriberOffer offer;
    offer.sdp = "v=0 fake offer";
    offer.version = 2;
    hub().on_subscriber_offer(alice.session, offer);
    say(alice,
        {{"type", "subscribe_answer"}, {"version", 2}, {"sdp", sample("chromium-156-offer.sdp")}});
    hub().on_close(alice.session);
    Client& again = resume("alice", credential(alice));
    EXPECT_TRUE(again.link.of_type("subscribe_offer").empty());
}

TEST_F(HubResumeTest, TheOutboxIsBounded) {
    Client& alice = join("alice");
    hub().on_close(alice.session);
    transport::SdpCandidate candidate;
    candidate.foundation = "1";
    candidate.component = 1;
    candidate.transport = "udp";
    candidate.priority = 1;
    candidate.address = "127.0.0.1";
    candidate.port = 9;
    candidate.type = "host";
    for (int i = 0; i < 100; ++i)
        hub().on_media_candidate(alice.session, sfu::PeerRole::publisher, candidate);
    Client& again = resume("alice", credential(alice));
    EXPECT_EQ(again.link.of_type("trickle").size(), 64u);
    EXPECT_EQ(stats_.resume_outbox_dropped, 36u);
}

TEST_F(HubResumeTest, AHalfOpenLinkIsTakenOver) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    const std::size_t alice_events = roster_events(alice);
    Client& again = resume("bob", credential(bob));  // the server never saw bob's link drop
    EXPECT_EQ(again.link.of_type("joined").at(0)["resumed"], true);
    EXPECT_EQ(bob.link.closed, CloseCode::normal);
    EXPECT_EQ(bob.link.close_reason, "resumed on another connection");
    hub().on_close(bob.session);  // the old link's close, when it comes, changes nothing
    ASSERT_NE(roster_->find("r1", "bob"), nullptr);
    EXPECT_FALSE(roster_->find("r1", "bob")->disconnected_since);
    EXPECT_EQ(roster_events(alice), alice_events);
    say(again, {{"type", "ping"}, {"id", 1}});
    EXPECT_EQ(again.link.last()["type"], "pong");
}

TEST_F(HubResumeTest, AUsedCredentialIsRefusedAndAFreshJoinStillWorks) {
    Client& bob = join("bob");
    const std::string first = credential(bob);
    hub().on_close(bob.session);
    Client& again = resume("bob", first);
    hub().on_close(again.session);
    Client& replay = resume("bob", first);
    const json error = replay.link.of_type("error").at(0);
    EXPECT_EQ(error["code"], "resume_used");
    EXPECT_EQ(error["ref"], "j");
    EXPECT_FALSE(replay.link.closed);  // the link may join afresh
    say(replay, {{"type", "join"}, {"token", hs256(token_for("bob"))}});
    EXPECT_EQ(replay.link.of_type("joined").size(), 1u);
    EXPECT_FALSE(replay.link.of_type("joined").at(0).contains("resumed"));
}

TEST_F(HubResumeTest, AfterTheGraceTheCredentialHasExpired) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    hub().on_close(bob.session);
    // Late but before roll call's tick: refused all the same.
    Client& late = resume("bob", credential(bob), "r1", Clock::now() + 6s);
    EXPECT_EQ(late.link.of_type("error").at(0)["code"], "resume_expired");
    hub().tick(Clock::now() + 6s);
    EXPECT_EQ(alice.link.of_type("participant_left").at(0)["reason"], "disconnected");
    EXPECT_EQ(stats_.audit_ejections_by_reason["reconnect_grace_expired"], 1u);
    Client& later = resume("bob", credential(bob));
    EXPECT_EQ(later.link.of_type("error").at(0)["code"], "resume_expired");
    say(later, {{"type", "join"}, {"token", hs256(token_for("bob"))}});
    EXPECT_EQ(later.link.of_type("joined").size(), 1u);
}

TEST_F(HubResumeTest, AnotherParticipantsOrRoomsCredentialIsRefused) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    hub().on_close(bob.session);
    const auto events = stats_.audit_events;
    Client& thief = resume("alice", credential(bob));
    EXPECT_EQ(thief.link.of_type("error").at(0)["code"], "resume_invalid");
    Client& elsewhere = resume("bob", credential(bob), "r2");
    EXPECT_EQ(elsewhere.link.of_type("error").at(0)["code"], "resume_invalid");
    Client& garbage = resume("bob", "RS_nothing");
    EXPECT_EQ(garbage.link.of_type("error").at(0)["code"], "resume_invalid");
    EXPECT_FALSE(alice.link.closed);
    // None of it touched bob's session, which still resumes.
    Client& again = resume("bob", credential(bob));
    EXPECT_EQ(again.link.of_type("joined").at(0)["resumed"], true);
    EXPECT_EQ(stats_.audit_events - events, 4u);  // three refusals and the resume, recorded
}

TEST_F(HubResumeTest, AKickedSessionDoesNotResume) {
    join("alice");
    Client& bob = join("bob");
    hub().on_close(bob.session);
    ASSERT_EQ(hub().kick("r1", "bob", "", now_), SignalingHub::KickResult::kicked);
    Client& again = resume("bob", credential(bob));
    // The token it joined with is revoked: refused before the credential is looked at.
    EXPECT_EQ(again.link.of_type("error").at(0)["code"], "token_revoked");
    EXPECT_EQ(hub().connection_count(), 2u);  // alice, and the refused link closing
}

TEST_F(HubResumeTest, AReconnectLoopCannotFloodTheAuditTrail) {
    Client& bob = join("bob");
    std::string resume = credential(bob);
    const auto events = stats_.audit_events;
    for (int i = 0; i < 20; ++i) {
        Client& again = this->resume("bob", resume);
        ASSERT_EQ(again.link.of_type("joined").at(0)["resumed"], true);
        resume = credential(again);
        hub().on_close(again.session);
    }
    EXPECT_EQ(stats_.resumes, 20u);
    EXPECT_EQ(stats_.audit_events - events, 1u);  // the rest are counted in one event later
}

TEST_F(HubResumeTest, MalformedResumeIsAClearError) {
    join("bob");
    Client& c = connect();
    say(c, {{"type", "join"}, {"token", hs256(token_for("bob"))}, {"resume", 7}});
    EXPECT_EQ(c.link.of_type("error").at(0)["code"], "malformed_message");
    say(c,
        {{"type", "join"}, {"token", hs256(token_for("bob"))}, {"resume", std::string(65, 'x')}});
    EXPECT_EQ(c.link.of_type("error").at(1)["code"], "malformed_message");
    EXPECT_FALSE(c.link.closed);
}

}  // namespace
}  // namespace rollcall::signaling
