#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
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

// The durable, append-only audit trail: one JSON object per line in `<data_dir>/audit.log`,
// flushed to disk (fdatasync) before append() returns, so an event survives a crash or a
// restart. Reopening reads the file back (a torn last line is skipped). Bounded: past
// `max_file_bytes` the file rotates to audit.log.1 (one generation kept), and the last
// `keep_in_memory` events answer queries. Single-threaded (the signaling thread's).
class AuditLog {
  public:
    struct Options {
        std::size_t max_file_bytes = 16u << 20;
        std::size_t keep_in_memory = 10000;
    };

    explicit AuditLog(std::filesystem::path directory, Options options);
    AuditLog(std::filesystem::path directory) : AuditLog(std::move(directory), Options{}) {}
    ~AuditLog();
    AuditLog(const AuditLog&) = delete;
    AuditLog& operator=(const AuditLog&) = delete;

    // Loads what earlier runs wrote and opens the file for appending; "" or the error.
    std::string open();
    // Stamps id (and time, if 0), writes and syncs; false if the write failed (the event is
    // still kept in memory and counted).
    bool append(AuditEvent event);

    // Newest last; `room` empty means every room; at most `limit` (the newest ones).
    std::vector<AuditEvent> query(std::string_view room, std::int64_t since_ms,
                                  std::size_t limit) const;
    std::size_t size() const noexcept { return events_.size(); }
    std::uint64_t write_failures() const noexcept { return write_failures_; }

    static std::string to_json_line(const AuditEvent& event);
    static std::optional<AuditEvent> from_json_line(std::string_view line);

  private:
    void load(const std::filesystem::path& file);
    void remember(AuditEvent event);
    bool rotate_if_needed(std::size_t incoming);

    std::filesystem::path directory_;
    std::filesystem::path file_;
    Options options_;
    int fd_ = -1;
    std::size_t file_bytes_ = 0;
    std::uint64_t next_id_ = 1;
    std::uint64_t write_failures_ = 0;
    std::deque<AuditEvent> events_;
};

}  // namespace rollcall::room
