#include "room/RosterAuditor.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace rollcall::room {

std::string_view to_string(AuditClass audit_class) noexcept {
    switch (audit_class) {
        case AuditClass::not_on_roster:
            return "not_on_roster";
        case AuditClass::too_many_transports:
            return "too_many_transports";
        case AuditClass::fingerprint_mismatch:
            return "fingerprint_mismatch";
        case AuditClass::unauthorized_consumer:
            return "unauthorized_consumer";
        case AuditClass::peer_count:
            return "peer_count";
        case AuditClass::reconnect_expired:
            return "reconnect_grace_expired";
        case AuditClass::kicked:
            return "kicked";
        case AuditClass::unauthorized_data:
            return "unauthorized_data";
    }
    return "unknown";
}

namespace {

Finding transport_finding(AuditClass audit_class, const sfu::TransportFact& fact,
                          const Participant* participant) {
    Finding finding;
    finding.audit_class = audit_class;
    finding.action = Finding::Action::close_transport;
    finding.transport = fact.id;
    finding.role = fact.role;
    finding.session = fact.session;
    finding.since = fact.since;
    if (participant) finding.identity = participant->identity;
    finding.evidence = {
        {"transport", std::to_string(fact.id)},
        {"session", std::to_string(fact.session)},
        {"role", std::string(sfu::to_string(fact.role)) + (fact.echo ? " (echo)" : "")},
        {"connected", fact.connected ? "true" : "false"}};
    if (!fact.remote_address.empty())
        finding.evidence.emplace_back("remote_address", fact.remote_address);
    return finding;
}

// Whether the participant may hold a transport in this role at all: a publishing one only
// if it offered (which bound its fingerprint) and its grants allow it — canPublish, or, for a
// connection that carries no tracks (data channels only), canPublishData or canSubscribe; a
// receiving one only if it may subscribe.
bool may_hold(const Participant& participant, const sfu::TransportFact& fact,
              const sfu::RoomTruth& truth) {
    if (fact.role == sfu::PeerRole::publisher) {
        if (!participant.publisher_fingerprint) return false;
        if (participant.grants.can_publish) return true;
        const bool publishes_tracks =
            std::any_of(truth.producers.begin(), truth.producers.end(),
                        [&](const sfu::ProducerFact& p) { return p.publisher == fact.session; });
        return !publishes_tracks &&
               (participant.grants.can_publish_data || participant.grants.can_subscribe);
    }
    return participant.grants.can_subscribe;
}

// Why a data association is hidden, or "" when the roster accounts for it: data rides only
// on the connection a participant publishes on, and only someone who may subscribe receives
// the room's data.
std::string data_refusal(const Participant& participant, const sfu::DataFact& data) {
    if (data.role != sfu::PeerRole::publisher)
        return "a data association on a connection that never negotiated data channels";
    if (data.receives && !participant.grants.can_subscribe)
        return "room data delivered to a participant without canSubscribe";
    return {};
}

}  // namespace

std::vector<Finding> RosterAuditor::audit(const Room* room, const sfu::RoomTruth& truth) {
    std::vector<Finding> findings;
    std::map<sfu::SessionId, const Participant*> by_session;
    if (room) {
        for (const auto& [identity, participant] : room->participants)
            by_session[participant.session] = &participant;
    }
    auto holder = [&](sfu::SessionId session) -> const Participant* {
        auto it = by_session.find(session);
        return it == by_session.end() ? nullptr : it->second;
    };

    std::set<sfu::TransportId> closing;
    std::set<sfu::SessionId> media_sessions;
    // The oldest transport per (session, role) is the one the session holds; any other is extra.
    std::map<std::pair<sfu::SessionId, sfu::PeerRole>, const sfu::TransportFact*> held;
    for (const sfu::TransportFact& fact : truth.transports) {
        auto& slot = held[{fact.session, fact.role}];
        if (!slot || fact.id < slot->id) slot = &fact;
    }

    for (const sfu::TransportFact& fact : truth.transports) {
        media_sessions.insert(fact.session);
        const Participant* participant = holder(fact.session);
        if (!participant) {
            Finding finding = transport_finding(AuditClass::not_on_roster, fact, nullptr);
            finding.evidence.emplace_back("detail",
                                          "no participant on the roster holds this session");
            findings.push_back(std::move(finding));
            closing.insert(fact.id);
            continue;
        }
        const bool extra = held[{fact.session, fact.role}] != &fact;
        if (extra || !may_hold(*participant, fact, truth)) {
            Finding finding = transport_finding(AuditClass::too_many_transports, fact, participant);
            finding.evidence.emplace_back(
                "detail", extra ? "a second " + std::string(sfu::to_string(fact.role)) +
                                      " transport for one session"
                                : "the participant never asked for such a transport");
            findings.push_back(std::move(finding));
            closing.insert(fact.id);
            continue;
        }
        const auto& bound = fact.role == sfu::PeerRole::publisher
                                ? participant->publisher_fingerprint
                                : participant->subscriber_fingerprint;
        const bool signaled_differs =
            bound && !fact.signaled.value.empty() && fact.signaled != *bound;
        const bool peer_differs =
            bound && !fact.peer_fingerprint.empty() &&
            (fact.signaled.algorithm != bound->algorithm || fact.peer_fingerprint != bound->value);
        if (signaled_differs || peer_differs) {
            Finding finding =
                transport_finding(AuditClass::fingerprint_mismatch, fact, participant);
            finding.evidence.emplace_back("signaled", transport::to_string(*bound));
            finding.evidence.emplace_back("transport_expects", transport::to_string(fact.signaled));
            if (!fact.peer_fingerprint.empty())
                finding.evidence.emplace_back("presented", fact.peer_fingerprint);
            findings.push_back(std::move(finding));
            closing.insert(fact.id);
        }
    }

    for (const sfu::ConsumerFact& consumer : truth.consumers) {
        if (closing.contains(consumer.transport)) continue;  // goes with its transport
        const Participant* subscriber = holder(consumer.subscriber);
        std::string why;
        if (!subscriber) {
            why = "its subscriber is not on the roster";
        } else if (!subscriber->grants.can_subscribe) {
            why = "the subscriber may not subscribe";
        } else if (!subscriber->subscriptions.contains(consumer.track_id)) {
            why = "the subscriber has no subscription to the track";
        } else {
            const Participant* owner = holder(consumer.publisher);
            if (!owner || !owner->tracks.contains(consumer.track_id))
                why = "the roster has no such track from that publisher";
            else if (consumer.publisher == consumer.subscriber)
                why = "a participant's own track sent back to it";
        }
        if (why.empty()) continue;
        Finding finding;
        finding.audit_class = AuditClass::unauthorized_consumer;
        finding.action = Finding::Action::drop_consumer;
        finding.transport = consumer.transport;
        finding.track_id = consumer.track_id;
        finding.session = consumer.subscriber;
        finding.since = consumer.since;
        if (subscriber) finding.identity = subscriber->identity;
        finding.evidence = {{"transport", std::to_string(consumer.transport)},
                            {"track", consumer.track_id},
                            {"subscriber_session", std::to_string(consumer.subscriber)},
                            {"forwarding", consumer.active ? "true" : "false"},
                            {"detail", why}};
        if (const Participant* owner = holder(consumer.publisher))
            finding.evidence.emplace_back("publisher", owner->identity);
        findings.push_back(std::move(finding));
    }

    for (const sfu::DataFact& data : truth.data) {
        if (closing.contains(data.transport)) continue;  // goes with its transport
        const Participant* participant = holder(data.session);
        if (!participant) continue;  // its transport is not on the roster: found above
        const std::string why = data_refusal(*participant, data);
        if (why.empty()) continue;
        Finding finding;
        finding.audit_class = AuditClass::unauthorized_data;
        finding.action = Finding::Action::close_data;
        finding.transport = data.transport;
        finding.role = data.role;
        finding.session = data.session;
        finding.identity = participant->identity;
        finding.evidence = {{"transport", std::to_string(data.transport)},
                            {"role", std::string(sfu::to_string(data.role))},
                            {"connected", data.connected ? "true" : "false"},
                            {"channels", std::to_string(data.channels.size())},
                            {"detail", why}};
        findings.push_back(std::move(finding));
    }

    const std::size_t roster_count = room ? room->participants.size() : 0;
    if (media_sessions.size() > roster_count) {
        Finding finding;
        finding.audit_class = AuditClass::peer_count;
        finding.evidence = {{"media_peers", std::to_string(media_sessions.size())},
                            {"roster_participants", std::to_string(roster_count)}};
        auto oldest = std::min_element(
            truth.transports.begin(), truth.transports.end(), [&](const auto& a, const auto& b) {
                const bool a_hidden = !holder(a.session), b_hidden = !holder(b.session);
                if (a_hidden != b_hidden) return a_hidden;
                return a.since < b.since;
            });
        if (oldest != truth.transports.end()) finding.since = oldest->since;
        findings.push_back(std::move(finding));
    }
    return findings;
}

std::vector<std::pair<std::string, std::string>> RosterAuditor::overdue(const Roster& roster,
                                                                        Clock::time_point now,
                                                                        Clock::duration grace) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [name, room] : roster.rooms()) {
        for (const auto& [identity, participant] : room.participants) {
            if (participant.disconnected_since && now - *participant.disconnected_since >= grace)
                out.emplace_back(name, identity);
        }
    }
    return out;
}

}  // namespace rollcall::room
