#include "transport/NestedContext.hpp"

#include <glib.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "transport/PerContext.hpp"

namespace rollcall::transport {

namespace {

struct SchedulerSource {
    GSource source;
    NestedScheduler* scheduler;
};

}  // namespace

std::shared_ptr<NestedContext> NestedContext::create(GMainContext* outer) {
    auto scheduler = NestedScheduler::for_context(outer);
    if (!scheduler) return nullptr;
    std::shared_ptr<NestedContext> made(new NestedContext(scheduler));
    made->id_ = scheduler->add(made);
    return made;
}

NestedContext::NestedContext(std::shared_ptr<NestedScheduler> scheduler)
    : scheduler_(std::move(scheduler)),
      inner_(g_main_context_new_with_flags(G_MAIN_CONTEXT_FLAGS_OWNERLESS_POLLING)) {}

NestedContext::~NestedContext() {
    for (const auto& [fd, events] : watched_) scheduler_->unwatch(fd);
    scheduler_->remove(id_);
    g_main_context_unref(inner_);  // libnice's agent holds a reference of its own
}

void NestedContext::pass() {
    if (!g_main_context_acquire(inner_)) {
        scheduler_->schedule(id_, g_get_monotonic_time() + 1000);  // held elsewhere: later
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
    auto* fds = reinterpret_cast<GPollFD*>(poll_fds_.data());
    // Its descriptors on the scheduler's set: what is no longer asked for goes, new ones come.
    std::erase_if(watched_, [&](const auto& w) {
        const bool wanted = std::any_of(fds, fds + count, [&](const GPollFD& f) {
            return f.fd == w.first && f.events == w.second;
        });
        if (!wanted) scheduler_->unwatch(w.first);
        return !wanted;
    });
    for (gint i = 0; i < count; ++i) {
        const bool known = std::any_of(watched_.begin(), watched_.end(),
                                       [&](const auto& w) { return w.first == fds[i].fd; });
        if (!known && scheduler_->watch(id_, fds[i].fd, fds[i].events))
            watched_.emplace_back(fds[i].fd, fds[i].events);
    }
    // Which are ready now: a poll that does not wait (usually one descriptor, the wakeup).
    std::vector<pollfd> polled(static_cast<std::size_t>(count));
    for (gint i = 0; i < count; ++i)
        polled[static_cast<std::size_t>(i)] = {fds[i].fd, static_cast<short>(fds[i].events), 0};
    if (count > 0) ::poll(polled.data(), polled.size(), 0);
    for (gint i = 0; i < count; ++i)
        fds[i].revents = static_cast<gushort>(polled[static_cast<std::size_t>(i)].revents);
    const bool ready = g_main_context_check(inner_, priority, fds, count);
    if (ready) g_main_context_dispatch(inner_);
    g_main_context_release(inner_);
    // What the dispatch ran may have re-armed without a wakeup (a repeating timeout): pass
    // again on the next iteration to learn when it is due.
    if (ready || timeout == 0)
        scheduler_->schedule(id_, 0);
    else
        scheduler_->schedule(id_,
                             timeout < 0 ? -1 : g_get_monotonic_time() + gint64{timeout} * 1000);
}

std::shared_ptr<NestedScheduler> NestedScheduler::for_context(GMainContext* outer) {
    return shared_per_context<NestedScheduler>(outer, [](GMainContext* c) {
        std::shared_ptr<NestedScheduler> made(new NestedScheduler(c));
        return made->epoll_fd_ < 0 ? nullptr : made;
    });
}

NestedScheduler::NestedScheduler(GMainContext* outer) : outer_(outer) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return;
    static GSourceFuncs funcs = {nullptr, nullptr, &NestedScheduler::dispatch,
                                 nullptr, nullptr, nullptr};
    source_ = g_source_new(&funcs, sizeof(SchedulerSource));
    reinterpret_cast<SchedulerSource*>(source_)->scheduler = this;
    g_source_set_name(source_, "rollcall nested contexts");
    g_source_add_unix_fd(source_, epoll_fd_, G_IO_IN);
    g_source_attach(source_, outer_);
}

NestedScheduler::~NestedScheduler() {
    if (source_) {
        g_source_destroy(source_);
        g_source_unref(source_);
    }
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

std::uint64_t NestedScheduler::add(const std::shared_ptr<NestedContext>& nested) {
    const std::uint64_t id = next_id_++;
    nested_.emplace(id, Entry{nested, queue_.end()});
    schedule(id, 0);  // a first pass learns its descriptors
    return id;
}

void NestedScheduler::remove(std::uint64_t id) {
    auto it = nested_.find(id);
    if (it == nested_.end()) return;
    if (it->second.due != queue_.end()) queue_.erase(it->second.due);
    nested_.erase(it);
    rearm();
}

void NestedScheduler::schedule(std::uint64_t id, std::int64_t due_us) {
    auto it = nested_.find(id);
    if (it == nested_.end()) return;
    if (it->second.due != queue_.end()) queue_.erase(it->second.due);
    it->second.due = due_us < 0 ? queue_.end() : queue_.emplace(due_us, id);
    rearm();
}

bool NestedScheduler::watch(std::uint64_t id, int fd, unsigned short events) {
    epoll_event event{};
    event.events = ((events & G_IO_IN) ? EPOLLIN : 0u) | ((events & G_IO_OUT) ? EPOLLOUT : 0u) |
                   ((events & G_IO_PRI) ? EPOLLPRI : 0u);
    event.data.u64 = id;
    return ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) == 0;
}

void NestedScheduler::unwatch(int fd) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

void NestedScheduler::rearm() {
    g_source_set_ready_time(source_,
                            queue_.empty() ? -1 : std::max<std::int64_t>(queue_.begin()->first, 0));
}

int NestedScheduler::dispatch(GSource* source, int (*)(void*), void*) {
    // Alive until the run is over, though the last nested context may go inside it.
    const auto self = reinterpret_cast<SchedulerSource*>(source)->scheduler->shared_from_this();
    self->run();
    return G_SOURCE_CONTINUE;
}

void NestedScheduler::run() {
    // Who is due: woken (a descriptor ready) or at its time. Collected first, then passed,
    // each kept alive through its pass; one gone meanwhile is skipped.
    std::vector<std::uint64_t> due;
    std::array<epoll_event, 64> events{};
    const int ready = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 0);
    for (int i = 0; i < ready; ++i) due.push_back(events[static_cast<std::size_t>(i)].data.u64);
    const std::int64_t now = g_get_monotonic_time();
    for (auto it = queue_.begin(); it != queue_.end() && it->first <= now; ++it)
        due.push_back(it->second);
    std::sort(due.begin(), due.end());
    due.erase(std::unique(due.begin(), due.end()), due.end());
    for (const std::uint64_t id : due) {
        auto it = nested_.find(id);
        if (it == nested_.end()) continue;
        if (std::shared_ptr<NestedContext> nested = it->second.nested.lock()) nested->pass();
    }
    rearm();
}

}  // namespace rollcall::transport
