#include "room/AuditLog.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

namespace rollcall::room {

using json = nlohmann::ordered_json;  // evidence keeps its order

namespace {

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

AuditLog::AuditLog(std::filesystem::path directory, Options options)
    : directory_(std::move(directory)), file_(directory_ / "audit.log"), options_(options) {}

AuditLog::~AuditLog() {
    if (fd_ >= 0) ::close(fd_);
}

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
    std::error_code ec;
    std::filesystem::create_directories(directory_, ec);
    if (ec) return "cannot create " + directory_.string() + ": " + ec.message();
    load(std::filesystem::path(file_.string() + ".1"));
    load(file_);
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
        if (last != '\n' && ::write(fd_, "\n", 1) == 1) ++file_bytes_;
    }
    return {};
}

void AuditLog::remember(AuditEvent event) {
    next_id_ = std::max(next_id_, event.id + 1);
    events_.push_back(std::move(event));
    while (events_.size() > options_.keep_in_memory) events_.pop_front();
}

bool AuditLog::rotate_if_needed(std::size_t incoming) {
    if (file_bytes_ + incoming <= options_.max_file_bytes || file_bytes_ == 0) return true;
    ::close(fd_);
    fd_ = -1;
    std::error_code ec;
    std::filesystem::rename(file_, std::filesystem::path(file_.string() + ".1"), ec);
    fd_ = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0600);
    file_bytes_ = 0;
    return fd_ >= 0;
}

bool AuditLog::append(AuditEvent event) {
    event.id = next_id_++;
    if (event.time_ms == 0) event.time_ms = unix_ms_now();
    const std::string line = to_json_line(event) + "\n";
    bool written = false;
    if (fd_ >= 0 && rotate_if_needed(line.size())) {
        const ssize_t n = ::write(fd_, line.data(), line.size());
        written = n == static_cast<ssize_t>(line.size()) && ::fdatasync(fd_) == 0;
        if (n > 0) file_bytes_ += static_cast<std::size_t>(n);
    }
    if (!written) ++write_failures_;
    remember(std::move(event));
    return written;
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
