#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

using GMainContext = struct _GMainContext;
using GMainLoop = struct _GMainLoop;

namespace rollcall::sfu {

// One media thread running one GMainContext: its libnice agents, timers and sockets live
// here and are touched by no other thread. Other threads talk to it only by posting
// commands (docs/design.md, Threads); the command queue is bounded so a flood cannot grow it
// forever.
class Worker {
  public:
    using Command = std::function<void()>;

    Worker(std::string name, std::size_t max_queued_commands = 65536);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    void start();
    // Stops the loop after the commands already queued have run; joins the thread.
    void stop();

    // Thread-safe. Returns false (and drops the command) when the queue is full or stopped.
    bool post(Command command);

    // The worker's context, for creating agents and sources on it. Use only from the worker.
    GMainContext* context() const noexcept { return context_; }
    bool on_worker_thread() const noexcept { return std::this_thread::get_id() == thread_id_; }
    // Worker thread only: wall time since the loop started that it did not spend waiting
    // for events (the poll), in seconds. Lateness of a 250 ms timer goes to the thread's
    // MediaTally (loop_lag).
    double busy_seconds() const noexcept;
    static constexpr auto kLagProbeInterval = std::chrono::milliseconds(250);
    const std::string& name() const noexcept { return name_; }

  private:
    static int dispatch_commands(void* self);
    static int probe_lag(void* self);
    void run();

    std::string name_;
    std::size_t max_queued_commands_;
    GMainContext* context_ = nullptr;
    GMainLoop* loop_ = nullptr;
    std::thread thread_;
    std::thread::id thread_id_;
    std::chrono::steady_clock::time_point started_{};    // worker thread only
    std::chrono::steady_clock::time_point probe_due_{};  // worker thread only

    std::mutex mutex_;  // guards only the command queue hand-off, never media state
    std::deque<Command> queue_;
    bool wakeup_pending_ = false;
    bool accepting_ = false;
};

}  // namespace rollcall::sfu
