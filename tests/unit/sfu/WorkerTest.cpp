#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>

#include "sfu/Worker.hpp"

namespace rollcall::sfu {
namespace {

TEST(Worker, RunsPostedCommandsInOrderOnItsOwnThread) {
    Worker worker("w0");
    worker.start();
    std::vector<int> order;
    std::promise<std::thread::id> ran_on;
    for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(worker.post([&order, i] { order.push_back(i); }));
    }
    worker.post([&] { ran_on.set_value(std::this_thread::get_id()); });
    auto future = ran_on.get_future();
    ASSERT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    EXPECT_NE(future.get(), std::this_thread::get_id());
    worker.stop();
    ASSERT_EQ(order.size(), 100u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(Worker, StopRunsWhatWasQueuedThenRefusesMore) {
    Worker worker("w1");
    worker.start();
    std::atomic<int> ran{0};
    for (int i = 0; i < 50; ++i) worker.post([&] { ++ran; });
    worker.stop();
    EXPECT_EQ(ran.load(), 50);
    EXPECT_FALSE(worker.post([&] { ++ran; }));
}

TEST(Worker, QueueIsBounded) {
    Worker worker("w2", 4);
    // Not started: nothing drains, and nothing is accepted either.
    EXPECT_FALSE(worker.post([] {}));
    worker.start();
    std::promise<void> gate;
    auto opened = gate.get_future().share();
    worker.post([opened] { opened.wait(); });  // hold the worker busy
    int accepted = 0;
    for (int i = 0; i < 10; ++i) accepted += worker.post([] {}) ? 1 : 0;
    EXPECT_LE(accepted, 4);
    gate.set_value();
    worker.stop();
}

TEST(Worker, KnowsItsThread) {
    Worker worker("w3");
    worker.start();
    std::promise<bool> inside;
    worker.post([&] { inside.set_value(worker.on_worker_thread()); });
    EXPECT_TRUE(inside.get_future().get());
    EXPECT_FALSE(worker.on_worker_thread());
    worker.stop();
}

}  // namespace
}  // namespace rollcall::sfu
