#include <gtest/gtest.h>

#include "signaling/HttpMessage.hpp"

namespace rollcall::signaling {
namespace {

TEST(HttpMessage, SplitsTargetAtTheQuery) {
    auto [path, query] = split_target("/a/b?x=1&y=2");
    EXPECT_EQ(path, "/a/b");
    EXPECT_EQ(query, "x=1&y=2");
    EXPECT_EQ(split_target("/a").second, "");
}

TEST(HttpMessage, PercentDecodes) {
    std::string out;
    EXPECT_TRUE(percent_decode("a%20b%2Fc", out));
    EXPECT_EQ(out, "a b/c");
    EXPECT_TRUE(percent_decode("a+b", out));
    EXPECT_EQ(out, "a+b");
    EXPECT_TRUE(percent_decode("a+b", out, true));
    EXPECT_EQ(out, "a b");
}

TEST(HttpMessage, RefusesBadEscapesAndNul) {
    std::string out;
    EXPECT_FALSE(percent_decode("%", out));
    EXPECT_FALSE(percent_decode("%2", out));
    EXPECT_FALSE(percent_decode("%zz", out));
    EXPECT_FALSE(percent_decode("a%00b", out));
}

TEST(HttpMessage, ReadsQueryParameters) {
    EXPECT_EQ(query_param("a=1&reason=too+loud&b=2", "reason"), "too loud");
    EXPECT_EQ(query_param("a=1", "reason"), "");
    EXPECT_EQ(query_param("reason", "reason"), "");
}

TEST(HttpMessage, ExtractsBearerTokens) {
    EXPECT_EQ(bearer_token("Bearer abc"), "abc");
    EXPECT_EQ(bearer_token("bearer  abc "), "abc");
    EXPECT_EQ(bearer_token("Basic abc"), "");
    EXPECT_EQ(bearer_token("Bearer"), "");
    EXPECT_EQ(bearer_token(""), "");
}

TEST(HttpMessage, ErrorsHaveJsonBodies) {
    HttpResponse r = error_response(404, "room_not_found", "no such room");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.body, R"({"code":"room_not_found","message":"no such room"})");
}

TEST(OriginAllowed, SameOriginListedOrNoneOnly) {
    const std::vector<std::string> allowed{"https://app.example"};
    EXPECT_TRUE(origin_allowed("", "rollcall.example", true, allowed));  // not a page
    EXPECT_TRUE(origin_allowed("https://rollcall.example", "rollcall.example", true, allowed));
    EXPECT_TRUE(origin_allowed("https://127.0.0.1:7880", "127.0.0.1:7880", true, {}));
    EXPECT_FALSE(origin_allowed("http://rollcall.example", "rollcall.example", true, allowed))
        << "scheme counts";
    EXPECT_TRUE(origin_allowed("https://app.example", "rollcall.example", true, allowed));
    EXPECT_FALSE(origin_allowed("https://evil.example", "rollcall.example", true, allowed));
    EXPECT_FALSE(origin_allowed("null", "rollcall.example", true, allowed));
    EXPECT_FALSE(
        origin_allowed("https://rollcall.example.evil", "rollcall.example", true, allowed));
}

}  // namespace
}  // namespace rollcall::signaling
