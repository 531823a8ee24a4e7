#pragma once

#include <cstdint>
#include <memory>
#include <vector>

using GMainContext = struct _GMainContext;
using GSource = struct _GSource;

namespace rollcall::transport {

// A GMainContext of its own nested in a worker's, for sources that are many and rarely due:
// libnice's timers (checks, keepalives, consent), two or three per agent. GLib walks every
// source of a context on each loop iteration, and a worker iterates for every packet a
// publisher sends; the nested context is walked only when one of its sources is due or one
// was added (it is ownerless, so an attach signals its wakeup descriptor, which the worker's
// loop polls). A dispatch pass is followed by another on the next iteration, which learns
// when the sources re-armed during the pass are due.
//
// One per worker context (for_context), shared by the agents on it; only touched from that
// context's thread.
class NestedContext {
  public:
    static std::shared_ptr<NestedContext> for_context(GMainContext* outer);
    ~NestedContext();
    NestedContext(const NestedContext&) = delete;
    NestedContext& operator=(const NestedContext&) = delete;

    GMainContext* context() const noexcept { return inner_; }
    // Passes over the nested context so far (what it costs: each walks its sources twice).
    std::uint64_t passes() const noexcept { return passes_; }

  private:
    explicit NestedContext(GMainContext* outer);
    static int dispatch(GSource* source, int (*)(void*), void*);
    void pass();
    // The worker's loop polls exactly the descriptors the nested context asks for.
    void watch_descriptors(int count);

    struct Watched {
        int fd;
        unsigned short events;
        void* tag;
    };
    GMainContext* outer_;
    GMainContext* inner_ = nullptr;
    GSource* source_ = nullptr;
    std::vector<Watched> watched_;
    std::vector<unsigned char> poll_fds_;  // GPollFD[], sized by the last query
    std::uint64_t passes_ = 0;
};

}  // namespace rollcall::transport
