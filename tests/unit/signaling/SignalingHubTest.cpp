#include <gtest/gtest.h>

#include <memory>

#include "signaling/HubFixture.hpp"

namespace rollcall::signaling {
namespace {

using nlohmann::json;
using test::FakeLink;
using Clock = std::chrono::steady_clock;

class SignalingHubTest : public test::HubFixture {};

TEST_F(SignalingHubTest, JoinAnswersWithSelfAndTheOthers) {
    join("alice");
    join("bob");
    Client& carol = join("carol");
    const json joined = carol.link.of_type("joined").at(0);
    EXPECT_EQ(joined["room"], "r1");
    EXPECT_EQ(joined["participant"]["identity"], "carol");
    EXPECT_EQ(joined["participant"]["name"], "carol name");
    EXPECT_TRUE(joined["participant"]["id"].get<std::string>().starts_with("PA_"));
    ASSERT_EQ(joined["participants"].size(), 2u);
    EXPECT_EQ(roster_->find("r1")->participants.size(), 3u);
}

TEST_F(SignalingHubTest, EarlierParticipantsHearOfLaterJoins) {
    Client& alice = join("alice");
    join("bob");
    join("carol");
    auto events = alice.link.of_type("participant_joined");
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0]["participant"]["identity"], "bob");
    EXPECT_EQ(events[1]["participant"]["identity"], "carol");
}

TEST_F(SignalingHubTest, RoomsAreSeparate) {
    Client& alice = join("alice", "r1");
    join("bob", "r2");
    EXPECT_TRUE(alice.link.of_type("participant_joined").empty());
}

TEST_F(SignalingHubTest, LeaveTellsOthersAndClosesNormally) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    say(bob, {{"type", "leave"}, {"id", 7}});
    EXPECT_EQ(bob.link.last()["type"], "left");
    EXPECT_EQ(bob.link.last()["ref"], 7);
    EXPECT_EQ(bob.link.closed, CloseCode::normal);
    const json left = alice.link.of_type("participant_left").at(0);
    EXPECT_EQ(left["participant"]["identity"], "bob");
    EXPECT_EQ(left["reason"], "left");
    hub().on_close(bob.session);
    EXPECT_EQ(alice.link.of_type("participant_left").size(), 1u);
}

TEST_F(SignalingHubTest, DroppedConnectionIsAnnouncedAsDisconnectedAfterTheGrace) {
    config_.roll_call.reconnect_grace = std::chrono::milliseconds(5000);
    Client& alice = join("alice");
    Client& bob = join("bob");
    hub().on_close(bob.session);
    EXPECT_TRUE(alice.link.of_type("participant_left").empty());  // it may still resume
    hub().tick(now_ + std::chrono::seconds(6));
    EXPECT_EQ(alice.link.of_type("participant_left").at(0)["reason"], "disconnected");
    EXPECT_EQ(roster_->find("r1")->participants.size(), 1u);
}

TEST_F(SignalingHubTest, WithoutAGraceADroppedConnectionLeavesAtOnce) {
    config_.roll_call.reconnect_grace = std::chrono::milliseconds(0);
    Client& alice = join("alice");
    Client& bob = join("bob");
    hub().on_close(bob.session);
    EXPECT_EQ(alice.link.of_type("participant_left").at(0)["reason"], "disconnected");
    EXPECT_EQ(roster_->find("r1")->participants.size(), 1u);
}

TEST_F(SignalingHubTest, SecondSessionOfAnIdentityReplacesTheFirst) {
    Client& alice = join("alice");
    Client& bob1 = join("bob");
    Client& bob2 = join("bob");
    EXPECT_EQ(bob1.link.of_type("kicked").at(0)["reason"], "replaced");
    EXPECT_EQ(bob1.link.closed, CloseCode::normal);
    EXPECT_EQ(bob2.link.of_type("joined").size(), 1u);
    EXPECT_EQ(alice.link.of_type("participant_left").at(0)["reason"], "replaced");
    EXPECT_EQ(alice.link.of_type("participant_joined").size(), 2u);
    // The old socket closing later must not remove the new session.
    hub().on_close(bob1.session);
    ASSERT_NE(roster_->find("r1", "bob"), nullptr);
    EXPECT_EQ(roster_->find("r1", "bob")->session, bob2.session);
    EXPECT_EQ(alice.link.of_type("participant_left").size(), 1u);
}

TEST_F(SignalingHubTest, BadTokenGetsItsCodeAndIsClosed) {
    Client& c = connect();
    json p = token_for("mallory");
    p["exp"] = test::now_unix() - 3600;
    say(c, {{"type", "join"}, {"token", test::hs256(p)}, {"id", "j1"}});
    EXPECT_EQ(c.link.last()["type"], "error");
    EXPECT_EQ(c.link.last()["code"], "token_expired");
    EXPECT_EQ(c.link.last()["ref"], "j1");
    EXPECT_EQ(c.link.closed, CloseCode::policy_violation);
    EXPECT_EQ(roster_->participant_count(), 0u);
}

TEST_F(SignalingHubTest, TokenWithoutRoomJoinIsPermissionDenied) {
    Client& c = connect();
    json p = token_for("mallory");
    p["video"]["roomJoin"] = false;
    say(c, {{"type", "join"}, {"token", test::hs256(p)}});
    EXPECT_EQ(c.link.last()["code"], "permission_denied");
    EXPECT_TRUE(c.link.closed);
}

TEST_F(SignalingHubTest, JoinAskingForAnotherRoomIsRefused) {
    Client& c = connect();
    say(c, {{"type", "join"},
            {"room", "secret-room"},
            {"token", test::hs256(token_for("mallory", "r1"))}});
    EXPECT_EQ(c.link.last()["code"], "room_not_allowed");
    EXPECT_EQ(roster_->find("secret-room"), nullptr);
}

TEST_F(SignalingHubTest, WildcardAdminRoomCannotBeJoined) {
    Client& c = connect();
    say(c, {{"type", "join"}, {"token", test::hs256(token_for("mallory", "*"))}});
    EXPECT_EQ(c.link.last()["code"], "room_not_allowed");
}

TEST_F(SignalingHubTest, TokenWithoutIdentityCannotJoin) {
    Client& c = connect();
    json p = token_for("x");
    p.erase("sub");
    say(c, {{"type", "join"}, {"token", test::hs256(p)}});
    EXPECT_EQ(c.link.last()["code"], "token_missing_claim");
}

TEST_F(SignalingHubTest, JoinWithoutTokenIsMalformed) {
    Client& c = connect();
    say(c, {{"type", "join"}, {"token", 42}});
    EXPECT_EQ(c.link.last()["code"], "malformed_message");
}

TEST_F(SignalingHubTest, MalformedJsonIsAnsweredAndHurtsNobody) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    say_raw(bob, "{not json");
    EXPECT_EQ(bob.link.last()["code"], "malformed_message");
    EXPECT_FALSE(bob.link.closed);
    say_raw(bob, "[1,2,3]");
    EXPECT_EQ(bob.link.last()["code"], "malformed_message");
    say(bob, {{"type", 5}});
    EXPECT_EQ(bob.link.last()["code"], "malformed_message");
    say(alice, {{"type", "ping"}, {"id", 1}});
    EXPECT_EQ(alice.link.last()["type"], "pong");
    say(bob, {{"type", "ping"}, {"id", 2}});
    EXPECT_EQ(bob.link.last()["type"], "pong");
    EXPECT_TRUE(alice.link.of_type("error").empty());
}

TEST_F(SignalingHubTest, DeeplyNestedJsonIsRefusedBeforeParsing) {
    Client& bob = join("bob");
    say_raw(bob, std::string(10000, '[') + std::string(10000, ']'));
    EXPECT_EQ(bob.link.last()["code"], "malformed_message");
}

TEST_F(SignalingHubTest, UnknownTypeIsAnsweredWithItsRef) {
    Client& bob = join("bob");
    say(bob, {{"type", "teleport"}, {"id", "t1"}});
    EXPECT_EQ(bob.link.last()["code"], "unknown_type");
    EXPECT_EQ(bob.link.last()["ref"], "t1");
    EXPECT_FALSE(bob.link.closed);
}

TEST_F(SignalingHubTest, MessagesBeforeJoinAreRefused) {
    Client& c = connect();
    say(c, {{"type", "ping"}});
    EXPECT_EQ(c.link.last()["code"], "not_joined");
    EXPECT_FALSE(c.link.closed);
}

TEST_F(SignalingHubTest, SecondJoinOnOneConnectionIsRefused) {
    Client& bob = join("bob");
    say(bob, {{"type", "join"}, {"token", test::hs256(token_for("bob"))}});
    EXPECT_EQ(bob.link.last()["code"], "already_joined");
}

TEST_F(SignalingHubTest, OversizedMessageIsAnsweredConnectionKept) {
    config_.signaling.max_message_bytes = 2048;
    Client& bob = join("bob");
    say(bob, {{"type", "ping"}, {"pad", std::string(4096, 'x')}});
    EXPECT_EQ(bob.link.last()["code"], "message_too_large");
    EXPECT_FALSE(bob.link.closed);
}

TEST_F(SignalingHubTest, BinaryFramesAreRefused) {
    Client& bob = join("bob");
    hub().on_binary(bob.session, now_);
    EXPECT_EQ(bob.link.last()["code"], "binary_not_supported");
}

TEST_F(SignalingHubTest, FloodIsRateLimitedThenClosedWhileOthersCarryOn) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    for (int i = 0; i < 1000 && !bob.link.closed; ++i) say(bob, {{"type", "ping"}});
    EXPECT_GE(bob.link.of_type("error").size(), 1u);
    EXPECT_EQ(bob.link.of_type("error").front()["code"], "rate_limited");
    EXPECT_EQ(bob.link.closed, CloseCode::policy_violation);
    EXPECT_GT(stats_.messages_dropped_rate_limited, 0u);
    say(alice, {{"type", "ping"}});
    EXPECT_EQ(alice.link.last()["type"], "pong");
}

TEST_F(SignalingHubTest, RateLimitRefillsOverTime) {
    config_.signaling.message_burst = 5;
    Client& bob = join("bob");  // the join used one token
    for (int i = 0; i < 4; ++i) say(bob, {{"type", "ping"}});
    say(bob, {{"type", "ping"}});
    EXPECT_EQ(bob.link.last()["code"], "rate_limited");
    now_ += std::chrono::seconds(1);
    say(bob, {{"type", "ping"}});
    EXPECT_EQ(bob.link.last()["type"], "pong");
}

TEST_F(SignalingHubTest, SilentConnectionsAreClosedAtTheJoinDeadline) {
    Client& c = connect();
    hub().tick(now_ + config_.signaling.join_timeout - std::chrono::milliseconds(1));
    EXPECT_FALSE(c.link.closed);
    hub().tick(now_ + config_.signaling.join_timeout);
    EXPECT_EQ(c.link.last()["code"], "join_timeout");
    EXPECT_TRUE(c.link.closed);
}

TEST_F(SignalingHubTest, FullRoomRefusesNewIdentitiesButAllowsReplacement) {
    config_.max_participants_per_room = 2;
    join("alice");
    join("bob");
    Client& carol = join("carol");
    EXPECT_EQ(carol.link.last()["code"], "room_full");
    Client& bob2 = join("bob");
    EXPECT_EQ(bob2.link.of_type("joined").size(), 1u);
}

TEST_F(SignalingHubTest, RoomCountIsLimited) {
    config_.max_rooms = 1;
    join("alice", "r1");
    Client& bob = join("bob", "r2");
    EXPECT_EQ(bob.link.last()["code"], "too_many_rooms");
}

TEST_F(SignalingHubTest, WithoutAutoCreateUnknownRoomsAreNotFound) {
    config_.auto_create_rooms = false;
    Client& bob = join("bob", "r9");
    EXPECT_EQ(bob.link.last()["code"], "room_not_found");
}

TEST_F(SignalingHubTest, ServerFullRefusesConnections) {
    config_.signaling.max_connections = 1;
    connect();
    Client& second = connect();
    EXPECT_EQ(second.session, 0u);
    EXPECT_EQ(second.link.last()["code"], "server_full");
    EXPECT_EQ(second.link.closed, CloseCode::try_again_later);
}

TEST_F(SignalingHubTest, KickTellsTheKickedAndTheOthers) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    EXPECT_EQ(hub().kick("r1", "bob", "be nice", now_), SignalingHub::KickResult::kicked);
    EXPECT_EQ(bob.link.of_type("kicked").at(0)["reason"], "kicked");
    EXPECT_EQ(bob.link.of_type("kicked").at(0)["message"], "be nice");
    EXPECT_TRUE(bob.link.closed);
    EXPECT_EQ(alice.link.of_type("participant_left").at(0)["reason"], "kicked");
    EXPECT_EQ(roster_->find("r1", "bob"), nullptr);
    // Whatever the kicked client still sends is ignored.
    say(bob, {{"type", "ping"}});
    EXPECT_EQ(bob.link.of_type("pong").size(), 0u);
}

TEST_F(SignalingHubTest, KickOfUnknownsIsReported) {
    join("alice");
    EXPECT_EQ(hub().kick("nope", "alice", "", now_), SignalingHub::KickResult::room_not_found);
    EXPECT_EQ(hub().kick("r1", "zed", "", now_), SignalingHub::KickResult::participant_not_found);
}

TEST_F(SignalingHubTest, CloseRoomRemovesEveryone) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    Client& other = join("carol", "r2");
    EXPECT_EQ(hub().close_room("r1"), 2u);
    EXPECT_EQ(alice.link.of_type("kicked").at(0)["reason"], "room_closed");
    EXPECT_EQ(bob.link.of_type("kicked").at(0)["reason"], "room_closed");
    EXPECT_FALSE(other.link.closed);
    EXPECT_EQ(roster_->find("r1"), nullptr);
    EXPECT_FALSE(hub().close_room("r1"));
}

TEST_F(SignalingHubTest, EmptyRoomsCloseAfterTheTimeout) {
    config_.empty_room_timeout = std::chrono::seconds(10);
    Client& bob = join("bob");
    say(bob, {{"type", "leave"}});
    hub().tick(now_ + std::chrono::seconds(9));
    EXPECT_NE(roster_->find("r1"), nullptr);
    hub().tick(now_ + std::chrono::seconds(10));
    EXPECT_EQ(roster_->find("r1"), nullptr);
}

TEST_F(SignalingHubTest, ShutdownSaysGoodbye) {
    Client& bob = join("bob");
    hub().shutdown();
    EXPECT_EQ(bob.link.last()["code"], "server_shutdown");
    EXPECT_EQ(bob.link.closed, CloseCode::going_away);
}

}  // namespace
}  // namespace rollcall::signaling

namespace rollcall::signaling {
namespace {

TEST_F(SignalingHubTest, PublishWithoutAMediaPlaneIsMediaUnavailable) {
    Client& bob = join("bob");
    say(bob, {{"type", "publish"}, {"echo", true}, {"sdp", "v=0\r\n"}, {"id", 4}});
    EXPECT_EQ(bob.link.last()["code"], "media_unavailable");
    EXPECT_EQ(bob.link.last()["ref"], 4);
    EXPECT_FALSE(bob.link.closed);
}

}  // namespace
}  // namespace rollcall::signaling
