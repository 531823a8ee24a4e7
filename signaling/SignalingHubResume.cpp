// Resume (docs/protocol.md, Reconnecting): a session whose signaling link dropped keeps its
// media for the reconnect grace; a new link that joins with the same identity's token and the
// session's resume credential takes it over, and is brought up to date.
#include <openssl/crypto.h>

#include <nlohmann/json.hpp>

#include "signaling/ClientMessage.hpp"
#include "signaling/Random.hpp"
#include "signaling/SignalingHub.hpp"

namespace rollcall::signaling {

using json = nlohmann::json;

namespace {
constexpr std::size_t kMaxResumeChars = 64;
constexpr std::size_t kOutboxLimit = 64;
constexpr std::size_t kMaxRetiredResumes = 4096;

bool same_digest(const std::string& a, const std::string& b) {
    return !a.empty() && a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// What a resumed link need not be told again: `joined` carries the room as it is now, and
// the audience is sent afresh.
bool rebuilt_on_resume(std::string_view type) {
    return type == "participant_joined" || type == "participant_left" ||
           type == "track_published" || type == "track_unpublished" || type == "track_muted" ||
           type == "audience" || type == "subscribe_offer";
}
room::AuditEvent resume_event(std::string room, std::string identity, std::string_view action,
                              std::vector<std::pair<std::string, std::string>> evidence) {
    room::AuditEvent event;
    event.room = std::move(room);
    event.participant = std::move(identity);
    event.audit_class = action == "refused" ? "resume" : "resumed";
    event.action = std::string(action);
    event.evidence = std::move(evidence);
    return event;
}
}  // namespace

SessionId SignalingHub::session_of_link(SessionId link) const {
    auto it = links_.find(link);
    return it == links_.end() ? link : it->second;
}

std::string SignalingHub::issue_resume(Connection& connection, Clock::time_point now) {
    retire_resume(connection, "used", now);
    std::string credential = random_id("RS_", 32);  // about 190 bits
    connection.resume_digest = Revocations::digest(credential);
    return credential;
}

void SignalingHub::retire_resume(Connection& connection, std::string_view why,
                                 Clock::time_point now) {
    if (connection.resume_digest.empty()) return;
    while (retired_order_.size() >= kMaxRetiredResumes) {
        retired_resumes_.erase(retired_order_.front());
        retired_order_.pop_front();
    }
    retired_resumes_[connection.resume_digest] = {std::string(why), now};
    retired_order_.push_back(std::move(connection.resume_digest));
    connection.resume_digest.clear();
}

void SignalingHub::detach(Connection& connection) {
    connection.link = nullptr;
    connection.state = State::detached;
    ++detached_;
}

void SignalingHub::erase(std::unordered_map<SessionId, Connection>::iterator it) {
    retire_resume(it->second, "ended", Clock::now());
    if (it->second.state == State::detached) --detached_;
    connections_.erase(it);
}

void SignalingHub::keep_for_resume(Connection& connection, std::string_view type,
                                   std::string text) {
    if (rebuilt_on_resume(type)) return;
    if (connection.outbox.size() >= kOutboxLimit) {
        connection.outbox.pop_front();
        ++stats_.resume_outbox_dropped;
    }
    connection.outbox.push_back(std::move(text));
}

std::string_view SignalingHub::resume_refusal(const std::string& digest,
                                              const room::Participant* holder,
                                              Clock::time_point now) const {
    if (auto retired = retired_resumes_.find(digest); retired != retired_resumes_.end())
        return retired->second.why == "used" ? "resume_used" : "resume_expired";
    if (!holder) return "resume_invalid";
    auto it = connections_.find(holder->session);
    if (it == connections_.end() || !same_digest(digest, it->second.resume_digest))
        return "resume_invalid";
    const bool overdue = holder->disconnected_since &&
                         now - *holder->disconnected_since >= config_.roll_call.reconnect_grace;
    if (it->second.state == State::detached ? overdue : it->second.state != State::joined)
        return "resume_expired";
    return {};
}

void SignalingHub::handle_resume(Connection& fresh, const ClientMessage& message,
                                 Clock::time_point now, std::int64_t unix_now) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    const json& given = message.body.at("resume");
    if (!given.is_string() || given.get_ref<const std::string&>().empty() ||
        given.get_ref<const std::string&>().size() > kMaxResumeChars) {
        send_error(fresh, "malformed_message", "\"resume\" must be the string `joined` gave", ref);
        return;
    }
    auto admitted = admit(fresh, message, unix_now);  // the token, revocations and bans first
    if (!admitted) return;
    const std::string room_name = admitted->grants.room;
    const std::string digest = Revocations::digest(given.get_ref<const std::string&>());
    const room::Participant* holder = roster_.find(room_name, admitted->identity);
    std::string_view code = resume_refusal(digest, holder, now);
    if (code.empty() && !(holder->grants == admitted->grants)) code = "resume_invalid";
    if (!code.empty()) {
        static const std::map<std::string_view, std::string_view> kWhy = {
            {"resume_used", "that resume credential was used already; join afresh"},
            {"resume_expired",
             "that session has ended (its reconnect grace ran out, or it left or was removed); "
             "join afresh"},
            {"resume_invalid",
             "that resume credential is not this participant's session, or the token's grants "
             "differ from the session's; join afresh"}};
        roll_call_.record(
            resume_event(room_name, admitted->identity, "refused",
                         {{"code", std::string(code)}, {"remote", fresh.link->remote_address()}}));
        send_error(fresh, code, kWhy.at(code), ref);
        return;  // `fresh` may still join afresh
    }
    Connection& session = connections_.at(holder->session);
    const bool took_over = session.state == State::joined;  // the old link is half-open
    const auto detached_ms = holder->disconnected_since
                                 ? std::chrono::duration_cast<std::chrono::milliseconds>(
                                       now - *holder->disconnected_since)
                                       .count()
                                 : 0;
    if (took_over) {
        links_[session.link_id] = 0;  // its close, when it comes, changes nothing
        session.link->close(CloseCode::normal, "resumed on another connection");
    } else {
        --detached_;
    }
    session.link = fresh.link;
    session.link_id = fresh.link_id;
    session.limiter = fresh.limiter;
    session.drops_in_window = 0;
    session.drop_window_start = fresh.drop_window_start;
    session.last_rate_error.reset();
    session.state = State::joined;
    links_[fresh.link_id] = session.id;
    roster_.mark_resumed(room_name, admitted->identity, session.id, admitted->credential,
                         admitted->credential_expires_unix);
    ++stats_.resumes;
    roll_call_.record(resume_event(room_name, admitted->identity, "resumed",
                                   {{"session", std::to_string(session.id)},
                                    {"detached_ms", std::to_string(detached_ms)},
                                    {"took_over", took_over ? "true" : "false"},
                                    {"replayed", std::to_string(session.outbox.size())},
                                    {"remote", session.link->remote_address()}}));
    connections_.erase(fresh.id);  // `fresh` is gone from here on

    // The room as it is now, then what was due meanwhile, then the offer still unanswered.
    json others = json::array();
    for (const auto& [identity, other] : roster_.find(room_name)->participants) {
        if (other.session != session.id) others.push_back(participant_json(other));
    }
    json reply = {{"type", "joined"},
                  {"room", room_name},
                  {"participant", participant_json(*roster_.find(room_name, session.identity))},
                  {"participants", std::move(others)},
                  {"resumed", true},
                  {"resume", issue_resume(session, now)}};
    if (ref) reply["ref"] = *ref;
    send(session, reply);
    for (std::string& text : session.outbox) {
        ++stats_.messages_sent;
        session.link->send_text(std::move(text));
    }
    session.outbox.clear();
    if (session.awaited_answer != 0 && !session.last_offer.empty()) {
        ++stats_.messages_sent;
        session.link->send_text(session.last_offer);
    }
    roll_call_.forget(session.id);  // the audience goes out again with the next truth
}

}  // namespace rollcall::signaling
