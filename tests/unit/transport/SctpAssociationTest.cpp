#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include "transport/SctpAssociation.hpp"
#include "transport/SctpLink.hpp"

namespace rollcall::transport {
namespace {

using test::bytes;
using test::End;

class SctpPair : public ::testing::Test {
  protected:
    void SetUp() override {
        context_ = g_main_context_new();
        g_main_context_push_thread_default(context_);
        a_.outbox = &to_b_;
        b_.outbox = &to_a_;
        client_ = std::make_unique<SctpAssociation>(context_, a_, options_, true);
        server_ = std::make_unique<SctpAssociation>(context_, b_, options_, false);
    }
    void TearDown() override {
        client_.reset();
        server_.reset();
        while (g_main_context_iteration(context_, FALSE)) {
        }
        g_main_context_pop_thread_default(context_);
        g_main_context_unref(context_);
    }

    // Moves packets both ways and runs the context until `done` or 5 s.
    template <typename Done>
    bool pump(Done done) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (std::chrono::steady_clock::now() < deadline) {
            while (!to_a_.empty() || !to_b_.empty()) {
                if (!to_b_.empty()) {
                    auto packet = std::move(to_b_.front());
                    to_b_.pop_front();
                    server_->receive(packet);
                }
                if (!to_a_.empty()) {
                    auto packet = std::move(to_a_.front());
                    to_a_.pop_front();
                    client_->receive(packet);
                }
            }
            if (done()) return true;
            g_main_context_iteration(context_, FALSE);
            g_usleep(1000);
        }
        return done();
    }

    void connect() {
        client_->connect();
        server_->connect();
        ASSERT_TRUE(pump([&] {
            return client_->state() == SctpState::connected &&
                   server_->state() == SctpState::connected;
        }));
    }

    // The client (DTLS client: even streams) opens `label` on `stream`.
    void open(std::uint16_t stream, DataChannelOpen how) {
        ASSERT_TRUE(client_->open_channel(stream, how));
        ASSERT_TRUE(pump([&] { return !b_.opened.empty() && b_.opened.back().stream == stream; }));
    }

    SctpOptions options_;
    GMainContext* context_ = nullptr;
    std::deque<std::vector<std::uint8_t>> to_a_, to_b_;
    End a_, b_;
    std::unique_ptr<SctpAssociation> client_, server_;
};

TEST_F(SctpPair, ConnectsOpensAChannelAndCarriesMessagesBothWays) {
    connect();
    DataChannelOpen how;
    how.label = "chat";
    open(0, how);
    EXPECT_EQ(b_.opened[0].open.label, "chat");
    EXPECT_TRUE(b_.opened[0].open.reliable());

    EXPECT_EQ(client_->send(0, false, bytes("hello")), SendResult::sent);
    EXPECT_EQ(client_->send(0, true, bytes("\x01\x02")), SendResult::sent);
    EXPECT_EQ(client_->send(0, false, {}), SendResult::sent);
    ASSERT_TRUE(pump([&] { return b_.messages.size() == 3; }));
    EXPECT_EQ(b_.messages[0].second, "hello");
    EXPECT_FALSE(b_.binary[0]);
    EXPECT_TRUE(b_.binary[1]);
    EXPECT_EQ(b_.messages[2].second, "");  // an empty message is one byte on the wire

    ASSERT_TRUE(pump([&] { return client_->channels().at(0).open_acked; }));
    EXPECT_EQ(server_->send(0, false, bytes("back")), SendResult::sent);
    ASSERT_TRUE(pump([&] { return a_.messages.size() == 1; }));
    EXPECT_EQ(a_.messages[0].second, "back");
    EXPECT_EQ(server_->counters().messages_received, 3u);
}

TEST_F(SctpPair, RefusesMessagesBeyondTheLimitAndKeepsGoing) {
    options_.max_message_size = 1024;
    client_ = std::make_unique<SctpAssociation>(context_, a_, options_, true);
    server_ = std::make_unique<SctpAssociation>(context_, b_, options_, false);
    connect();
    DataChannelOpen how;
    how.label = "chat";
    open(0, how);
    const std::string big(4000, 'x');
    EXPECT_EQ(client_->send(0, false, bytes(big)), SendResult::sent);
    EXPECT_EQ(client_->send(0, false, bytes("small")), SendResult::sent);
    ASSERT_TRUE(pump([&] { return b_.messages.size() == 1; }));
    EXPECT_EQ(b_.messages[0].second, "small");
    ASSERT_EQ(b_.refused.size(), 1u);
    EXPECT_EQ(b_.refused[0], "too_big");
}

TEST_F(SctpPair, NeverSendsBeyondThePeersMaxMessageSize) {
    options_.remote_max_message_size = 100;  // the peer's a=max-message-size
    client_ = std::make_unique<SctpAssociation>(context_, a_, options_, true);
    connect();
    DataChannelOpen how;
    how.label = "chat";
    open(0, how);
    EXPECT_EQ(client_->send(0, false, bytes(std::string(101, 'x'))), SendResult::too_big);
    EXPECT_EQ(client_->send(0, false, bytes(std::string(100, 'x'))), SendResult::sent);
    ASSERT_TRUE(pump([&] { return b_.messages.size() == 1; }));
    EXPECT_EQ(b_.messages[0].second.size(), 100u);
}

TEST_F(SctpPair, RefusesChannelsBeyondTheLimitAndOpensOnlyOnItsOwnParity) {
    options_.max_channels = 2;
    server_ = std::make_unique<SctpAssociation>(context_, b_, options_, false);
    connect();
    DataChannelOpen how;
    how.label = "a";
    EXPECT_FALSE(client_->open_channel(1, how));  // the DTLS client opens on even streams
    open(0, how);
    open(2, how);
    ASSERT_TRUE(client_->open_channel(4, how));
    ASSERT_TRUE(pump([&] { return !b_.refused.empty(); }));
    EXPECT_EQ(b_.refused.back(), "too_many_channels");
    EXPECT_EQ(server_->channels().size(), 2u);
    EXPECT_EQ(server_->counters().channels_refused, 1u);
}

TEST_F(SctpPair, AMessageOnNoChannelIsRefused) {
    connect();
    DataChannelOpen how;
    how.label = "chat";
    open(0, how);
    // The server closes the channel; the client's later message on it has nowhere to go.
    server_->close_channel(0);
    ASSERT_TRUE(pump([&] { return !a_.closed.empty() && !b_.closed.empty(); }));
    EXPECT_EQ(client_->send(0, false, bytes("late")), SendResult::no_channel);
    EXPECT_TRUE(server_->channels().empty());
}

TEST_F(SctpPair, UnreliableChannelsCarryMessagesUnordered) {
    connect();
    DataChannelOpen how;
    how.type = DataChannelType::partial_reliable_rexmit_unordered;
    how.reliability_parameter = 0;
    how.label = "lossy";
    open(0, how);
    EXPECT_FALSE(b_.opened[0].open.reliable());
    EXPECT_FALSE(b_.opened[0].open.ordered());
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(client_->send(0, false, bytes(std::to_string(i))), SendResult::sent);
    ASSERT_TRUE(pump([&] { return b_.messages.size() == 10; }));
}

TEST_F(SctpPair, ASilentReceiverFillsTheBoundedSendBuffer) {
    options_.send_buffer = 64 * 1024;
    server_ = std::make_unique<SctpAssociation>(context_, b_, options_, false);
    connect();
    DataChannelOpen how;
    how.label = "chat";
    open(0, how);
    ASSERT_TRUE(pump([&] { return client_->channels().at(0).open_acked; }));
    a_.deliver = false;  // the client stops acknowledging anything
    const std::string chunk(1000, 'y');
    int sent = 0;
    SendResult result = SendResult::sent;
    for (; sent < 1000 && result == SendResult::sent; ++sent)
        result = server_->send(0, false, bytes(chunk));
    EXPECT_EQ(result, SendResult::would_block);
    EXPECT_LT(sent, 200);  // about 64 KB, not more
}

TEST_F(SctpPair, ClosingAbortsThePeer) {
    connect();
    client_->close();
    EXPECT_EQ(client_->state(), SctpState::closed);
    ASSERT_TRUE(pump([&] { return server_->state() == SctpState::failed; }));
    EXPECT_EQ(server_->send(0, false, bytes("x")), SendResult::closed);
}

TEST_F(SctpPair, GarbageDoesNotDisturbTheAssociation) {
    connect();
    DataChannelOpen how;
    how.label = "chat";
    open(0, how);
    std::vector<std::uint8_t> junk(300, 0xab);
    server_->receive(junk);
    junk.resize(12);
    server_->receive(junk);
    EXPECT_EQ(client_->send(0, false, bytes("still")), SendResult::sent);
    ASSERT_TRUE(pump([&] { return b_.messages.size() == 1; }));
    EXPECT_EQ(server_->state(), SctpState::connected);
}

}  // namespace
}  // namespace rollcall::transport
