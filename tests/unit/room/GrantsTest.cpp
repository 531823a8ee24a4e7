#include <gtest/gtest.h>

#include "room/Grants.hpp"

namespace rollcall::room {
namespace {

TEST(Grants, AdministersItsRoomOrEveryRoomWithWildcard) {
    Grants g;
    g.room = "r1";
    EXPECT_FALSE(g.administers("r1"));
    g.room_admin = true;
    EXPECT_TRUE(g.administers("r1"));
    EXPECT_FALSE(g.administers("r2"));
    g.room = "*";
    EXPECT_TRUE(g.administers("r2"));
    g.room = "";
    EXPECT_FALSE(g.administers("r2"));
}

TEST(Grants, RoomNames) {
    EXPECT_TRUE(is_valid_room_name("standup"));
    EXPECT_TRUE(is_valid_room_name("Team-1_a.b"));
    EXPECT_FALSE(is_valid_room_name(""));
    EXPECT_FALSE(is_valid_room_name("*"));
    EXPECT_FALSE(is_valid_room_name(".."));
    EXPECT_FALSE(is_valid_room_name("a/b"));
    EXPECT_FALSE(is_valid_room_name("a b"));
    EXPECT_FALSE(is_valid_room_name(std::string(65, 'a')));
}

TEST(Grants, Identities) {
    EXPECT_TRUE(is_valid_identity("ada@example.org"));
    EXPECT_TRUE(is_valid_identity("Zoë"));
    EXPECT_FALSE(is_valid_identity(""));
    EXPECT_FALSE(is_valid_identity("a/b"));
    EXPECT_FALSE(is_valid_identity("tab\there"));
    EXPECT_FALSE(is_valid_identity(std::string(129, 'a')));
}

}  // namespace
}  // namespace rollcall::room
