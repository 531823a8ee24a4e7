#include <gtest/gtest.h>

#include "room/Roster.hpp"

namespace rollcall::room {
namespace {

Participant person(const std::string& identity, std::uint64_t session) {
    Participant p;
    p.id = "PA_" + identity + std::to_string(session);
    p.identity = identity;
    p.name = identity;
    p.session = session;
    return p;
}

const auto t0 = Clock::now();

TEST(Roster, CreatesRoomOnFirstJoin) {
    Roster roster({});
    JoinOutcome outcome = roster.join("r1", person("alice", 1));
    ASSERT_EQ(outcome.error, JoinError::none);
    EXPECT_EQ(outcome.joined->identity, "alice");
    EXPECT_FALSE(outcome.replaced);
    ASSERT_NE(roster.find("r1"), nullptr);
    EXPECT_EQ(roster.participant_count(), 1u);
}

TEST(Roster, SameIdentityReplacesTheEarlierSession) {
    Roster roster({});
    roster.join("r1", person("alice", 1));
    JoinOutcome outcome = roster.join("r1", person("alice", 2));
    ASSERT_TRUE(outcome.replaced);
    EXPECT_EQ(outcome.replaced->session, 1u);
    EXPECT_EQ(roster.find("r1", "alice")->session, 2u);
    EXPECT_EQ(roster.participant_count(), 1u);
}

TEST(Roster, LeaveOnlyRemovesTheSessionThatHoldsTheIdentity) {
    Roster roster({});
    roster.join("r1", person("alice", 1));
    roster.join("r1", person("alice", 2));
    EXPECT_FALSE(roster.leave("r1", "alice", 1, t0));
    EXPECT_TRUE(roster.leave("r1", "alice", 2, t0));
    EXPECT_EQ(roster.participant_count(), 0u);
}

TEST(Roster, RemoveIgnoresTheSession) {
    Roster roster({});
    roster.join("r1", person("alice", 1));
    EXPECT_TRUE(roster.remove("r1", "alice", t0));
    EXPECT_FALSE(roster.remove("r1", "alice", t0));
    EXPECT_FALSE(roster.remove("r2", "alice", t0));
}

TEST(Roster, EnforcesLimits) {
    Roster roster({.max_rooms = 1,
                   .max_participants_per_room = 1,
                   .auto_create = true,
                   .empty_timeout = std::chrono::seconds(5)});
    EXPECT_EQ(roster.join("r1", person("a", 1)).error, JoinError::none);
    EXPECT_EQ(roster.join("r1", person("b", 2)).error, JoinError::room_full);
    EXPECT_EQ(roster.join("r2", person("c", 3)).error, JoinError::too_many_rooms);
    EXPECT_EQ(roster.join("r1", person("a", 4)).error, JoinError::none);  // replacement fits
}

TEST(Roster, WithoutAutoCreateRoomsMustExist) {
    Roster roster({.max_rooms = 10,
                   .max_participants_per_room = 10,
                   .auto_create = false,
                   .empty_timeout = std::chrono::seconds(5)});
    EXPECT_EQ(roster.join("r1", person("a", 1)).error, JoinError::room_not_found);
    EXPECT_TRUE(roster.create_room("r1", t0));
    EXPECT_FALSE(roster.create_room("r1", t0));
    EXPECT_EQ(roster.join("r1", person("a", 1)).error, JoinError::none);
}

TEST(Roster, EmptyRoomsExpireAfterTheTimeoutOnly) {
    Roster roster({.max_rooms = 10,
                   .max_participants_per_room = 10,
                   .auto_create = true,
                   .empty_timeout = std::chrono::seconds(5)});
    roster.join("r1", person("a", 1));
    roster.join("r2", person("b", 2));
    roster.leave("r1", "a", 1, t0);
    EXPECT_TRUE(roster.expire_empty_rooms(t0 + std::chrono::seconds(4)).empty());
    EXPECT_EQ(roster.expire_empty_rooms(t0 + std::chrono::seconds(5)),
              std::vector<std::string>{"r1"});
    EXPECT_NE(roster.find("r2"), nullptr);
}

TEST(Roster, RejoinCancelsExpiry) {
    Roster roster({.max_rooms = 10,
                   .max_participants_per_room = 10,
                   .auto_create = true,
                   .empty_timeout = std::chrono::seconds(5)});
    roster.join("r1", person("a", 1));
    roster.leave("r1", "a", 1, t0);
    roster.join("r1", person("a", 2));
    EXPECT_TRUE(roster.expire_empty_rooms(t0 + std::chrono::hours(1)).empty());
}

TEST(Roster, CloseRoomReturnsWhoWasIn) {
    Roster roster({});
    roster.join("r1", person("a", 1));
    roster.join("r1", person("b", 2));
    auto removed = roster.close_room("r1");
    ASSERT_TRUE(removed);
    EXPECT_EQ(removed->size(), 2u);
    EXPECT_EQ(roster.find("r1"), nullptr);
    EXPECT_FALSE(roster.close_room("r1"));
}

TEST(Roster, SubscriptionsFollowTracksAndTheirOwners) {
    Roster roster({});
    roster.join("r1", person("alice", 1));
    roster.join("r1", person("bob", 2));
    ASSERT_TRUE(
        roster.add_track("r1", "alice", Track{"TR_a", "audio", "microphone", "0", "opus", false}));
    ASSERT_TRUE(
        roster.add_track("r1", "alice", Track{"TR_v", "video", "camera", "1", "VP8", false}));
    EXPECT_FALSE(
        roster.add_track("r1", "alice", Track{"TR_v", "video", "camera", "1", "VP8", false}))
        << "ids are unique";
    EXPECT_FALSE(roster.subscribe("r1", "alice", "TR_a")) << "never one's own track";
    EXPECT_FALSE(roster.subscribe("r1", "bob", "TR_nope"));
    EXPECT_TRUE(roster.subscribe("r1", "bob", "TR_a"));
    EXPECT_TRUE(roster.subscribe("r1", "bob", "TR_v"));
    auto [owner, track] = roster.find_track("r1", "TR_v");
    ASSERT_NE(track, nullptr);
    EXPECT_EQ(owner->identity, "alice");
    EXPECT_TRUE(roster.set_muted("r1", "alice", "TR_a", true));
    EXPECT_TRUE(roster.find("r1", "alice")->tracks.at("TR_a").muted);
    EXPECT_FALSE(roster.set_muted("r1", "bob", "TR_a", true))
        << "only the publisher mutes its track";

    ASSERT_TRUE(roster.remove_track("r1", "alice", "TR_a"));
    EXPECT_EQ(roster.find("r1", "bob")->subscriptions.count("TR_a"), 0u)
        << "a removed track leaves no subscription";
    roster.leave("r1", "alice", 1, t0);
    EXPECT_TRUE(roster.find("r1", "bob")->subscriptions.empty()) << "nor does a departed publisher";
}

TEST(Roster, AReplacedSessionTakesItsTracksAndTheirSubscriptionsAlong) {
    Roster roster({});
    roster.join("r1", person("alice", 1));
    roster.join("r1", person("bob", 2));
    roster.add_track("r1", "alice", Track{"TR_v", "video", "camera", "1", "VP8", false});
    roster.subscribe("r1", "bob", "TR_v");
    JoinOutcome again = roster.join("r1", person("alice", 3));
    ASSERT_TRUE(again.replaced);
    EXPECT_EQ(again.replaced->tracks.size(), 1u);
    EXPECT_TRUE(again.joined->tracks.empty());
    EXPECT_TRUE(roster.find("r1", "bob")->subscriptions.empty());
}

}  // namespace
}  // namespace rollcall::room
