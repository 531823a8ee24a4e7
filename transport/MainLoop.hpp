#pragma once

#include <glib.h>

#include <cassert>
#include <chrono>
#include <functional>

namespace rollcall::transport {

// Debug builds: the caller runs on the thread that owns `context` (its worker's loop holds
// it), so worker-only state is never touched from another thread.
inline void assert_owner([[maybe_unused]] GMainContext* context) {
    assert(context == nullptr || g_main_context_is_owner(context));
}

// Detaches and releases a source this code attached and still holds; nulls the handle.
inline void destroy_source(GSource*& source) {
    if (!source) return;
    g_source_destroy(source);
    g_source_unref(source);
    source = nullptr;
}

// A GLib timeout or idle callback on a context, owned: the handle's destruction or cancel()
// detaches it, and a callback that returns false releases it. Starting it again replaces
// the pending one. The callback may cancel or restart its own timer; it must not destroy
// the timer's owner (remove owners on a later turn, as everywhere on a worker).
class GlibTimer {
  public:
    using Callback = std::function<bool()>;  // true: run again after the same interval

    GlibTimer() = default;
    ~GlibTimer() { cancel(); }
    GlibTimer(const GlibTimer&) = delete;
    GlibTimer& operator=(const GlibTimer&) = delete;

    void start(GMainContext* context, std::chrono::milliseconds delay, Callback callback,
               int priority = G_PRIORITY_DEFAULT) {
        attach(context,
               g_timeout_source_new(static_cast<guint>(std::max<long long>(delay.count(), 0))),
               std::move(callback), priority);
    }
    // On the context's next idle turn.
    void start_idle(GMainContext* context, Callback callback,
                    int priority = G_PRIORITY_DEFAULT_IDLE) {
        attach(context, g_idle_source_new(), std::move(callback), priority);
    }
    void cancel() {
        destroy_source(source_);
        callback_ = nullptr;
    }
    bool active() const noexcept { return source_ != nullptr; }

  private:
    void attach(GMainContext* context, GSource* source, Callback callback, int priority) {
        cancel();
        callback_ = std::move(callback);
        source_ = source;
        g_source_set_priority(source_, priority);
        g_source_set_callback(source_, &GlibTimer::dispatch, this, nullptr);
        g_source_attach(source_, context);
    }
    static gboolean dispatch(gpointer data) {
        auto* self = static_cast<GlibTimer*>(data);
        GSource* running = self->source_;
        Callback callback = self->callback_;  // a restart inside replaces the member
        const bool again = callback();
        if (self->source_ != running) return G_SOURCE_REMOVE;  // cancelled or restarted inside
        if (again) return G_SOURCE_CONTINUE;
        g_source_unref(running);
        self->source_ = nullptr;
        self->callback_ = nullptr;
        return G_SOURCE_REMOVE;
    }

    GSource* source_ = nullptr;
    Callback callback_;
};

}  // namespace rollcall::transport
