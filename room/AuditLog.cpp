#include "room/AuditLog.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <system_error>
#include <thread>

namespace rollcall::room {

using json = nlohmann::ordered_json;  // evidence keeps its order

namespace {

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

// Owns the file. Lines queue under the mutex; the thread takes them in batches, writes each,
// syncs once per batch and counts what failed.
class AuditLog::Writer {
  public:
    Writer(std::filesystem::path file, const Options& options, std::atomic<std::uint64_t>& failures)
        : file_(std::move(file)), options_(options), failures_(failures) {}
    ~Writer() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        if (thread_.joinable()) thread_.join();
        if (fd_ >= 0) ::close(fd_);
    }

    std::string open();
    bool enqueue(std::string line) {
        {
            std::lock_guard lock(mutex_);
            if (pending_bytes_ + line.size() > options_.max_pending_bytes) return false;
            pending_bytes_ += line.size();
            pending_.push_back(std::move(line));
            ++queued_;
        }
        wake_.notify_one();
        return true;
    }
    void flush() {
        std::unique_lock lock(mutex_);
        const std::uint64_t target = queued_;
        done_.wait(lock, [&] { return finished_ >= target; });
    }

  private:
    void run();
    std::size_t write_batch(const std::vector<std::string>& lines);  // lines that failed
    bool write_line(const std::string& line);
    void rotate_if_needed(std::size_t incoming);
    void report(bool failed, int error);

    std::filesystem::path file_;
    Options options_;
    std::atomic<std::uint64_t>& failures_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    std::deque<std::string> pending_;
    std::size_t pending_bytes_ = 0;
    std::uint64_t queued_ = 0;
    std::uint64_t finished_ = 0;
    bool stopping_ = false;
    std::thread thread_;
    // The writer thread's own.
    int fd_ = -1;
    std::size_t file_bytes_ = 0;
    bool needs_newline_ = false;  // a torn line could not be cut off
    bool failing_ = false;        // logged once per run of failures
    std::size_t rotation_retry_at_ = 0;
};

std::string AuditLog::Writer::open() {
    fd_ = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0) return "cannot open " + file_.string() + ": " + std::strerror(errno);
    const off_t size = ::lseek(fd_, 0, SEEK_END);
    file_bytes_ = size > 0 ? static_cast<std::size_t>(size) : 0;
    // A crash mid-write can leave a torn last line: start on a fresh one.
    if (file_bytes_ > 0) {
        std::ifstream tail(file_, std::ios::binary);
        tail.seekg(-1, std::ios::end);
        char last = '\n';
        tail.get(last);
        needs_newline_ = last != '\n';
    }
    thread_ = std::thread([this] { run(); });
    return {};
}

void AuditLog::Writer::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
        if (pending_.empty()) return;  // stopping, everything written
        std::vector<std::string> batch(std::make_move_iterator(pending_.begin()),
                                       std::make_move_iterator(pending_.end()));
        pending_.clear();
        pending_bytes_ = 0;
        lock.unlock();
        const std::size_t failed = write_batch(batch);
        if (failed > 0) failures_ += failed;
        lock.lock();
        finished_ += batch.size();
        done_.notify_all();
    }
}

std::size_t AuditLog::Writer::write_batch(const std::vector<std::string>& lines) {
    std::size_t failed = 0;
    std::size_t written = 0;
    for (const std::string& line : lines) {
        if (write_line(line))
            ++written;
        else
            ++failed;
    }
    if (written > 0 && ::fdatasync(fd_) != 0) {
        report(true, errno);
        return lines.size();  // on disk or not, nobody can say
    }
    if (failed == 0) report(false, 0);
    return failed;
}

bool AuditLog::Writer::write_line(const std::string& line) {
    rotate_if_needed(line.size() + 1);
    if (needs_newline_) {
        if (::write(fd_, "\n", 1) != 1) {
            report(true, errno);
            return false;
        }
        ++file_bytes_;
        needs_newline_ = false;
    }
    std::size_t done = 0;
    int error = 0;
    while (done < line.size()) {
        const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            error = n < 0 ? errno : ENOSPC;
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    if (done == line.size()) {
        file_bytes_ += done;
        return true;
    }
    // Cut the partial line off; if even that fails, the next line starts on a fresh one so
    // the torn one swallows nothing.
    if (done > 0 && ::ftruncate(fd_, static_cast<off_t>(file_bytes_)) != 0) {
        file_bytes_ += done;
        needs_newline_ = true;
    }
    report(true, error);
    return false;
}

void AuditLog::Writer::rotate_if_needed(std::size_t incoming) {
    if (file_bytes_ == 0 || file_bytes_ + incoming <= options_.max_file_bytes ||
        file_bytes_ < rotation_retry_at_ || options_.keep_files == 0)
        return;
    auto generation = [&](std::size_t n) {
        return std::filesystem::path(file_.string() + "." + std::to_string(n));
    };
    std::error_code ec;
    for (std::size_t n = options_.keep_files; n > 1; --n) {
        if (std::filesystem::exists(generation(n - 1), ec))
            std::filesystem::rename(generation(n - 1), generation(n), ec);
    }
    std::filesystem::rename(file_, generation(1), ec);
    const int fd = ec ? -1 : ::open(file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        // Keep appending where we are (the live file, or generation 1 if only the open
        // failed); never truncate. Try again once the file has grown by a tenth.
        std::cerr << "rollcall: audit log rotation failed ("
                  << (ec ? ec.message() : std::strerror(errno))
                  << "); appending to the current file\n";
        rotation_retry_at_ = file_bytes_ + options_.max_file_bytes / 10 + 1;
        return;
    }
    ::close(fd_);
    fd_ = fd;
    file_bytes_ = 0;
    needs_newline_ = false;
    rotation_retry_at_ = 0;
}

void AuditLog::Writer::report(bool failed, int error) {
    if (failed == failing_) return;
    failing_ = failed;
    if (failed) {
        std::cerr << "rollcall: audit log write failed (" << std::strerror(error)
                  << "); events stay in memory and are counted in "
                     "rollcall_audit_write_errors_total\n";
    } else {
        std::cerr << "rollcall: audit log writes succeed again\n";
    }
}

AuditLog::AuditLog(std::filesystem::path directory, Options options)
    : directory_(std::move(directory)), options_(options) {}

AuditLog::~AuditLog() = default;

std::string AuditLog::to_json_line(const AuditEvent& event) {
    json evidence = json::object();
    for (const auto& [key, value] : event.evidence) evidence[key] = value;
    json out = {{"id", event.id},
                {"time_ms", event.time_ms},
                {"room", event.room},
                {"participant", event.participant},
                {"class", event.audit_class},
                {"action", event.action},
                {"evidence", std::move(evidence)}};
    if (event.detected_after_ms) out["detected_after_ms"] = *event.detected_after_ms;
    // Invalid UTF-8 from a peer's evidence is replaced, never a reason to lose the event.
    return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<AuditEvent> AuditLog::from_json_line(std::string_view line) {
    json in = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!in.is_object()) return std::nullopt;
    auto string_at = [&](const char* key) -> std::optional<std::string> {
        auto it = in.find(key);
        if (it == in.end() || !it->is_string()) return std::nullopt;
        return it->get<std::string>();
    };
    AuditEvent event;
    auto id = in.find("id");
    auto time = in.find("time_ms");
    if (id == in.end() || !id->is_number_unsigned() || time == in.end() ||
        !time->is_number_integer())
        return std::nullopt;
    event.id = id->get<std::uint64_t>();
    event.time_ms = time->get<std::int64_t>();
    auto room = string_at("room");
    auto participant = string_at("participant");
    auto audit_class = string_at("class");
    auto action = string_at("action");
    if (!room || !participant || !audit_class || !action) return std::nullopt;
    event.room = *room;
    event.participant = *participant;
    event.audit_class = *audit_class;
    event.action = *action;
    if (auto after = in.find("detected_after_ms"); after != in.end() && after->is_number()) {
        event.detected_after_ms = after->get<double>();
    }
    if (auto evidence = in.find("evidence"); evidence != in.end() && evidence->is_object()) {
        for (const auto& [key, value] : evidence->items()) {
            if (value.is_string()) event.evidence.emplace_back(key, value.get<std::string>());
        }
    }
    return event;
}

void AuditLog::load(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        if (auto event = from_json_line(line)) remember(std::move(*event));
    }
}

std::string AuditLog::open() {
    if (writer_) return "already open";
    std::error_code ec;
    std::filesystem::create_directories(directory_, ec);
    if (ec) return "cannot create " + directory_.string() + ": " + ec.message();
    const std::filesystem::path file = directory_ / "audit.log";
    for (std::size_t n = options_.keep_files; n >= 1; --n)
        load(std::filesystem::path(file.string() + "." + std::to_string(n)));
    load(file);
    auto writer = std::make_unique<Writer>(file, options_, write_failures_);
    if (std::string error = writer->open(); !error.empty()) return error;
    writer_ = std::move(writer);
    return {};
}

void AuditLog::remember(AuditEvent event) {
    next_id_ = std::max(next_id_, event.id + 1);
    events_.push_back(std::move(event));
    while (events_.size() > options_.keep_in_memory) events_.pop_front();
}

bool AuditLog::append(AuditEvent event) {
    event.id = next_id_++;
    if (event.time_ms == 0) event.time_ms = unix_ms_now();
    const bool queued = writer_ && writer_->enqueue(to_json_line(event) + "\n");
    if (!queued) ++write_failures_;
    remember(std::move(event));
    return queued;
}

void AuditLog::flush() {
    if (writer_) writer_->flush();
}

std::vector<AuditEvent> AuditLog::query(std::string_view room, std::int64_t since_ms,
                                        std::size_t limit) const {
    std::vector<AuditEvent> out;
    for (auto it = events_.rbegin(); it != events_.rend() && out.size() < limit; ++it) {
        if (it->time_ms < since_ms) continue;
        if (!room.empty() && it->room != room) continue;
        out.push_back(*it);
    }
    std::reverse(out.begin(), out.end());
    return out;
}

}  // namespace rollcall::room
