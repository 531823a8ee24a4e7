#include <glib.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>

#include "transport/SocketPoller.hpp"

namespace rollcall::transport {
namespace {

// A datagram socket pair: writing to [1] makes [0] readable.
struct Pair {
    Pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, fds.data()), 0); }
    ~Pair() {
        ::close(fds[0]);
        ::close(fds[1]);
    }
    void send() const { ASSERT_EQ(::write(fds[1], "x", 1), 1); }
    void drain() const {
        char byte;
        while (::read(fds[0], &byte, 1) == 1) {
        }
    }
    std::array<int, 2> fds{};
};

class SocketPollerTest : public ::testing::Test {
  protected:
    SocketPollerTest() : context_(g_main_context_new()) {}
    ~SocketPollerTest() override { g_main_context_unref(context_); }
    void iterate() {
        for (int i = 0; i < 8; ++i) g_main_context_iteration(context_, FALSE);
    }
    GMainContext* context_;
};

TEST_F(SocketPollerTest, OnePollerPerContextWhileHeld) {
    auto a = SocketPoller::for_context(context_);
    auto b = SocketPoller::for_context(context_);
    EXPECT_EQ(a, b);
    GMainContext* other = g_main_context_new();
    EXPECT_NE(SocketPoller::for_context(other), a);
    g_main_context_unref(other);
}

TEST_F(SocketPollerTest, CallsOnlyTheReadySocketAndAgainWhileDataIsLeft) {
    auto poller = SocketPoller::for_context(context_);
    Pair first, second;
    int first_calls = 0, second_calls = 0;
    ASSERT_NE(poller->add(first.fds[0], [&] { ++first_calls; }), 0u);
    ASSERT_NE(poller->add(second.fds[0], [&] { ++second_calls; }), 0u);
    iterate();
    EXPECT_EQ(first_calls + second_calls, 0);
    second.send();
    iterate();
    EXPECT_EQ(first_calls, 0);
    EXPECT_GE(second_calls, 2);  // level-triggered: not read, so reported on every turn
    second.drain();
    const int after_drain = second_calls;
    iterate();
    EXPECT_EQ(second_calls, after_drain);
}

TEST_F(SocketPollerTest, AWatchRemovedByAnotherCallbackInTheSameBatchIsNotCalled) {
    auto poller = SocketPoller::for_context(context_);
    Pair first, second;
    std::uint64_t first_token = 0, second_token = 0;
    int calls = 0;
    // Whichever runs first removes both; the other, already reported ready, must not run.
    const auto remove_both = [&] {
        ++calls;
        poller->remove(first_token);
        poller->remove(second_token);
    };
    first_token = poller->add(first.fds[0], remove_both);
    second_token = poller->add(second.fds[0], remove_both);
    first.send();
    second.send();
    iterate();
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(poller->size(), 0u);
}

TEST_F(SocketPollerTest, RefusesADescriptorEpollCannotWatch) {
    auto poller = SocketPoller::for_context(context_);
    EXPECT_EQ(poller->add(-1, [] {}), 0u);
    EXPECT_EQ(poller->size(), 0u);
}

}  // namespace
}  // namespace rollcall::transport
