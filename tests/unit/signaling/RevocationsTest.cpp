#include <gtest/gtest.h>

#include "signaling/Revocations.hpp"

namespace rollcall::signaling {
namespace {

TEST(Revocations, ARevokedCredentialIsRefusedUntilItExpires) {
    Revocations r;
    const std::string d = Revocations::digest("header.payload.signature");
    EXPECT_EQ(d.size(), 64u);
    EXPECT_EQ(d.find("payload"), std::string::npos);  // a digest, not the token
    EXPECT_NE(d, Revocations::digest("header.payload.signaturE"));
    r.revoke(d, 1000);
    EXPECT_TRUE(r.revoked(d, 999));
    EXPECT_FALSE(r.revoked(Revocations::digest("another"), 999));
    EXPECT_FALSE(r.revoked(d, 1000));  // expired: refused as expired anyway, and forgotten
    EXPECT_EQ(r.size(), 0u);
}

TEST(Revocations, BansAreByRoomAndIdentityAndEnd) {
    Revocations r;
    r.ban("standup", "mallory", 500);
    EXPECT_EQ(r.banned_until("standup", "mallory", 100), 500);
    EXPECT_EQ(r.banned_until("other", "mallory", 100), std::nullopt);
    EXPECT_EQ(r.banned_until("standup", "alice", 100), std::nullopt);
    r.ban("standup", "mallory", 300);  // a shorter ban does not cut a longer one
    EXPECT_EQ(r.banned_until("standup", "mallory", 100), 500);
    EXPECT_EQ(r.banned_until("standup", "mallory", 500), std::nullopt);
}

TEST(Revocations, StaysBoundedDroppingWhatEndsSoonest) {
    Revocations r;
    for (std::size_t i = 0; i < Revocations::kMaxCredentials + 500; ++i) {
        r.revoke(Revocations::digest(std::to_string(i)), static_cast<std::int64_t>(10000 + i));
    }
    EXPECT_EQ(r.size(), Revocations::kMaxCredentials);
    EXPECT_FALSE(r.revoked(Revocations::digest("0"), 0));  // the soonest to end went first
    EXPECT_TRUE(
        r.revoked(Revocations::digest(std::to_string(Revocations::kMaxCredentials + 499)), 0));
}

}  // namespace
}  // namespace rollcall::signaling
