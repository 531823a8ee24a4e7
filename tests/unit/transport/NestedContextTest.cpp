#include <glib.h>
#include <gtest/gtest.h>

#include "transport/NestedContext.hpp"

namespace rollcall::transport {
namespace {

class NestedContextTest : public ::testing::Test {
  protected:
    NestedContextTest() : outer_(g_main_context_new()) {
        g_main_context_acquire(outer_);
        nested_ = NestedContext::create(outer_);
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

TEST_F(NestedContextTest, EachHasItsOwnContextAndTheyShareTheOuterLoopsScheduler) {
    auto other = NestedContext::create(outer_);
    ASSERT_TRUE(other);
    EXPECT_NE(other->context(), nested_->context());
    EXPECT_NE(nested_->context(), outer_);
    EXPECT_EQ(NestedScheduler::for_context(outer_)->size(), 2u);
    other.reset();
    EXPECT_EQ(NestedScheduler::for_context(outer_)->size(), 1u);
}

TEST_F(NestedContextTest, OneReleasedByItsOwnTimerOutlivesThePass) {
    // The agent's owner goes inside one of the agent's own callbacks (a state change that
    // closes the transport): the pass under way keeps the context alive until it returns.
    struct Owner {
        std::shared_ptr<NestedContext> nested;
        bool fired = false;
    } owner{NestedContext::create(outer_)};
    attach_timeout(
        owner.nested->context(), 1,
        [](void* data) {
            auto* o = static_cast<Owner*>(data);
            o->fired = true;
            o->nested.reset();
            return G_SOURCE_REMOVE;
        },
        &owner);
    EXPECT_TRUE(iterate_until([&] { return owner.fired; }));
    settle();
    EXPECT_EQ(NestedScheduler::for_context(outer_)->size(), 1u);
    // And the last one on the loop: the scheduler outlives the run that released it.
    owner.fired = false;
    owner.nested = NestedContext::create(outer_);
    nested_.reset();
    attach_timeout(
        owner.nested->context(), 1,
        [](void* data) {
            auto* o = static_cast<Owner*>(data);
            o->fired = true;
            o->nested.reset();
            return G_SOURCE_REMOVE;
        },
        &owner);
    EXPECT_TRUE(iterate_until([&] { return owner.fired; }));
    settle();
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
