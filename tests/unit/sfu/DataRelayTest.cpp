// DataRelay over real SCTP associations joined in memory: the server end of each
// participant's association is its endpoint; what the server ends receive is relayed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sfu/DataRelay.hpp"
#include "transport/MediaTally.hpp"
#include "transport/SctpLink.hpp"

namespace rollcall::sfu {
namespace {

using transport::test::bytes;
using transport::test::SctpLink;

class DataRelayTest : public ::testing::Test {
  protected:
    void SetUp() override {
        context_ = g_main_context_new();
        g_main_context_push_thread_default(context_);
    }
    void TearDown() override {
        links_.clear();
        while (g_main_context_iteration(context_, FALSE)) {
        }
        g_main_context_pop_thread_default(context_);
        g_main_context_unref(context_);
    }

    // A participant with `access`, its channel "chat" open; returns its index.
    std::size_t add(DataAccess access, transport::SctpOptions options = {}) {
        access_.push_back(std::move(access));
        links_.push_back(std::make_unique<SctpLink>(context_, options));
        EXPECT_TRUE(links_.back()->open("chat"));
        return links_.size() - 1;
    }
    std::vector<DataEndpoint> room() {
        std::vector<DataEndpoint> out;
        for (std::size_t i = 0; i < links_.size(); ++i)
            out.push_back({i + 1, &access_[i], links_[i]->server.get()});
        return out;
    }
    // Participant `i` sends `text` (or binary); the relay takes it from its server end.
    void send(std::size_t i, const std::string& message, bool binary = false) {
        const std::size_t before = links_[i]->server_end.messages.size();
        ASSERT_EQ(links_[i]->client->send(0, binary, bytes(message)), transport::SendResult::sent);
        links_[i]->pump();
        ASSERT_EQ(links_[i]->server_end.messages.size(), before + 1);
        const auto everyone = room();
        relay_.relay(everyone[i], links_[i]->server->channels().at(0), binary, bytes(message),
                     everyone);
        for (auto& link : links_) link->pump();
    }
    std::vector<std::string> received(std::size_t i) {
        std::vector<std::string> out;
        for (const auto& [stream, text] : links_[i]->client_end.messages) out.push_back(text);
        return out;
    }

    GMainContext* context_ = nullptr;
    std::vector<DataAccess> access_;
    std::vector<std::unique_ptr<SctpLink>> links_;
    DataRelay relay_;
};

TEST_F(DataRelayTest, TextIsStampedWithTheRealSenderAndGoesToTheOthers) {
    const auto ada = add({"ada", true, true});
    const auto bob = add({"bob", true, true});
    const auto eve = add({"eve", false, false});  // may neither send nor receive
    send(ada, R"({"type":"chat","text":"hi","from":"mallory"})");
    ASSERT_EQ(received(bob).size(), 1u);
    const auto got = nlohmann::json::parse(received(bob)[0]);
    EXPECT_EQ(got["from"], "ada");
    EXPECT_EQ(got["text"], "hi");
    EXPECT_TRUE(got["ts"].is_number_integer());
    EXPECT_TRUE(received(ada).empty());  // never back to the sender
    EXPECT_TRUE(received(eve).empty());  // no canSubscribe
}

TEST_F(DataRelayTest, ToNarrowsDeliveryAndIsRemoved) {
    const auto ada = add({"ada", true, true});
    const auto bob = add({"bob", true, true});
    const auto cat = add({"cat", true, true});
    send(ada, R"({"type":"chat","text":"psst","to":["cat"]})");
    EXPECT_TRUE(received(bob).empty());
    ASSERT_EQ(received(cat).size(), 1u);
    EXPECT_FALSE(nlohmann::json::parse(received(cat)[0]).contains("to"));
}

TEST_F(DataRelayTest, BinaryCarriesTheIdentityAsAPrefix) {
    const auto ada = add({"ada", true, true});
    const auto bob = add({"bob", true, true});
    send(ada, std::string("\x01\x02\x03", 3), true);
    ASSERT_EQ(received(bob).size(), 1u);
    EXPECT_EQ(received(bob)[0], std::string("\x03"
                                            "ada\x01\x02\x03",
                                            7));
    EXPECT_TRUE(links_[bob]->client_end.binary[0]);
}

TEST_F(DataRelayTest, RefusalsAreToldToTheSenderOnceASecond) {
    const auto mute = add({"mute", false, true});
    const auto bob = add({"bob", true, true});
    send(mute, R"({"type":"chat","text":"hi"})");
    send(mute, R"({"type":"chat","text":"again"})");
    EXPECT_TRUE(received(bob).empty());
    ASSERT_EQ(received(mute).size(), 1u);  // the second refusal is within the second
    const auto told = nlohmann::json::parse(received(mute)[0]);
    EXPECT_EQ(told["code"], "permission_denied");
    EXPECT_FALSE(told.contains("from"));
}

TEST_F(DataRelayTest, MalformedTextIsDropped) {
    const auto ada = add({"ada", true, true});
    const auto bob = add({"bob", true, true});
    send(ada, "not json");
    send(ada, R"(["an","array"])");
    send(ada, R"({"to":"bob"})");
    EXPECT_TRUE(received(bob).empty());
    EXPECT_EQ(nlohmann::json::parse(received(ada).at(0))["code"], "malformed_message");
}

TEST_F(DataRelayTest, AFloodIsCutToTheBudget) {
    const auto ada = add({"ada", true, true});
    const auto bob = add({"bob", true, true});
    const auto dropped_before =
        transport::media_tally()
            .data_dropped[static_cast<std::size_t>(transport::DataDrop::rate_limited)];
    for (int i = 0; i < 300; ++i) send(ada, R"({"type":"chat","text":"x"})");
    const auto delivered = received(bob).size();
    EXPECT_GE(delivered, 100u);  // the burst
    EXPECT_LT(delivered, 150u);  // and what refilled while the test ran
    EXPECT_GT(transport::media_tally()
                  .data_dropped[static_cast<std::size_t>(transport::DataDrop::rate_limited)],
              dropped_before);
}

TEST_F(DataRelayTest, AReliableReceiverThatStopsReadingIsClosedNotQueued) {
    transport::SctpOptions small;
    small.send_buffer = 16 * 1024;
    const auto ada = add({"ada", true, true});
    const auto bob = add({"bob", true, true}, small);
    links_[bob]->client_end.deliver = false;  // bob acknowledges nothing from now on
    const std::string big = R"({"type":"chat","text":")" + std::string(3000, 'y') + R"("})";
    for (int i = 0; i < 20 && relay_.take_closed().empty(); ++i) {
        ASSERT_EQ(links_[ada]->client->send(0, false, bytes(big)), transport::SendResult::sent);
        links_[ada]->pump();
        const auto everyone = room();
        relay_.relay(everyone[ada], links_[ada]->server->channels().at(0), false, bytes(big),
                     everyone);
        if (links_[bob]->server->state() == transport::SctpState::closed) break;
    }
    EXPECT_EQ(links_[bob]->server->state(), transport::SctpState::closed);
}

}  // namespace
}  // namespace rollcall::sfu
