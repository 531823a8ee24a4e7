#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

using GMainContext = struct _GMainContext;
using GSource = struct _GSource;

namespace rollcall::transport {

class NestedScheduler;

// A GMainContext of its own for one user (a libnice agent: its checks, keepalives and consent
// timers), run from a worker's loop. GLib walks every source of a context on each iteration,
// and a worker iterates for every packet a publisher sends: with the agents' timers on the
// worker's context that walk was O(agents) per packet. Here each agent's context is walked
// only when one of its own sources is due, or one was added (the context is ownerless, so an
// attach signals its wakeup descriptor): O(its sources) per event. After a pass that ran
// something, another follows on the next iteration, to learn when what re-armed is due.
//
// Only touched from the worker's thread. Shared: a pass under way keeps it alive when its
// owner goes inside one of its callbacks.
class NestedContext : public std::enable_shared_from_this<NestedContext> {
  public:
    static std::shared_ptr<NestedContext> create(GMainContext* outer);
    ~NestedContext();
    NestedContext(const NestedContext&) = delete;
    NestedContext& operator=(const NestedContext&) = delete;

    GMainContext* context() const noexcept { return inner_; }
    // Passes over this context so far (each walks its sources twice).
    std::uint64_t passes() const noexcept { return passes_; }

  private:
    friend class NestedScheduler;
    explicit NestedContext(std::shared_ptr<NestedScheduler> scheduler);
    void pass();

    std::shared_ptr<NestedScheduler> scheduler_;
    std::uint64_t id_ = 0;
    GMainContext* inner_;
    std::vector<unsigned char> poll_fds_;                  // GPollFD[], sized by the last query
    std::vector<std::pair<int, unsigned short>> watched_;  // on the scheduler's epoll set
    std::uint64_t passes_ = 0;
};

// Every NestedContext of one worker context: their descriptors on one epoll set and their
// due times in one queue, which GLib sees as a single source. One per outer context
// (for_context), alive while any nested context is.
class NestedScheduler : public std::enable_shared_from_this<NestedScheduler> {
  public:
    static std::shared_ptr<NestedScheduler> for_context(GMainContext* outer);
    ~NestedScheduler();
    NestedScheduler(const NestedScheduler&) = delete;
    NestedScheduler& operator=(const NestedScheduler&) = delete;

    std::size_t size() const noexcept { return nested_.size(); }

  private:
    friend class NestedContext;
    explicit NestedScheduler(GMainContext* outer);
    static int dispatch(GSource* source, int (*)(void*), void*);
    void run();
    std::uint64_t add(const std::shared_ptr<NestedContext>& nested);
    void remove(std::uint64_t id);
    // Next pass of `id` at `due_us` (g_get_monotonic_time; -1: only when woken).
    void schedule(std::uint64_t id, std::int64_t due_us);
    bool watch(std::uint64_t id, int fd, unsigned short events);
    void unwatch(int fd);
    void rearm();

    struct Entry {
        std::weak_ptr<NestedContext> nested;
        std::multimap<std::int64_t, std::uint64_t>::iterator due;
    };
    GMainContext* outer_;
    int epoll_fd_ = -1;
    GSource* source_ = nullptr;
    std::uint64_t next_id_ = 1;
    std::unordered_map<std::uint64_t, Entry> nested_;
    std::multimap<std::int64_t, std::uint64_t> queue_;  // due time → nested context
};

}  // namespace rollcall::transport
