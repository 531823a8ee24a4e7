#include "sfu/Worker.hpp"

#include <glib.h>

#include <utility>

#include "transport/MediaTally.hpp"

namespace rollcall::sfu {

namespace {

using SteadyClock = std::chrono::steady_clock;

// The loop's wait for events, timed: what it is not waiting is what it is busy.
gint timed_poll(GPollFD* fds, guint count, gint timeout) {
    const auto start = SteadyClock::now();
    const gint result = g_poll(fds, count, timeout);
    transport::media_tally().loop_idle_ns += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - start).count());
    return result;
}

}  // namespace

Worker::Worker(std::string name, std::size_t max_queued_commands)
    : name_(std::move(name)), max_queued_commands_(max_queued_commands) {
    context_ = g_main_context_new();
    loop_ = g_main_loop_new(context_, FALSE);
}

Worker::~Worker() {
    stop();
    g_main_loop_unref(loop_);
    g_main_context_unref(context_);
}

void Worker::start() {
    {
        std::lock_guard lock(mutex_);
        if (accepting_ || thread_.joinable()) return;
        accepting_ = true;
    }
    thread_ = std::thread([this] { run(); });
}

void Worker::run() {
    thread_id_ = std::this_thread::get_id();
    g_main_context_push_thread_default(context_);
    g_main_context_set_poll_func(context_, &timed_poll);
    started_ = SteadyClock::now();
    probe_due_ = started_ + kLagProbeInterval;
    const auto interval = static_cast<guint>(kLagProbeInterval.count());
    GSource* probe = g_timeout_source_new(interval);
    g_source_set_callback(probe, &Worker::probe_lag, this, nullptr);
    g_source_attach(probe, context_);
    g_main_loop_run(loop_);
    g_source_destroy(probe);
    g_source_unref(probe);
    // Drain what was queued before stop so posted cleanups still run on this thread.
    dispatch_commands(this);
    g_main_context_pop_thread_default(context_);
}

void Worker::stop() {
    {
        std::lock_guard lock(mutex_);
        if (!thread_.joinable()) return;
        accepting_ = false;
    }
    // Quit from inside the loop so every command posted before stop() has run first.
    GSource* source = g_idle_source_new();
    g_source_set_callback(
        source,
        [](gpointer loop) -> gboolean {
            g_main_loop_quit(static_cast<GMainLoop*>(loop));
            return G_SOURCE_REMOVE;
        },
        loop_, nullptr);
    g_source_set_priority(source, G_PRIORITY_LOW);
    g_source_attach(source, context_);
    g_source_unref(source);
    thread_.join();
}

bool Worker::post(Command command) {
    bool need_wakeup = false;
    {
        std::lock_guard lock(mutex_);
        if (!accepting_ || queue_.size() >= max_queued_commands_) return false;
        queue_.push_back(std::move(command));
        need_wakeup = !wakeup_pending_;
        wakeup_pending_ = true;
    }
    if (need_wakeup) {
        // One idle source per batch of commands, not per command.
        GSource* source = g_idle_source_new();
        g_source_set_callback(source, &Worker::dispatch_commands, this, nullptr);
        g_source_set_priority(source, G_PRIORITY_DEFAULT);
        g_source_attach(source, context_);
        g_source_unref(source);
    }
    return true;
}

int Worker::probe_lag(void* self) {
    auto* worker = static_cast<Worker*>(self);
    const auto now = SteadyClock::now();
    const double late = std::chrono::duration<double>(now - worker->probe_due_).count();
    transport::MediaTally& tally = transport::media_tally();
    tally.loop_lag.observe(transport::MediaTally::kLagBounds, late > 0 ? late : 0);
    worker->probe_due_ = now + kLagProbeInterval;
    return G_SOURCE_CONTINUE;
}

double Worker::busy_seconds() const noexcept {
    const double wall = std::chrono::duration<double>(SteadyClock::now() - started_).count();
    const double idle = static_cast<double>(transport::media_tally().loop_idle_ns) / 1e9;
    return wall > idle ? wall - idle : 0;
}

int Worker::dispatch_commands(void* self) {
    auto* worker = static_cast<Worker*>(self);
    std::deque<Command> batch;
    {
        std::lock_guard lock(worker->mutex_);
        batch.swap(worker->queue_);
        worker->wakeup_pending_ = false;
    }
    for (auto& command : batch) command();
    return G_SOURCE_REMOVE;
}

}  // namespace rollcall::sfu
