#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "signaling/HttpRouter.hpp"
#include "signaling/ServerConfig.hpp"
#include "signaling/SignalingHub.hpp"
#include "signaling/TestTokens.hpp"
#include "signaling/Token.hpp"

namespace rollcall::signaling {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

class HttpRouterTest : public ::testing::Test {
  protected:
    HttpRouterTest() {
        root_ =
            std::filesystem::temp_directory_path() / ("rollcall-web-" + std::to_string(::getpid()));
        std::filesystem::create_directories(root_ / "sub");
        std::ofstream(root_ / "index.html") << "<!doctype html><title>hi</title>";
        std::ofstream(root_ / "app.js") << "export {};";
        std::ofstream(root_ / ".secret.js") << "nope";
        std::ofstream(root_ / "notes.txt") << "not served";
        std::ofstream(root_ / "sub" / "x.css") << "body{}";
        std::ofstream(root_.parent_path() / "outside.html") << "outside";
        config_.web_root = root_;
        config_.metrics_token = "scrape-token-0123456789";
        config_.api_keys[test::kKey] = test::kSecret;
    }
    ~HttpRouterTest() override { std::filesystem::remove_all(root_); }

    HttpRouter& router() {
        if (!router_) {
            verifier_ = std::make_unique<TokenVerifier>(TokenKeys{config_.api_keys, {}},
                                                        TokenVerifier::Options{});
            hub_ = std::make_unique<SignalingHub>(config_, *verifier_, roster_, stats_);
            router_ = std::make_unique<HttpRouter>(
                config_, *verifier_, *hub_, [] { return std::string("rollcall_rooms 0\n"); });
        }
        return *router_;
    }

    HttpResponse get(const std::string& target, const std::string& auth = "",
                     const std::string& method = "GET", const std::string& body = "") {
        HttpRequest request;
        request.method = method;
        request.target = target;
        request.authorization = auth;
        request.body = body;
        request.remote_address = "127.0.0.1";
        return router().handle(request, Clock::now(), test::now_unix());
    }

    std::filesystem::path root_;
    ServerConfig config_;
    SignalingStats stats_;
    room::Roster roster_{{}};
    std::unique_ptr<TokenVerifier> verifier_;
    std::unique_ptr<SignalingHub> hub_;
    std::unique_ptr<HttpRouter> router_;
};

TEST_F(HttpRouterTest, HealthzAnswersWithoutCredentials) {
    HttpResponse r = get("/healthz");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(json::parse(r.body)["status"], "ok");
}

TEST_F(HttpRouterTest, MetricsNeedCredentials) {
    EXPECT_EQ(get("/metrics").status, 401);
    EXPECT_EQ(get("/metrics", "Bearer wrong").status, 401);
    HttpResponse r = get("/metrics", "Bearer scrape-token-0123456789");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "rollcall_rooms 0\n");
    EXPECT_TRUE(r.content_type.starts_with("text/plain; version=0.0.4"));
}

TEST_F(HttpRouterTest, ScrapingInALoopRendersTheMetricsAtMostFourTimesASecond) {
    int renders = 0;
    verifier_ =
        std::make_unique<TokenVerifier>(TokenKeys{config_.api_keys, {}}, TokenVerifier::Options{});
    hub_ = std::make_unique<SignalingHub>(config_, *verifier_, roster_, stats_);
    HttpRouter router(config_, *verifier_, *hub_,
                      [&] { return "rollcall_rooms " + std::to_string(++renders) + "\n"; });
    HttpRequest request;
    request.method = "GET";
    request.target = "/metrics";
    request.authorization = "Bearer scrape-token-0123456789";
    const auto t0 = Clock::now();
    for (int i = 0; i < 1000; ++i) {
        const auto r = router.handle(request, t0 + std::chrono::microseconds(200 * i), 0);
        ASSERT_EQ(r.status, 200);
    }
    EXPECT_EQ(renders, 1);  // 1,000 scrapes within 200 ms
    const auto later = router.handle(request, t0 + std::chrono::milliseconds(250), 0);
    EXPECT_EQ(later.body, "rollcall_rooms 2\n");
    request.authorization = "Bearer wrong";
    EXPECT_EQ(router.handle(request, t0 + std::chrono::seconds(1), 0).status, 401);
    EXPECT_EQ(renders, 2) << "a refused scrape renders nothing";
}

TEST_F(HttpRouterTest, MetricsAcceptARoomListToken) {
    json p = test::good_payload();
    p["video"]["roomList"] = true;
    EXPECT_EQ(get("/metrics", "Bearer " + test::hs256(p)).status, 200);
    EXPECT_EQ(get("/metrics", "Bearer " + test::hs256(test::good_payload())).status, 403);
}

TEST_F(HttpRouterTest, ServesTheWebClientWithSecurityHeaders) {
    HttpResponse r = get("/");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
    bool csp = false;
    for (auto& [name, value] : r.headers) csp = csp || name == "Content-Security-Policy";
    EXPECT_TRUE(csp);
    EXPECT_EQ(get("/app.js").content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(get("/sub/x.css").status, 200);
}

TEST_F(HttpRouterTest, RefusesTraversalDotfilesAndUnknownTypes) {
    EXPECT_EQ(get("/../outside.html").status, 404);
    EXPECT_EQ(get("/sub/../../outside.html").status, 404);
    EXPECT_EQ(get("/%2e%2e/outside.html").status, 404);
    EXPECT_EQ(get("/.secret.js").status, 404);
    EXPECT_EQ(get("/notes.txt").status, 404);
    EXPECT_EQ(get("//etc/passwd").status, 404);
    EXPECT_EQ(get("/sub").status, 404);
    EXPECT_EQ(get("/app.js", "", "POST").status, 404);
}

TEST_F(HttpRouterTest, DevTokenExistsOnlyInDevMode) {
    EXPECT_EQ(get("/dev/token", "", "POST", R"({"room":"r1","identity":"ann"})").status, 404);
}

TEST_F(HttpRouterTest, DevTokenMintsAJoinToken) {
    config_.dev = true;
    config_.api_keys[kDevApiKey] = kDevApiSecret;
    HttpResponse r =
        get("/dev/token", "", "POST", R"({"room":"r1","identity":"ann","name":"Ann"})");
    ASSERT_EQ(r.status, 200) << r.body;
    TokenResult verified =
        verifier_->verify(json::parse(r.body)["token"].get<std::string>(), test::now_unix());
    ASSERT_TRUE(verified.ok()) << verified.detail;
    EXPECT_EQ(verified.claims.identity, "ann");
    EXPECT_TRUE(verified.claims.grants.room_join);
    EXPECT_FALSE(verified.claims.grants.room_admin);
    EXPECT_EQ(get("/dev/token", "", "POST", R"({"room":"../x","identity":"ann"})").status, 400);
    EXPECT_EQ(get("/dev/token", "", "POST", "nope").status, 400);
    EXPECT_EQ(get("/dev/token").status, 405);
}

TEST_F(HttpRouterTest, DevAdminTokenExistsOnlyInDevMode) {
    EXPECT_EQ(get("/dev/admin-token", "", "POST").status, 404);
}

TEST_F(HttpRouterTest, DevAdminTokenIsForTheDashboard) {
    config_.dev = true;
    config_.api_keys[kDevApiKey] = kDevApiSecret;
    HttpResponse r = get("/dev/admin-token", "", "POST");
    ASSERT_EQ(r.status, 200) << r.body;
    TokenResult verified =
        verifier_->verify(json::parse(r.body)["token"].get<std::string>(), test::now_unix());
    ASSERT_TRUE(verified.ok()) << verified.detail;
    EXPECT_TRUE(verified.claims.grants.room_list);
    EXPECT_TRUE(verified.claims.grants.administers("any-room"));
    EXPECT_FALSE(verified.claims.grants.room_join);
    EXPECT_EQ(get("/dev/admin-token").status, 405);
    HttpRequest foreign;
    foreign.method = "POST";
    foreign.target = "/dev/admin-token";
    foreign.origin = "https://evil.example";
    foreign.host = "127.0.0.1:7880";
    foreign.remote_address = "127.0.0.1";
    EXPECT_EQ(router().handle(foreign, Clock::now(), test::now_unix()).status, 403);
}

TEST_F(HttpRouterTest, DashboardIsServedFromTheWebRoot) {
    EXPECT_EQ(get("/dashboard").status, 404);  // no such page in this root yet
    std::ofstream(root_ / "dashboard.html") << "<!doctype html><title>dash</title>";
    HttpResponse r = get("/dashboard");
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("dash"), std::string::npos);
    EXPECT_EQ(get("/dashboard", "", "POST").status, 404);
}

TEST_F(HttpRouterTest, RtcWithoutUpgradeIs426) {
    EXPECT_EQ(get("/rtc").status, 426);
}

TEST_F(HttpRouterTest, AdminIsRouted) {
    EXPECT_EQ(get("/admin/v1/rooms").status, 401);
}

}  // namespace
}  // namespace rollcall::signaling
