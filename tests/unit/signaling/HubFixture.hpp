#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "signaling/FakeLink.hpp"
#include "signaling/FakeMedia.hpp"
#include "signaling/SignalingHub.hpp"
#include "signaling/TestTokens.hpp"
#include "signaling/Token.hpp"

namespace rollcall::test {

// A SignalingHub with fake client links (and, when asked, a fake media plane), its clients
// joined with real HS256 tokens.
class HubFixture : public ::testing::Test {
  protected:
    using Clock = std::chrono::steady_clock;
    using json = nlohmann::json;

    HubFixture() { config_.signaling.max_connections = 16; }

    struct Client {
        FakeLink link;
        signaling::SessionId session = 0;
    };

    // A recorded SDP from tests/data/sdp.
    static std::string sample(const std::string& name) {
        std::ifstream in(std::string(ROLLCALL_TEST_DATA) + "/sdp/" + name);
        std::ostringstream text;
        text << in.rdbuf();
        return text.str();
    }

    static json token_for(const std::string& identity, const std::string& room = "r1") {
        json p = good_payload();
        p["sub"] = identity;
        p["name"] = identity + " name";
        p["video"]["room"] = room;
        return p;
    }

    Client& connect() {
        clients_.push_back(std::make_unique<Client>());
        Client& c = *clients_.back();
        c.session = hub().on_open(c.link, now_);
        return c;
    }

    void say(Client& c, const json& message) {
        hub().on_text(c.session, message.dump(), now_, now_unix());
    }
    void say_raw(Client& c, std::string_view text) {
        hub().on_text(c.session, text, now_, now_unix());
    }

    Client& join(const std::string& identity, const std::string& room = "r1") {
        Client& c = connect();
        say(c, {{"type", "join"}, {"token", hs256(token_for(identity, room))}});
        return c;
    }

    signaling::SignalingHub& hub() {
        if (!hub_) {
            verifier_ = std::make_unique<signaling::TokenVerifier>(
                keys(), signaling::TokenVerifier::Options{});
            roster_ = std::make_unique<room::Roster>(
                room::Roster::Limits{config_.max_rooms, config_.max_participants_per_room,
                                     config_.auto_create_rooms, config_.empty_room_timeout});
            hub_ = std::make_unique<signaling::SignalingHub>(config_, *verifier_, *roster_, stats_,
                                                             media_.get(), audit_.get());
        }
        return *hub_;
    }

    static signaling::TokenKeys keys() {
        signaling::TokenKeys k;
        k.hmac_secrets[kKey] = kSecret;
        return k;
    }

    signaling::ServerConfig config_;
    signaling::SignalingStats stats_;
    Clock::time_point now_ = Clock::now();
    std::unique_ptr<FakeMedia> media_;       // set before hub() for a media plane
    std::unique_ptr<room::AuditLog> audit_;  // likewise for a durable audit log
    std::unique_ptr<signaling::TokenVerifier> verifier_;
    std::unique_ptr<room::Roster> roster_;
    std::unique_ptr<signaling::SignalingHub> hub_;
    std::vector<std::unique_ptr<Client>> clients_;
};

}  // namespace rollcall::test
