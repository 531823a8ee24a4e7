#include "transport/NestedContext.hpp"

#include <glib.h>

#include <algorithm>

#include "transport/PerContext.hpp"

namespace rollcall::transport {

namespace {

struct NestedSource {
    GSource source;
    NestedContext* nested;
};

}  // namespace

std::shared_ptr<NestedContext> NestedContext::for_context(GMainContext* outer) {
    return shared_per_context<NestedContext>(outer, [](GMainContext* c) {
        return std::shared_ptr<NestedContext>(new NestedContext(c));
    });
}

NestedContext::NestedContext(GMainContext* outer)
    : outer_(outer), inner_(g_main_context_new_with_flags(G_MAIN_CONTEXT_FLAGS_OWNERLESS_POLLING)) {
    static GSourceFuncs funcs = {nullptr, nullptr, &NestedContext::dispatch,
                                 nullptr, nullptr, nullptr};
    source_ = g_source_new(&funcs, sizeof(NestedSource));
    reinterpret_cast<NestedSource*>(source_)->nested = this;
    g_source_set_name(source_, "rollcall nested context");
    g_source_attach(source_, outer_);
    g_source_set_ready_time(source_, 0);  // a first pass learns its descriptors
}

NestedContext::~NestedContext() {
    g_source_destroy(source_);
    g_source_unref(source_);
    g_main_context_unref(inner_);  // libnice's agents hold their own references
}

int NestedContext::dispatch(GSource* source, int (*)(void*), void*) {
    reinterpret_cast<NestedSource*>(source)->nested->pass();
    return G_SOURCE_CONTINUE;
}

void NestedContext::pass() {
    if (!g_main_context_acquire(inner_)) {
        g_source_set_ready_time(source_, g_get_monotonic_time() + 1000);  // held elsewhere
        return;
    }
    ++passes_;
    gint priority = 0;
    g_main_context_prepare(inner_, &priority);
    gint timeout = -1;
    gint count = 0;
    for (;;) {
        const auto capacity = static_cast<gint>(poll_fds_.size() / sizeof(GPollFD));
        count = g_main_context_query(inner_, priority, &timeout,
                                     reinterpret_cast<GPollFD*>(poll_fds_.data()), capacity);
        if (count <= capacity) break;
        poll_fds_.resize(static_cast<std::size_t>(count) * sizeof(GPollFD));
    }
    watch_descriptors(count);
    auto* fds = reinterpret_cast<GPollFD*>(poll_fds_.data());
    for (gint i = 0; i < count; ++i) {
        const auto it = std::find_if(watched_.begin(), watched_.end(),
                                     [&](const Watched& w) { return w.fd == fds[i].fd; });
        fds[i].revents = static_cast<gushort>(
            it == watched_.end() ? 0 : g_source_query_unix_fd(source_, it->tag) & fds[i].events);
    }
    const bool ready = g_main_context_check(inner_, priority, fds, count);
    if (ready) g_main_context_dispatch(inner_);
    g_main_context_release(inner_);
    // After a dispatch the sources it ran may have re-armed (a repeating timeout does so
    // without a wakeup): pass again next iteration to learn when they are due.
    if (ready || timeout == 0)
        g_source_set_ready_time(source_, 0);
    else if (timeout < 0)
        g_source_set_ready_time(source_, -1);
    else
        g_source_set_ready_time(source_, g_get_monotonic_time() + gint64{timeout} * 1000);
}

void NestedContext::watch_descriptors(int count) {
    const auto* fds = reinterpret_cast<const GPollFD*>(poll_fds_.data());
    // Drop what is no longer asked for (or asked for with other events), add what is new.
    std::erase_if(watched_, [&](const Watched& w) {
        const bool wanted = std::any_of(fds, fds + count, [&](const GPollFD& f) {
            return f.fd == w.fd && f.events == w.events;
        });
        if (!wanted) g_source_remove_unix_fd(source_, w.tag);
        return !wanted;
    });
    for (int i = 0; i < count; ++i) {
        const bool known = std::any_of(watched_.begin(), watched_.end(),
                                       [&](const Watched& w) { return w.fd == fds[i].fd; });
        if (!known)
            watched_.push_back({fds[i].fd, fds[i].events,
                                g_source_add_unix_fd(source_, fds[i].fd,
                                                     static_cast<GIOCondition>(fds[i].events))});
    }
}

}  // namespace rollcall::transport
