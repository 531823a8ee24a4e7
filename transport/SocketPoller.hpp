#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

using GMainContext = struct _GMainContext;
using GSource = struct _GSource;

namespace rollcall::transport {

// Every media socket of one GMainContext (a worker's) on one epoll set, which GLib sees as a
// single source. GLib's own poll walks every source's descriptors on every loop iteration:
// with a socket per peer that is O(peers) per wakeup, paid again for every packet a
// publisher sends. Here a wakeup costs O(sockets ready). Level-triggered, like GLib's poll:
// a socket with data left is reported again on the next iteration.
//
// One poller per context, shared by the agents on it (for_context); it lives while any agent
// holds it. Only touched from the context's thread.
class SocketPoller {
  public:
    using Ready = std::function<void()>;

    static std::shared_ptr<SocketPoller> for_context(GMainContext* context);
    ~SocketPoller();
    SocketPoller(const SocketPoller&) = delete;
    SocketPoller& operator=(const SocketPoller&) = delete;

    // Calls `ready` on the context whenever `fd` is readable; a token for remove(), or 0 if
    // epoll refused the descriptor.
    std::uint64_t add(int fd, Ready ready);
    // After this, `ready` is never called again, even for readiness already collected in the
    // iteration under way.
    void remove(std::uint64_t token);
    std::size_t size() const noexcept { return watches_.size(); }

  private:
    explicit SocketPoller(GMainContext* context);
    static int dispatch(GSource* source, int (*)(void*), void*);
    void dispatch_ready();

    struct Watch {
        int fd;
        Ready ready;
    };
    GMainContext* context_;
    int epoll_fd_ = -1;
    GSource* source_ = nullptr;
    std::uint64_t next_token_ = 1;
    std::unordered_map<std::uint64_t, Watch> watches_;
};

}  // namespace rollcall::transport
