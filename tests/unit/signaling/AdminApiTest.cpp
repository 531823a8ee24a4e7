#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "signaling/AdminApi.hpp"
#include "signaling/FakeLink.hpp"
#include "signaling/SignalingHub.hpp"
#include "signaling/TestTokens.hpp"
#include "signaling/Token.hpp"

namespace rollcall::signaling {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

class AdminApiTest : public ::testing::Test {
  protected:
    AdminApiTest()
        : verifier_(keys(), {}),
          roster_({}),
          hub_(config_, verifier_, roster_, stats_),
          api_(verifier_, hub_, config_.http) {}

    static TokenKeys keys() {
        TokenKeys k;
        k.hmac_secrets[test::kKey] = test::kSecret;
        return k;
    }

    static std::string admin_token(const std::string& room, bool admin, bool list) {
        json p = test::good_payload();
        p.erase("sub");
        p["video"] = {{"room", room}, {"roomAdmin", admin}, {"roomList", list}};
        return test::hs256(p);
    }

    test::FakeLink& join(const std::string& identity, const std::string& room) {
        links_.push_back(std::make_unique<test::FakeLink>());
        test::FakeLink& link = *links_.back();
        const SessionId session = hub_.on_open(link, Clock::now());
        json p = test::good_payload();
        p["sub"] = identity;
        p["video"]["room"] = room;
        hub_.on_text(session, json({{"type", "join"}, {"token", test::hs256(p)}}).dump(),
                     Clock::now(), test::now_unix());
        return link;
    }

    HttpResponse call(const std::string& method, const std::string& target,
                      const std::string& token, const std::string& body = "") {
        HttpRequest request;
        request.method = method;
        request.target = "/admin/v1" + target;
        if (!token.empty()) request.authorization = "Bearer " + token;
        request.body = body;
        request.remote_address = "127.0.0.1";
        return api_.handle(request, split_target(target).first, Clock::now(), test::now_unix());
    }

    static json body(const HttpResponse& r) { return json::parse(r.body); }

    ServerConfig config_;
    SignalingStats stats_;
    TokenVerifier verifier_;
    room::Roster roster_;
    SignalingHub hub_;
    AdminApi api_;
    std::vector<std::unique_ptr<test::FakeLink>> links_;
};

TEST_F(AdminApiTest, ListsRoomsWithRoomList) {
    join("alice", "r1");
    join("bob", "r2");
    HttpResponse r = call("GET", "/rooms", admin_token("*", false, true));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(body(r)["rooms"].size(), 2u);
    EXPECT_EQ(body(r)["rooms"][0]["num_participants"], 1);
}

TEST_F(AdminApiTest, ShowsARoomsParticipants) {
    join("alice", "r1");
    join("bob", "r1");
    HttpResponse r = call("GET", "/rooms/r1", admin_token("r1", true, false));
    ASSERT_EQ(r.status, 200) << r.body;
    const json room = body(r)["room"];
    EXPECT_EQ(room["name"], "r1");
    ASSERT_EQ(room["participants"].size(), 2u);
    EXPECT_EQ(room["participants"][0]["identity"], "alice");
    EXPECT_TRUE(room["participants"][0]["tracks"].is_array());
}

TEST_F(AdminApiTest, KickReachesTheKickedAndTheOthers) {
    test::FakeLink& alice = join("alice", "r1");
    test::FakeLink& bob = join("bob", "r1");
    HttpResponse r = call("DELETE", "/rooms/r1/participants/bob", admin_token("r1", true, false),
                          R"({"reason":"spam"})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(bob.of_type("kicked").at(0)["message"], "spam");
    EXPECT_EQ(alice.of_type("participant_left").at(0)["reason"], "kicked");
}

TEST_F(AdminApiTest, MuteNeedsRoomAdminAndNamesWhatIsMissing) {
    join("bob", "r1");
    const std::string path = "/rooms/r1/participants/bob/tracks/TR_x/mute";
    EXPECT_EQ(call("POST", path, admin_token("r2", true, false)).status, 403);
    EXPECT_EQ(call("GET", path, admin_token("r1", true, false)).status, 405);
    HttpResponse r = call("POST", path, admin_token("r1", true, false));
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(body(r)["code"], "track_not_found");  // bob publishes nothing
    EXPECT_EQ(body(call("POST", "/rooms/r1/participants/zed/tracks/TR_x/unmute",
                        admin_token("r1", true, false)))["code"],
              "participant_not_found");
    EXPECT_EQ(call("POST", "/rooms/r1/participants/bob/tracks/TR_x/silence",
                   admin_token("r1", true, false))
                  .status,
              404);
}

TEST_F(AdminApiTest, KickReasonMayComeFromTheQuery) {
    test::FakeLink& bob = join("bob", "r1");
    HttpResponse r = call("DELETE", "/rooms/r1/participants/bob?reason=time%27s+up",
                          admin_token("r1", true, false));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(bob.of_type("kicked").at(0)["message"], "time's up");
}

TEST_F(AdminApiTest, IdentitiesArePercentDecoded) {
    join("ada@example.org", "r1");
    HttpResponse r =
        call("DELETE", "/rooms/r1/participants/ada%40example.org", admin_token("r1", true, false));
    EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(AdminApiTest, DeletesARoom) {
    test::FakeLink& alice = join("alice", "r1");
    HttpResponse r = call("DELETE", "/rooms/r1", admin_token("*", true, false));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(body(r)["deleted"]["participants_removed"], 1);
    EXPECT_EQ(alice.of_type("kicked").at(0)["reason"], "room_closed");
    EXPECT_EQ(call("GET", "/rooms/r1", admin_token("*", true, true)).status, 404);
}

TEST_F(AdminApiTest, WithoutCredentialsIs401WithChallenge) {
    HttpResponse r = call("GET", "/rooms", "");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(body(r)["code"], "missing_credentials");
    ASSERT_FALSE(r.headers.empty());
    EXPECT_EQ(r.headers[0].first, "WWW-Authenticate");
}

TEST_F(AdminApiTest, WrongCredentialsAre401) {
    json p = test::good_payload();
    p["video"]["roomList"] = true;
    EXPECT_EQ(
        call("GET", "/rooms", test::hs256(p, "wrong-secret-wrong-secret-wrong-secret")).status,
        401);
    EXPECT_EQ(call("GET", "/rooms", "not-a-token").status, 401);
    HttpRequest basic;
    basic.method = "GET";
    basic.authorization = "Basic YWRtaW46YWRtaW4=";
    EXPECT_EQ(api_.handle(basic, "/rooms", Clock::now(), test::now_unix()).status, 401);
}

TEST_F(AdminApiTest, MissingGrantsAre403) {
    join("alice", "r1");
    const std::string participant = test::hs256(test::good_payload());  // roomJoin only
    EXPECT_EQ(call("GET", "/rooms", participant).status, 403);
    EXPECT_EQ(call("DELETE", "/rooms/r1/participants/alice", participant).status, 403);
    // roomAdmin for another room does not reach this one; roomList cannot kick.
    EXPECT_EQ(call("DELETE", "/rooms/r1/participants/alice", admin_token("r2", true, false)).status,
              403);
    EXPECT_EQ(call("DELETE", "/rooms/r1/participants/alice", admin_token("*", false, true)).status,
              403);
    EXPECT_EQ(call("DELETE", "/rooms/r1", admin_token("r2", true, true)).status, 403);
    EXPECT_NE(roster_.find("r1", "alice"), nullptr);
}

TEST_F(AdminApiTest, UnknownThingsAre404) {
    join("alice", "r1");
    const std::string admin = admin_token("*", true, true);
    EXPECT_EQ(body(call("GET", "/rooms/nope", admin))["code"], "room_not_found");
    EXPECT_EQ(body(call("DELETE", "/rooms/r1/participants/zed", admin))["code"],
              "participant_not_found");
    EXPECT_EQ(call("GET", "/nothing", admin).status, 404);
    EXPECT_EQ(call("GET", "/rooms/r1/participants/alice/extra", admin).status, 404);
}

TEST_F(AdminApiTest, WrongMethodsAre405WithAllow) {
    const std::string admin = admin_token("*", true, true);
    HttpResponse r = call("POST", "/rooms", admin);
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.headers.at(0).second, "GET");
    EXPECT_EQ(call("PUT", "/rooms/r1", admin).status, 405);
    EXPECT_EQ(call("GET", "/rooms/r1/participants/alice", admin).status, 405);
}

TEST_F(AdminApiTest, BadInputIs400) {
    join("alice", "r1");
    const std::string admin = admin_token("*", true, true);
    EXPECT_EQ(call("GET", "/rooms/bad%zz", admin).status, 400);
    EXPECT_EQ(call("GET", "/rooms/..", admin).status, 400);
    EXPECT_EQ(call("DELETE", "/rooms/r1/participants/alice", admin, "{oops").status, 400);
    EXPECT_EQ(call("DELETE", "/rooms/r1/participants/alice", admin, R"({"reason":5})").status, 400);
    EXPECT_EQ(call("DELETE", "/rooms/r1/participants/alice", admin,
                   json({{"reason", std::string(300, 'x')}}).dump())
                  .status,
              400);
    EXPECT_NE(roster_.find("r1", "alice"), nullptr);
}

TEST_F(AdminApiTest, OversizedBodyIs413) {
    EXPECT_EQ(
        call("DELETE", "/rooms/r1", admin_token("*", true, true), std::string(5000, ' ')).status,
        413);
}

TEST_F(AdminApiTest, FloodIs429) {
    const std::string admin = admin_token("*", true, true);
    int limited = 0;
    for (int i = 0; i < 100; ++i) limited += call("GET", "/rooms", admin).status == 429;
    EXPECT_GT(limited, 0);
}

TEST_F(AdminApiTest, TheStreamSendsStateEachTickAndEndsWhenItsTokenExpires) {
    join("alice", "r1");
    HttpResponse r = call("GET", "/stream?room=r1", admin_token("*", false, true));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.content_type, "text/event-stream");
    ASSERT_TRUE(r.stream);
    EXPECT_EQ(r.body.rfind("retry: 2000\n\n", 0), 0u);
    EXPECT_NE(r.body.find("event: rooms\ndata: {\"rooms\":[{"), std::string::npos);
    EXPECT_NE(r.body.find("event: room\ndata: {\"name\":\"r1\",\"room\":{"), std::string::npos);
    auto tick = r.stream->next(Clock::now(), test::now_unix());
    ASSERT_TRUE(tick);
    EXPECT_NE(tick->find("\"identity\":\"alice\""), std::string::npos);
    // Past the token's expiry (an hour ahead in good_payload): one `end`, then nothing.
    auto end = r.stream->next(Clock::now(), test::now_unix() + 7200);
    ASSERT_TRUE(end);
    EXPECT_EQ(*end, "event: end\ndata: {\"reason\":\"token_expired\"}\n\n");
    EXPECT_FALSE(r.stream->next(Clock::now(), test::now_unix() + 7201));
}

TEST_F(AdminApiTest, StreamsAreBoundedAndFreedWhenDropped) {
    const std::string token = admin_token("*", false, true);
    std::vector<HttpResponse> open;
    for (std::size_t i = 0; i < AdminApi::kMaxStreams; ++i) {
        open.push_back(call("GET", "/stream", token));
        ASSERT_EQ(open.back().status, 200);
    }
    HttpResponse refused = call("GET", "/stream", token);
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(body(refused)["code"], "too_many_streams");
    open.pop_back();
    EXPECT_EQ(api_.open_streams(), AdminApi::kMaxStreams - 1);
    EXPECT_EQ(call("GET", "/stream", token).status, 200);  // and dropped again at once
    EXPECT_EQ(api_.open_streams(), AdminApi::kMaxStreams - 1);
}

}  // namespace
}  // namespace rollcall::signaling
