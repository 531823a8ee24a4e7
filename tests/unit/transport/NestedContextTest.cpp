#include <glib.h>
#include <gtest/gtest.h>

#include "transport/NestedContext.hpp"

namespace rollcall::transport {
namespace {

class NestedContextTest : public ::testing::Test {
  protected:
    NestedContextTest() : outer_(g_main_context_new()) {
        g_main_context_acquire(outer_);
        nested_ = NestedContext::for_context(outer_);
    }
    ~NestedContextTest() override {
        nested_.reset();
        g_main_context_release(outer_);
        g_main_context_unref(outer_);
    }
    // Runs what is ready on the outer context now, without waiting.
    void settle() {
        for (int i = 0; i < 4; ++i) g_main_context_iteration(outer_, FALSE);
    }
    // Iterates the outer context (blocking) until `done`, at most `limit` times.
    template <typename Done>
    bool iterate_until(Done done, int limit = 200) {
        for (int i = 0; i < limit && !done(); ++i) g_main_context_iteration(outer_, TRUE);
        return done();
    }
    static guint attach_timeout(GMainContext* context, guint ms, GSourceFunc f, void* data) {
        GSource* source = g_timeout_source_new(ms);
        g_source_set_callback(source, f, data, nullptr);
        const guint id = g_source_attach(source, context);
        g_source_unref(source);
        return id;
    }
    GMainContext* outer_;
    std::shared_ptr<NestedContext> nested_;
};

TEST_F(NestedContextTest, OnePerOuterContextWhileHeld) {
    EXPECT_EQ(NestedContext::for_context(outer_), nested_);
    EXPECT_NE(nested_->context(), outer_);
}

TEST_F(NestedContextTest, ANestedTimerAttachedWhileTheOuterLoopSleepsFires) {
    settle();  // the loop has learnt the nested context's descriptors and sleeps on them
    int fired = 0;
    attach_timeout(
        nested_->context(), 5,
        [](void* data) {
            ++*static_cast<int*>(data);
            return G_SOURCE_REMOVE;
        },
        &fired);
    EXPECT_TRUE(iterate_until([&] { return fired == 1; }));
}

TEST_F(NestedContextTest, ARepeatingNestedTimerKeepsFiring) {
    int fired = 0;
    attach_timeout(
        nested_->context(), 2,
        [](void* data) {
            return ++*static_cast<int*>(data) < 5 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
        },
        &fired);
    EXPECT_TRUE(iterate_until([&] { return fired == 5; }));
}

TEST_F(NestedContextTest, OuterWakeupsDoNotWalkTheNestedContext) {
    // A nested timer far off, and an outer timer waking the loop 40 times.
    attach_timeout(
        nested_->context(), 60000, [](void*) { return G_SOURCE_REMOVE; }, nullptr);
    settle();
    const std::uint64_t before = nested_->passes();
    int ticks = 0;
    attach_timeout(
        outer_, 1,
        [](void* data) {
            return ++*static_cast<int*>(data) < 40 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
        },
        &ticks);
    ASSERT_TRUE(iterate_until([&] { return ticks == 40; }));
    EXPECT_LE(nested_->passes() - before, 2u);
}

}  // namespace
}  // namespace rollcall::transport
