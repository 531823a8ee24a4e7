#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rollcall::room {

// One roll-call event: an ejection, a refusal, a kick or a discrepancy, with its evidence.
struct AuditEvent {
    std::uint64_t id = 0;      // increasing across restarts
    std::int64_t time_ms = 0;  // unix time, milliseconds
    std::string room;
    std::string participant;  // the identity concerned, if the roster had one
    std::string audit_class;  // RosterAuditor's class name, or "fingerprint_changed", "kicked"…
    std::string action;       // "ejected", "dropped_consumer", "refused", "observed", "kicked"
    std::optional<double>
        detected_after_ms;  // from the media plane creating the item to the decision
    std::vector<std::pair<std::string, std::string>> evidence;
};

// The durable, append-only audit trail: one JSON object per line in `<data_dir>/audit.log`.
// append() keeps the event in memory (queries see it at once) and hands its line to a writer
// thread, which writes and syncs (fdatasync, one per batch) in order, so the signaling thread
// never waits for the disk. A write that fails (a full disk, say) is counted, logged once per
// run of failures, and never leaves a torn line behind: the partial line is cut off again, or,
// if that fails too, the next line starts on a fresh one. Reopening reads the files back (torn
// lines are skipped). Bounded: past `max_file_bytes` the file rotates (audit.log.1 …
// audit.log.<keep_files>, the oldest dropped); a rotation that fails keeps appending to the
// live file, never truncating it; at most `max_pending_bytes` wait for the disk (past that an
// event is kept in memory only, and counted); the last `keep_in_memory` events answer queries.
// append(), query() and size() belong to one thread (the signaling thread's).
class AuditLog {
  public:
    struct Options {
        std::size_t max_file_bytes = 16u << 20;
        std::size_t keep_files = 4;  // rotated generations kept besides the live file
        std::size_t keep_in_memory = 10000;
        std::size_t max_pending_bytes = 4u << 20;
    };

    explicit AuditLog(std::filesystem::path directory, Options options);
    AuditLog(std::filesystem::path directory) : AuditLog(std::move(directory), Options{}) {}
    ~AuditLog();  // writes what is pending first
    AuditLog(const AuditLog&) = delete;
    AuditLog& operator=(const AuditLog&) = delete;

    // Loads what earlier runs wrote, opens the file for appending and starts the writer;
    // "" or the error.
    std::string open();
    // Stamps id (and time, if 0), keeps the event and queues its line; false when it cannot
    // reach the disk (not open, or too much already waiting), which counts as a write failure.
    bool append(AuditEvent event);
    // Waits until everything appended so far was written and synced, or failed.
    void flush();

    // Newest last; `room` empty means every room; at most `limit` (the newest ones).
    std::vector<AuditEvent> query(std::string_view room, std::int64_t since_ms,
                                  std::size_t limit) const;
    std::size_t size() const noexcept { return events_.size(); }
    // Events that did not reach the disk; any thread.
    std::uint64_t write_failures() const noexcept { return write_failures_.load(); }

    static std::string to_json_line(const AuditEvent& event);
    static std::optional<AuditEvent> from_json_line(std::string_view line);

  private:
    class Writer;  // the writer thread and everything only it touches
    void load(const std::filesystem::path& file);
    void remember(AuditEvent event);

    std::filesystem::path directory_;
    Options options_;
    std::uint64_t next_id_ = 1;
    std::atomic<std::uint64_t> write_failures_{0};
    std::deque<AuditEvent> events_;
    std::unique_ptr<Writer> writer_;
};

}  // namespace rollcall::room
