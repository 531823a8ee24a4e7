// Roll call on the signaling side: the media plane's truth against the roster
// (docs/design.md, "Roll call").
#include "signaling/RollCall.hpp"

#include <spdlog/spdlog.h>

#include "signaling/ClientMessage.hpp"
#include "transport/DtlsTransport.hpp"

namespace rollcall::signaling {

using json = nlohmann::json;

namespace {

double milliseconds_since(RollCall::Clock::time_point since, RollCall::Clock::time_point now) {
    if (since == RollCall::Clock::time_point{} || now < since) return 0;
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
        case room::AuditClass::unauthorized_data:
            return "a data association the roster does not account for was closed";
        default:
            return "the media plane held something the roster does not account for";
    }
}

}  // namespace

Ejection participant_ejection(const room::Participant& participant, std::string_view room,
                              std::string_view audit_class, std::string_view kicked_reason,
                              std::string_view message) {
    Ejection e;
    e.target = Ejection::Target::participant;
    e.room = std::string(room);
    e.identity = participant.identity;
    e.session = participant.session;
    e.audit_class = std::string(audit_class);
    e.action = std::string(audit_class);
    e.counts = false;
    e.evidence = {{"session", std::to_string(participant.session)}};
    if (!kicked_reason.empty()) {
        e.notice = {{"type", "kicked"}, {"reason", kicked_reason}, {"message", message}};
    }
    e.close_reason = std::string(kicked_reason.empty() ? audit_class : kicked_reason);
    return e;
}

RollCall::RollCall(const RollCallConfig& config, room::Roster& roster, SignalingStats& stats,
                   sfu::MediaControl* media, room::AuditLog* audit, RollCallHost& host)
    : config_(config), roster_(roster), stats_(stats), media_(media), audit_(audit), host_(host) {}

bool RollCall::eject(const Ejection& e) {
    using Target = Ejection::Target;
    if (e.target == Target::transport && media_) media_->eject_transport(e.room, e.transport);
    if (e.target == Target::consumer && media_)
        media_->drop_consumer(e.room, e.transport, e.track_id);
    if (e.target == Target::data && media_) media_->close_data(e.room, e.transport);
    // A media item seen again before its ejection landed is ordered again, but recorded once.
    const bool media_item =
        e.target == Target::transport || e.target == Target::consumer || e.target == Target::data;
    const std::string item = e.target == Target::data ? "(data channels)" : e.track_id;
    if (media_item && !acted_on_.insert({e.transport, item}).second) return false;
    room::AuditEvent event;
    event.room = e.room;
    event.participant = e.identity;
    event.audit_class = e.audit_class;
    event.action = e.action;
    event.evidence = e.evidence;
    event.detected_after_ms = e.detected_after_ms;
    if (e.counts) ++stats_.audit_ejections_by_reason[e.audit_class];
    record(std::move(event));
    if (!e.notice.is_null()) host_.tell(e.session, e.notice);
    if (e.target == Target::participant && !host_.close_link(e.session, e.close_reason) && media_) {
        media_->close(e.session);  // a dropped socket within its reconnect grace
    }
    return true;
}

void RollCall::record(room::AuditEvent event) {
    // Refusals (and resumes) repeat as fast as a client can retry or reconnect: the first is
    // written, repeats within kRepeatWindow only counted, and one event with the count closes
    // the window (tick()).
    if (event.action == "refused" || event.action == "resumed") {
        const auto now = Clock::now();
        const std::string key = event.room + '\n' + event.participant + '\n' + event.audit_class;
        auto it = repeats_.find(key);
        if (it != repeats_.end() && now - it->second.opened < kRepeatWindow) {
            ++it->second.count;
            return;
        }
        if (it != repeats_.end()) close_window(it->second);
        if (repeats_.size() >= kMaxRepeatWindows)
            tick(now + kRepeatWindow);  // bounded: close them all
        repeats_[key] = {now, 0, event};
    }
    write(std::move(event));
}

void RollCall::close_window(Repeats& window) {
    if (window.count == 0) return;
    room::AuditEvent summary = window.first;
    summary.evidence.emplace_back("repeats", std::to_string(window.count));
    summary.evidence.emplace_back(
        "within_s",
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(kRepeatWindow).count()));
    window.count = 0;
    write(std::move(summary));
}

void RollCall::tick(Clock::time_point now) {
    for (auto it = repeats_.begin(); it != repeats_.end();) {
        if (now - it->second.opened < kRepeatWindow) {
            ++it;
            continue;
        }
        close_window(it->second);
        it = repeats_.erase(it);
    }
}

void RollCall::write(room::AuditEvent event) {
    ++stats_.audit_events;
    spdlog::warn("roll call: {} {} in room '{}'{}{}", event.action, event.audit_class, event.room,
                 event.participant.empty() ? "" : " participant ", event.participant);
    if (audit_) audit_->append(std::move(event));
}

void RollCall::on_media_truth(const sfu::MediaTruth& truth) {
    if (!media_) return;
    const auto now = Clock::now();
    if (truth.report) worker_reports_[truth.worker] = *truth.report;
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
    for (const sfu::MediaIncident& incident : truth.incidents) record_incident(incident, now);
    for (const sfu::RoomTruth& room_truth : truth.rooms) {
        if (room_truth.transports.empty() && room_truth.consumers.empty()) {
            media_truth_.erase(room_truth.room);
        } else {
            media_truth_[room_truth.room] = room_truth;
        }
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

void RollCall::record_incident(const sfu::MediaIncident& incident, Clock::time_point now) {
    const room::Participant* participant = nullptr;
    if (const room::Room* room = roster_.find(incident.room)) {
        for (const auto& [identity, p] : room->participants) {
            if (p.session == incident.session) participant = &p;
        }
    }
    using Kind = sfu::MediaIncident::Kind;
    const bool refused = incident.kind == Kind::fingerprint_refused;
    const bool reuse = incident.kind == Kind::credential_reuse;
    // A refused certificate is an ejection (its handshake failed closed); a held path and a
    // stranger using the credentials are observations: nobody's media moved.
    Ejection e;
    e.target = Ejection::Target::nothing;
    e.room = incident.room;
    e.identity = participant ? participant->identity : "";
    e.session = incident.session;
    e.audit_class = refused ? std::string(room::to_string(room::AuditClass::fingerprint_mismatch))
                            : std::string(sfu::to_string(incident.kind));
    e.action = refused ? "refused" : reuse ? "observed" : "held";
    e.counts = refused;
    e.detected_after_ms = milliseconds_since(incident.at, now);
    e.evidence = {{"transport", std::to_string(incident.transport)},
                  {"session", std::to_string(incident.session)},
                  {"role", std::string(sfu::to_string(incident.role))},
                  {refused ? "signaled" : "established_address", incident.expected},
                  {refused ? "presented"
                   : reuse ? "other_address"
                           : "new_address",
                   incident.observed}};
    eject(e);
    if (refused || !participant) return;
    // Its ICE credentials are in someone else's hands; it may want new ones (an ICE restart)
    // even though its media never moved.
    host_.tell(
        incident.session,
        {{"type", "roll_call"},
         {"class", std::string(sfu::to_string(incident.kind))},
         {"action", reuse ? "observed" : "path_held"},
         {"target", sfu::to_string(incident.role)},
         {"message", reuse ? "another address sent checks with your connection's ICE credentials; "
                             "your media stayed where it was (an ICE restart gives you new ones)"
                           : "another address took over your connection's ICE checks without "
                             "being able to authenticate; your media stayed where it was"}});
}

void RollCall::act_on(const std::string& room_name, const room::Finding& finding,
                      Clock::time_point now) {
    using Action = room::Finding::Action;
    Ejection e;
    e.target = finding.action == Action::close_transport ? Ejection::Target::transport
               : finding.action == Action::drop_consumer ? Ejection::Target::consumer
               : finding.action == Action::close_data    ? Ejection::Target::data
                                                         : Ejection::Target::nothing;
    e.room = room_name;
    e.identity = finding.identity;
    e.session = finding.session;
    e.audit_class = std::string(room::to_string(finding.audit_class));
    e.action = finding.action == Action::close_transport ? "ejected"
               : finding.action == Action::drop_consumer ? "dropped_consumer"
               : finding.action == Action::close_data    ? "data_closed"
                                                         : "observed";
    e.counts = finding.action != Action::none;
    e.transport = finding.transport;
    e.track_id = finding.track_id;
    e.evidence = finding.evidence;
    e.detected_after_ms = milliseconds_since(finding.since, now);
    if (!finding.identity.empty() && e.counts) {
        // The participant concerned is on the roster: tell it what happened and why.
        e.notice = {{"type", "roll_call"},
                    {"class", room::to_string(finding.audit_class)},
                    {"action", finding.action == Action::close_transport ? "transport_closed"
                               : finding.action == Action::close_data    ? "data_closed"
                                                                         : "consumer_dropped"},
                    {"message", explain(finding.audit_class)}};
        if (!finding.track_id.empty()) e.notice["track"] = finding.track_id;
    }
    if (eject(e) && !finding.identity.empty() && e.counts &&
        finding.audit_class == room::AuditClass::fingerprint_mismatch) {
        // Its own transport is the one closed: the same as a failure of that transport.
        host_.media_failed(finding.session, finding.role,
                           "ejected by roll call: fingerprint mismatch");
    }
}

void RollCall::expire_disconnected(Clock::time_point now) {
    const auto grace = config_.reconnect_grace;
    for (const auto& [room_name, identity] : room::RosterAuditor::overdue(roster_, now, grace)) {
        const room::Participant* participant = roster_.find(room_name, identity);
        if (!participant) continue;
        const SessionId session = participant->session;
        const auto since = *participant->disconnected_since;
        auto removed = roster_.remove(room_name, identity, now);
        if (!removed) continue;
        Ejection e = participant_ejection(*removed, room_name, "reconnect_grace_expired", "", "");
        e.action = "ejected";
        e.counts = true;
        e.detected_after_ms = milliseconds_since(since + grace, now);
        e.evidence.emplace_back("grace_ms", std::to_string(grace.count()));
        e.evidence.emplace_back(
            "disconnected_ms_ago",
            std::to_string(static_cast<long long>(milliseconds_since(since, now))));
        eject(e);
        host_.announce_left(*removed, room_name, "disconnected");
        host_.sync_room_subscriptions(room_name, session);
    }
}

void RollCall::send_audiences(const sfu::RoomTruth& truth) {
    const room::Room* room = roster_.find(truth.room);
    if (!room) return;
    std::map<SessionId, const room::Participant*> by_session;
    for (const auto& [identity, participant] : room->participants)
        by_session[participant.session] = &participant;
    std::set<sfu::TransportId> connected;
    for (const sfu::TransportFact& fact : truth.transports) {
        if (fact.connected) connected.insert(fact.id);
    }
    for (const auto& [identity, publisher] : room->participants) {
        // Who the media plane forwards this publisher's tracks to, whoever the roster says:
        // only sinks that forward on a connected transport, since media really goes there.
        std::map<SessionId, std::set<std::string>> sinks;
        for (const sfu::ConsumerFact& consumer : truth.consumers) {
            if (consumer.publisher == publisher.session && consumer.active &&
                connected.contains(consumer.transport))
                sinks[consumer.subscriber].insert(consumer.track_id);
        }
        // And who its data reaches: every other connected association the room's data goes to.
        std::set<SessionId> data_sinks;
        const SessionId sender = publisher.session;  // (clang 14 cannot capture a binding)
        const bool sends_data = std::any_of(truth.data.begin(), truth.data.end(), [&](auto& d) {
            return d.session == sender && d.sends && d.connected;
        });
        for (const sfu::DataFact& data : truth.data) {
            if (sends_data && data.session != publisher.session && data.receives &&
                data.connected) {
                data_sinks.insert(data.session);
                sinks[data.session];
            }
        }
        json audience = json::array();
        std::size_t unaccounted = 0;
        for (const auto& [session, tracks] : sinks) {
            auto who = by_session.find(session);
            json entry =
                who == by_session.end()
                    ? json{{"identity", nullptr}, {"name", "unknown receiver"}}
                    : json{{"identity", who->second->identity}, {"name", who->second->name}};
            if (who == by_session.end()) ++unaccounted;
            entry["tracks"] = tracks;
            if (data_sinks.contains(session)) entry["data"] = true;
            audience.push_back(std::move(entry));
        }
        json message = {
            {"type", "audience"}, {"audience", std::move(audience)}, {"unaccounted", unaccounted}};
        std::string text = to_text(message);
        auto sent = audience_sent_.find(publisher.session);
        if (sent != audience_sent_.end() && sent->second == text) continue;
        if (host_.tell(publisher.session, message))
            audience_sent_[publisher.session] = std::move(text);
    }
}

bool RollCall::fingerprint_allowed(std::string_view room_name, std::string_view identity,
                                   SessionId session, sfu::PeerRole role,
                                   const transport::SdpFingerprint& offered) {
    const room::Participant* self = roster_.find(room_name, identity);
    if (!self) return false;
    const auto& bound = role == sfu::PeerRole::publisher ? self->publisher_fingerprint
                                                         : self->subscriber_fingerprint;
    if (!bound || *bound == offered) return true;
    room::AuditEvent event;
    event.room = std::string(room_name);
    event.participant = std::string(identity);
    event.audit_class = std::string(room::to_string(room::AuditClass::fingerprint_mismatch));
    event.action = "refused";
    event.detected_after_ms = 0;
    event.evidence = {{"session", std::to_string(session)},
                      {"role", std::string(sfu::to_string(role))},
                      {"signaled", transport::to_string(*bound)},
                      {"offered", transport::to_string(offered)},
                      {"detail", "a new fingerprint in a renegotiation"}};
    record(std::move(event));
    return false;
}

json RollCall::media_json(std::string_view room_name) const {
    json out = {
        {"transports", json::array()}, {"consumers", json::array()}, {"data", json::array()}};
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
    for (const sfu::DataFact& data : it->second.data) {
        out["data"].push_back({{"transport", data.transport},
                               {"session", data.session},
                               {"role", sfu::to_string(data.role)},
                               {"connected", data.connected},
                               {"receives", data.receives},
                               {"sends", data.sends},
                               {"channels", data.channels},
                               {"messages_in", data.messages_in},
                               {"messages_out", data.messages_out}});
    }
    return out;
}

std::string RollCall::plant_stray_transport(std::string_view room_name, std::string_view identity) {
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

std::string RollCall::plant_stray_data(std::string_view room_name, std::string_view identity) {
    if (!media_) return "no media plane";
    const room::Participant* participant = roster_.find(room_name, identity);
    if (!participant) return "no such participant";
    media_->plant_stray_data(std::string(room_name), participant->session);
    return {};
}

std::string RollCall::plant_consumer(std::string_view room_name, std::string_view subscriber,
                                     std::string_view track_id) {
    if (!media_) return "no media plane";
    const room::Participant* participant = roster_.find(room_name, subscriber);
    if (!participant) return "no such participant";
    if (!roster_.find_track(room_name, track_id).second) return "no such track";
    media_->plant_consumer(std::string(room_name), participant->session, std::string(track_id));
    return {};
}

std::string RollCall::plant_fingerprint_swap(std::string_view room_name, std::string_view identity,
                                             sfu::PeerRole role) {
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

}  // namespace rollcall::signaling
