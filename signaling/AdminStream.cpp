#include "signaling/AdminStream.hpp"

#include "signaling/AdminApi.hpp"

namespace rollcall::signaling {

using nlohmann::json;

std::string sse_event(std::string_view name, const json& data) {
    std::string out = "event: ";
    out += name;
    out += "\ndata: ";
    out += data.dump();  // compact: one line, control characters escaped
    out += "\n\n";
    return out;
}

AdminStream::AdminStream(const AdminApi& api, std::string room, bool all_rooms,
                         std::int64_t expires_unix, std::shared_ptr<std::size_t> open_streams)
    : api_(api),
      room_(std::move(room)),
      all_rooms_(all_rooms),
      expires_unix_(expires_unix),
      open_streams_(std::move(open_streams)) {
    ++*open_streams_;
}

AdminStream::~AdminStream() {
    --*open_streams_;
}

std::string AdminStream::state() const {
    std::string out;
    if (all_rooms_) out += sse_event("rooms", api_.rooms_json());
    if (!room_.empty())
        out += sse_event("room", {{"name", room_}, {"room", api_.room_json(room_)}});
    return out;
}

std::string AdminStream::audit(std::size_t limit) {
    json events = api_.audit_json(room_, audit_since_ms_, limit, audit_after_id_);
    if (events.empty()) return {};
    audit_after_id_ = events.back()["id"].get<std::uint64_t>();
    audit_since_ms_ = events.back()["time_ms"].get<std::int64_t>();
    return sse_event("audit", {{"events", std::move(events)}});
}

std::string AdminStream::first(std::int64_t) {
    return "retry: 2000\n\n" + state() + audit(kFirstAuditEvents);
}

std::optional<std::string> AdminStream::next(std::chrono::steady_clock::time_point,
                                             std::int64_t unix_now) {
    if (ended_) return std::nullopt;
    if (unix_now >= expires_unix_) {
        ended_ = true;
        return sse_event("end", {{"reason", "token_expired"}});
    }
    return state() + audit(kAuditEventsPerTick);
}

}  // namespace rollcall::signaling
