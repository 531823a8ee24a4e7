// Roll call on the signaling side: the media plane's truth against the roster (DESIGN.md §4).
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "signaling/ClientMessage.hpp"
#include "signaling/SignalingHub.hpp"
#include "transport/DtlsTransport.hpp"

namespace rollcall::signaling {

using json = nlohmann::json;

namespace {

double milliseconds_since(SignalingHub::Clock::time_point since,
                          SignalingHub::Clock::time_point now) {
    if (since == SignalingHub::Clock::time_point{} || now < since) return 0;
    return std::chrono::duration<double, std::milli>(now - since).count();
}

const char* explain(room::AuditClass audit_class) {
    switch (audit_class) {
        case room::AuditClass::too_many_transports:
            return "a transport your session may not hold was closed";
        case room::AuditClass::fingerprint_mismatch:
            return "a transport's DTLS certificate is not the one you signaled; it was closed";
        case room::AuditClass::unauthorized_consumer:
            return "media you did not subscribe to was being sent to you; it was stopped";
        default:
            return "the media plane held something the roster does not account for";
    }
}

}  // namespace

void SignalingHub::record(room::AuditEvent event, bool ejection) {
    ++stats_.audit_events;
    if (ejection) ++stats_.audit_ejections_by_reason[event.audit_class];
    spdlog::warn("roll call: {} {} in room '{}'{}{}", event.action, event.audit_class, event.room,
                 event.participant.empty() ? "" : " participant ", event.participant);
    if (audit_) audit_->append(std::move(event));
}

void SignalingHub::tell(SessionId session, const json& message) {
    auto it = connections_.find(session);
    if (it == connections_.end() || it->second.state == State::closing) return;
    send(it->second, message);
}

void SignalingHub::on_media_truth(const sfu::MediaTruth& truth) {
    if (!media_) return;
    const auto now = Clock::now();
    if (truth.full) {
        // Rooms of this worker that the full snapshot lacks have no media left.
        for (auto it = media_truth_.begin(); it != media_truth_.end();) {
            const bool absent =
                media_->worker_for(it->first) == truth.worker &&
                std::none_of(truth.rooms.begin(), truth.rooms.end(),
                             [&](const sfu::RoomTruth& r) { return r.room == it->first; });
            it = absent ? media_truth_.erase(it) : std::next(it);
        }
        media_->forget_rooms_without_media(truth);
        if (acted_on_.size() > 4096) acted_on_.clear();
    }
    for (const sfu::MediaIncident& incident : truth.incidents) {
        const room::Participant* participant = nullptr;
        if (const room::Room* room = roster_.find(incident.room)) {
            for (const auto& [identity, p] : room->participants) {
                if (p.session == incident.session) participant = &p;
            }
        }
        room::AuditEvent event;
        event.room = incident.room;
        event.participant = participant ? participant->identity : "";
        const bool refused = incident.kind == sfu::MediaIncident::Kind::fingerprint_refused;
        event.audit_class =
            refused ? std::string(room::to_string(room::AuditClass::fingerprint_mismatch))
                    : "path_change";
        event.action = refused ? "refused" : "held";  // media stayed on the established path
        event.detected_after_ms = milliseconds_since(incident.at, now);
        event.evidence = {{"transport", std::to_string(incident.transport)},
                          {"session", std::to_string(incident.session)},
                          {"role", std::string(sfu::to_string(incident.role))},
                          {refused ? "signaled" : "established_address", incident.expected},
                          {refused ? "presented" : "new_address", incident.observed}};
        record(std::move(event), refused);
        if (!refused && participant) {
            // Its ICE credentials are in someone else's hands; it may want new ones (an ICE
            // restart) even though its media never moved.
            tell(incident.session,
                 {{"type", "roll_call"},
                  {"class", "path_change"},
                  {"action", "path_held"},
                  {"target", sfu::to_string(incident.role)},
                  {"message",
                   "another address took over your connection's ICE checks without "
                   "being able to authenticate; your media stayed where it was"}});
        }
    }
    for (const sfu::RoomTruth& room_truth : truth.rooms) {
        if (room_truth.transports.empty() && room_truth.consumers.empty())
            media_truth_.erase(room_truth.room);
        else
            media_truth_[room_truth.room] = room_truth;
        send_audiences(room_truth);
        // Compare only when the truth reflects every command sent for the room: a roster
        // change whose media-plane half is still on its way is not a discrepancy.
        if (!media_->is_current(room_truth.room, truth.worker, truth.applied)) continue;
        ++stats_.audit_sweeps;
        for (const room::Finding& finding :
             room::RosterAuditor::audit(roster_.find(room_truth.room), room_truth)) {
            act_on(room_truth.room, finding, now);
        }
    }
}

void SignalingHub::act_on(const std::string& room_name, const room::Finding& finding,
                          Clock::time_point now) {
    room::AuditEvent event;
    event.room = room_name;
    event.participant = finding.identity;
    event.audit_class = std::string(room::to_string(finding.audit_class));
    event.evidence = finding.evidence;
    event.detected_after_ms = milliseconds_since(finding.since, now);
    switch (finding.action) {
        case room::Finding::Action::close_transport:
            event.action = "ejected";
            media_->eject_transport(room_name, finding.transport);
            break;
        case room::Finding::Action::drop_consumer:
            event.action = "dropped_consumer";
            media_->drop_consumer(room_name, finding.transport, finding.track_id);
            break;
        case room::Finding::Action::none:
            event.action = "observed";
            break;
    }
    // An ejection seen again before it landed is ordered again, but recorded once.
    const bool ejection = finding.action != room::Finding::Action::none;
    if (ejection && !acted_on_.insert({finding.transport, finding.track_id}).second) return;
    record(std::move(event), ejection);
    if (finding.identity.empty() || !ejection) return;
    // The participant concerned is on the roster: tell it what happened and why.
    json message = {
        {"type", "roll_call"},
        {"class", room::to_string(finding.audit_class)},
        {"action", finding.action == room::Finding::Action::close_transport ? "transport_closed"
                                                                            : "consumer_dropped"},
        {"message", explain(finding.audit_class)}};
    if (!finding.track_id.empty()) message["track"] = finding.track_id;
    tell(finding.session, message);
    if (finding.audit_class == room::AuditClass::fingerprint_mismatch) {
        // Its own transport is the one closed: the same as a failure of that transport.
        on_media_failed(finding.session, finding.role,
                        "ejected by roll call: fingerprint mismatch");
    }
}

void SignalingHub::expire_disconnected(Clock::time_point now) {
    for (const auto& [room_name, identity] :
         room::RosterAuditor::overdue(roster_, now, config_.roll_call.reconnect_grace)) {
        const room::Participant* participant = roster_.find(room_name, identity);
        if (!participant) continue;
        const SessionId session = participant->session;
        const auto since = *participant->disconnected_since;
        if (media_) media_->close(session);
        auto removed = roster_.remove(room_name, identity, now);
        if (!removed) continue;
        room::AuditEvent event;
        event.room = room_name;
        event.participant = identity;
        event.audit_class = std::string(room::to_string(room::AuditClass::reconnect_expired));
        event.action = "ejected";
        event.detected_after_ms =
            milliseconds_since(since + config_.roll_call.reconnect_grace, now);
        event.evidence = {{"session", std::to_string(session)},
                          {"grace_ms", std::to_string(config_.roll_call.reconnect_grace.count())},
                          {"disconnected_ms_ago",
                           std::to_string(static_cast<long long>(milliseconds_since(since, now)))}};
        record(std::move(event), /*ejection=*/true);
        announce_left(*removed, room_name, "disconnected");
        sync_room_subscriptions(room_name, session);
    }
}

void SignalingHub::send_audiences(const sfu::RoomTruth& truth) {
    const room::Room* room = roster_.find(truth.room);
    if (!room) return;
    std::map<SessionId, const room::Participant*> by_session;
    for (const auto& [identity, participant] : room->participants)
        by_session[participant.session] = &participant;
    for (const auto& [identity, publisher] : room->participants) {
        auto connection = connections_.find(publisher.session);
        if (connection == connections_.end() || connection->second.state != State::joined) continue;
        // Who the media plane forwards this publisher's tracks to, whoever the roster says.
        std::map<SessionId, std::set<std::string>> sinks;
        for (const sfu::ConsumerFact& consumer : truth.consumers) {
            if (consumer.publisher == publisher.session)
                sinks[consumer.subscriber].insert(consumer.track_id);
        }
        json audience = json::array();
        std::size_t unaccounted = 0;
        for (const auto& [session, tracks] : sinks) {
            auto who = by_session.find(session);
            if (who == by_session.end()) {
                ++unaccounted;
                audience.push_back(
                    {{"identity", nullptr}, {"name", "unknown receiver"}, {"tracks", tracks}});
            } else {
                audience.push_back({{"identity", who->second->identity},
                                    {"name", who->second->name},
                                    {"tracks", tracks}});
            }
        }
        json message = {
            {"type", "audience"}, {"audience", std::move(audience)}, {"unaccounted", unaccounted}};
        std::string text = to_text(message);
        if (text == connection->second.audience_sent) continue;
        connection->second.audience_sent = std::move(text);
        send(connection->second, message);
    }
}

bool SignalingHub::check_fingerprint(Connection& connection, sfu::PeerRole role,
                                     const transport::SdpFingerprint& offered, const json* ref) {
    const room::Participant* self = roster_.find(connection.room, connection.identity);
    if (!self) return false;
    const auto& bound = role == sfu::PeerRole::publisher ? self->publisher_fingerprint
                                                         : self->subscriber_fingerprint;
    if (!bound || *bound == offered) return true;
    room::AuditEvent event;
    event.room = connection.room;
    event.participant = connection.identity;
    event.audit_class = std::string(room::to_string(room::AuditClass::fingerprint_mismatch));
    event.action = "refused";
    event.detected_after_ms = 0;
    event.evidence = {{"session", std::to_string(connection.id)},
                      {"role", std::string(sfu::to_string(role))},
                      {"signaled", transport::to_string(*bound)},
                      {"offered", transport::to_string(offered)},
                      {"detail", "a new fingerprint in a renegotiation"}};
    record(std::move(event), /*ejection=*/false);
    send_error(connection, "fingerprint_changed",
               "the DTLS fingerprint differs from the one this session signaled", ref);
    return false;
}

json SignalingHub::media_json(std::string_view room_name) const {
    json out = {{"transports", json::array()}, {"consumers", json::array()}};
    auto it = media_truth_.find(room_name);
    if (it == media_truth_.end()) return out;
    for (const sfu::TransportFact& fact : it->second.transports) {
        out["transports"].push_back({{"id", fact.id},
                                     {"session", fact.session},
                                     {"role", sfu::to_string(fact.role)},
                                     {"echo", fact.echo},
                                     {"connected", fact.connected},
                                     {"remote_address", fact.remote_address},
                                     {"fingerprint", fact.peer_fingerprint}});
    }
    for (const sfu::ConsumerFact& consumer : it->second.consumers) {
        out["consumers"].push_back({{"transport", consumer.transport},
                                    {"subscriber_session", consumer.subscriber},
                                    {"track", consumer.track_id},
                                    {"publisher_session", consumer.publisher},
                                    {"active", consumer.active}});
    }
    return out;
}

#ifdef ROLLCALL_FAULT_INJECTION
std::string SignalingHub::plant_stray_transport(std::string_view room_name,
                                                std::string_view identity) {
    if (!media_) return "no media plane";
    if (!roster_.find(room_name)) return "no such room";
    SessionId session = 0;
    if (!identity.empty()) {
        const room::Participant* participant = roster_.find(room_name, identity);
        if (!participant) return "no such participant";
        session = participant->session;
    }
    media_->plant_stray_transport(std::string(room_name), session);
    return {};
}

std::string SignalingHub::plant_consumer(std::string_view room_name, std::string_view subscriber,
                                         std::string_view track_id) {
    if (!media_) return "no media plane";
    const room::Participant* participant = roster_.find(room_name, subscriber);
    if (!participant) return "no such participant";
    if (!roster_.find_track(room_name, track_id).second) return "no such track";
    media_->plant_consumer(std::string(room_name), participant->session, std::string(track_id));
    return {};
}

std::string SignalingHub::plant_fingerprint_swap(std::string_view room_name,
                                                 std::string_view identity, sfu::PeerRole role) {
    if (!media_) return "no media plane";
    const room::Participant* participant = roster_.find(room_name, identity);
    if (!participant) return "no such participant";
    const auto& bound = role == sfu::PeerRole::publisher ? participant->publisher_fingerprint
                                                         : participant->subscriber_fingerprint;
    if (!bound) return "that connection has no fingerprint bound yet";
    // A real certificate that is not the participant's.
    const transport::SdpFingerprint other = transport::DtlsIdentity::generate()->fingerprint();
    roster_.release_fingerprint(room_name, identity, participant->session, role);
    roster_.bind_fingerprint(room_name, identity, role, other);
    media_->request_truth(std::string(room_name));
    return {};
}
#endif

}  // namespace rollcall::signaling
