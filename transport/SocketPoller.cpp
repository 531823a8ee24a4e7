#include "transport/SocketPoller.hpp"

#include <glib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <map>
#include <mutex>

namespace rollcall::transport {

namespace {

struct PollerSource {
    GSource source;
    SocketPoller* poller;
};

std::mutex pollers_mutex;
std::map<GMainContext*, std::weak_ptr<SocketPoller>>& pollers() {
    static std::map<GMainContext*, std::weak_ptr<SocketPoller>> by_context;
    return by_context;
}

}  // namespace

std::shared_ptr<SocketPoller> SocketPoller::for_context(GMainContext* context) {
    std::lock_guard lock(pollers_mutex);
    auto& entry = pollers()[context];
    if (auto existing = entry.lock()) return existing;
    std::shared_ptr<SocketPoller> made(new SocketPoller(context));
    if (made->epoll_fd_ < 0) return nullptr;
    entry = made;
    return made;
}

SocketPoller::SocketPoller(GMainContext* context) : context_(context) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return;
    static GSourceFuncs funcs = {nullptr, nullptr, &SocketPoller::dispatch,
                                 nullptr, nullptr, nullptr};
    source_ = g_source_new(&funcs, sizeof(PollerSource));
    reinterpret_cast<PollerSource*>(source_)->poller = this;
    g_source_set_name(source_, "rollcall media sockets");
    g_source_add_unix_fd(source_, epoll_fd_, G_IO_IN);
    g_source_attach(source_, context_);
}

SocketPoller::~SocketPoller() {
    {
        std::lock_guard lock(pollers_mutex);
        auto it = pollers().find(context_);
        if (it != pollers().end() && it->second.expired()) pollers().erase(it);
    }
    if (source_) {
        g_source_destroy(source_);
        g_source_unref(source_);
    }
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

std::uint64_t SocketPoller::add(int fd, Ready ready) {
    const std::uint64_t token = next_token_++;
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = token;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) return 0;
    watches_.emplace(token, Watch{fd, std::move(ready)});
    return token;
}

void SocketPoller::remove(std::uint64_t token) {
    auto it = watches_.find(token);
    if (it == watches_.end()) return;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
    watches_.erase(it);
}

int SocketPoller::dispatch(GSource* source, int (*)(void*), void*) {
    reinterpret_cast<PollerSource*>(source)->poller->dispatch_ready();
    return G_SOURCE_CONTINUE;
}

void SocketPoller::dispatch_ready() {
    std::array<epoll_event, 64> events{};
    const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 0);
    for (int i = 0; i < n; ++i) {
        // A callback may remove other watches (or its own): look each one up as it comes.
        auto it = watches_.find(events[static_cast<std::size_t>(i)].data.u64);
        if (it == watches_.end()) continue;
        Ready ready = it->second.ready;  // the watch may go while it runs
        ready();
    }
}

}  // namespace rollcall::transport
