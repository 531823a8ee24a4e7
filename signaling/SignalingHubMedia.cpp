// The media half of the signaling protocol: publish (echo and conference), subscriptions,
// mute, trickle, and the media plane's events (docs/protocol.md).
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "sfu/OfferPlan.hpp"
#include "signaling/ClientMessage.hpp"
#include "signaling/Random.hpp"
#include "signaling/SignalingHub.hpp"
#include "transport/AddressPolicy.hpp"
#include "transport/Sdp.hpp"

namespace rollcall::signaling {

using json = nlohmann::json;

json rejected_json(const std::vector<sfu::RejectedSection>& rejected) {
    json out = json::array();
    for (const auto& r : rejected) {
        out.push_back({{"mid", r.mid},
                       {"kind", transport::to_string(r.kind)},
                       {"code", r.code},
                       {"message", r.message}});
    }
    return out;
}

void SignalingHub::handle_publish(Connection& connection, const ClientMessage& message) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    if (!media_) {
        send_error(connection, "media_unavailable", "this server runs without a media plane", ref);
        return;
    }
    const room::Participant* self = roster_.find(connection.room, connection.identity);
    // Without canPublish, a participant may still offer a connection that carries only data
    // channels, to send (canPublishData) or to receive the room's data (canSubscribe).
    const bool data_only_allowed =
        self && (self->grants.can_publish_data || self->grants.can_subscribe);
    if (!self || (!self->grants.can_publish && !data_only_allowed)) {
        send_error(connection, "permission_denied", "the token does not grant canPublish", ref);
        return;
    }
    if (auto echo = message.body.find("echo"); echo != message.body.end()) {
        if (!echo->is_boolean()) {
            send_error(connection, "malformed_message", "\"echo\" must be a boolean", ref);
            return;
        }
        if (echo->get<bool>() && self->grants.can_publish) {
            handle_publish_echo(connection, message);
            return;
        }
    }
    if (connection.echo) {
        send_error(connection, "already_publishing", "this session publishes in echo mode", ref);
        return;
    }
    if (connection.publish_pending) {
        send_error(connection, "negotiation_in_progress",
                   "wait for the answer to the previous offer", ref);
        return;
    }
    // Optional: what each of the offer's sections carries ("camera", "microphone", "screen").
    const json* sources = nullptr;
    if (auto it = message.body.find("sources"); it != message.body.end()) {
        if (!it->is_object()) {
            send_error(connection, "malformed_message",
                       "\"sources\" must map mids to \"camera\", \"microphone\" or \"screen\"",
                       ref);
            return;
        }
        for (const auto& [mid, source] : it->items()) {
            if (!source.is_string() ||
                (source != "camera" && source != "microphone" && source != "screen")) {
                send_error(connection, "malformed_message",
                           "\"sources\" must map mids to \"camera\", \"microphone\" or \"screen\"",
                           ref);
                return;
            }
        }
        sources = &*it;
    }
    auto plan = plan_offer(connection, message, sfu::OfferMode::publish);
    if (!plan) return;
    if (!grant_data(connection, *self, *plan, ref)) return;
    // The first offer binds the participant's publishing fingerprint; a later one must match.
    if (!check_fingerprint(connection, sfu::PeerRole::publisher, plan->remote.fingerprint, ref))
        return;
    roster_.bind_fingerprint(connection.room, connection.identity, sfu::PeerRole::publisher,
                             plan->remote.fingerprint);
    std::vector<room::Track> tracks = name_tracks(connection, *plan, sources);
    if (connection.media_mid.empty())
        connection.media_mid = plan->tracks.empty() ? plan->data->mid : plan->tracks.front().mid;
    connection.publish_pending = true;
    json rejected = rejected_json(plan->rejected);
    const SessionId session = connection.id;
    media_->publish(
        session, connection.room, std::move(*plan),
        [this, session, reference = message.ref, tracks = std::move(tracks),
         rejected = std::move(rejected)](sfu::MediaResult result, std::string answer) mutable {
            publish_done(session, reference, result, answer, std::move(tracks),
                         std::move(rejected));
        });
}

// Without canPublish only a data-only offer is taken; a data section learns what the token
// lets its sender do with the room's data. False (and the client told) when refused.
bool SignalingHub::grant_data(Connection& connection, const room::Participant& self,
                              sfu::OfferPlan& plan, const json* ref) {
    if (!self.grants.can_publish && !plan.tracks.empty()) {
        send_error(connection, "permission_denied",
                   "the token does not grant canPublish: offer only a data-channel section", ref);
        return false;
    }
    if (plan.data) {
        connection.data = true;
        plan.data->identity = connection.identity;
        plan.data->may_send = self.grants.can_publish_data;
        plan.data->may_receive = self.grants.can_subscribe;
    }
    return true;
}

// The roster's tracks for a planned offer: a section that keeps its mid (and kind) keeps its
// track id and mute state; each plan track learns its id.
std::vector<room::Track> SignalingHub::name_tracks(const Connection& connection,
                                                   sfu::OfferPlan& plan, const json* sources) {
    std::vector<room::Track> tracks;
    for (sfu::OfferedTrack& offered : plan.tracks) {
        const std::string kind(transport::to_string(offered.kind));
        room::Track track;
        auto known = connection.published.find(offered.mid);
        const room::Track* existing = nullptr;
        if (known != connection.published.end())
            existing = roster_.find_track(connection.room, known->second).second;
        track.id = existing && existing->kind == kind ? existing->id : random_id("TR_");
        track.kind = kind;
        track.mid = offered.mid;
        track.codec = offered.codec;
        track.muted = existing ? existing->muted : false;
        track.source = offered.kind == transport::MediaKind::audio ? "microphone" : "camera";
        if (sources && sources->contains(offered.mid))
            track.source = (*sources)[offered.mid].get<std::string>();
        offered.track_id = track.id;
        tracks.push_back(std::move(track));
    }
    return tracks;
}

void SignalingHub::publish_done(SessionId session, const json& reference,
                                const sfu::MediaResult& result, const std::string& answer,
                                std::vector<room::Track> tracks, json rejected) {
    auto it = connections_.find(session);
    if (it == connections_.end() || it->second.state == State::closing) return;
    Connection& connection = it->second;
    connection.publish_pending = false;
    const json* ref = reference.is_null() ? nullptr : &reference;
    if (!result.ok()) {
        if (connection.published.empty() && !connection.data) connection.media_mid.clear();
        send_error(connection, sfu::to_string(result.code), result.message, ref);
        return;
    }
    const room::Participant* self = roster_.find(connection.room, connection.identity);
    if (!self || self->session != session) return;
    // Tracks the new offer no longer carries are unpublished; new ones are published.
    std::vector<std::string> gone;
    for (const auto& entry : self->tracks) {
        const std::string& id = entry.first;  // (clang 14 cannot capture a structured binding)
        const bool kept = std::any_of(tracks.begin(), tracks.end(),
                                      [&](const room::Track& t) { return t.id == id; });
        if (!kept) gone.push_back(id);
    }
    remove_tracks(connection, gone);
    connection.published.clear();
    std::vector<room::Track> added;
    for (room::Track& track : tracks) {
        connection.published[track.mid] = track.id;
        if (roster_.add_track(connection.room, connection.identity, track)) added.push_back(track);
    }
    json reply = {{"type", "answer"},
                  {"sdp", answer},
                  {"tracks", json::array()},
                  {"rejected", std::move(rejected)}};
    for (const auto& track : tracks) {
        json entry = track_json(track);
        entry["mid"] = track.mid;
        reply["tracks"].push_back(std::move(entry));
    }
    if (ref) reply["ref"] = *ref;
    send(connection, reply);
    self = roster_.find(connection.room, connection.identity);
    for (const room::Track& track : added) {
        broadcast(connection.room,
                  {{"type", "track_published"},
                   {"participant", {{"id", self->id}, {"identity", self->identity}}},
                   {"track", track_json(track)}},
                  session);
        auto_subscribe(connection.room, *self, track);
    }
    if (!added.empty()) sync_room_subscriptions(connection.room, session);
}

void SignalingHub::handle_subscribe_answer(Connection& connection, const ClientMessage& message) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    auto sdp = message.body.find("sdp");
    auto version = message.body.find("version");
    if (sdp == message.body.end() || !sdp->is_string() || version == message.body.end() ||
        !version->is_number_unsigned()) {
        send_error(connection, "malformed_message",
                   "subscribe_answer needs a string \"sdp\" and the offer's \"version\"", ref);
        return;
    }
    if (version->get<std::uint64_t>() == connection.awaited_answer) connection.awaited_answer = 0;
    sfu::MediaResult error;
    auto answer = sfu::plan_subscriber_answer(sdp->get_ref<const std::string&>(), error);
    if (!answer) {
        record_refusal(connection, sfu::PeerRole::subscriber, error);
        send_error(connection, sfu::to_string(error.code), error.message, ref);
        return;
    }
    const SessionId session = connection.id;
    if (!media_ || !media_->has(session) || media_->has_echo(session)) {
        send_error(connection, "no_transport", "there is no subscription to answer", ref);
        return;
    }
    if (!check_fingerprint(connection, sfu::PeerRole::subscriber, answer->remote.fingerprint,
                           ref)) {
        return;
    }
    roster_.bind_fingerprint(connection.room, connection.identity, sfu::PeerRole::subscriber,
                             answer->remote.fingerprint);
    media_->subscriber_answer(session, std::move(*answer), version->get<std::uint64_t>(),
                              [this, session, reference = message.ref](sfu::MediaResult result) {
                                  Connection* still = joined(session);
                                  if (!still) return;
                                  send_error(*still, sfu::to_string(result.code), result.message,
                                             reference.is_null() ? nullptr : &reference);
                              });
}

void SignalingHub::handle_publish_echo(Connection& connection, const ClientMessage& message) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    const room::Participant* self = roster_.find(connection.room, connection.identity);
    if (!self->grants.can_subscribe) {
        send_error(connection, "permission_denied", "echo needs canSubscribe as well", ref);
        return;
    }
    auto plan = plan_offer(connection, message);
    if (!plan) return;
    const SessionId session = connection.id;
    if (media_->has(session)) {
        send_error(connection, "already_publishing", "this session already has a transport", ref);
        return;
    }
    if (!check_fingerprint(connection, sfu::PeerRole::publisher, plan->remote.fingerprint, ref)) {
        return;
    }
    roster_.bind_fingerprint(connection.room, connection.identity, sfu::PeerRole::publisher,
                             plan->remote.fingerprint);
    connection.echo = true;
    connection.media_mid = plan->tracks.front().mid;
    json rejected = rejected_json(plan->rejected);
    media_->publish_echo(session, connection.room, std::move(*plan),
                         [this, session, reference = message.ref, rejected = std::move(rejected)](
                             sfu::MediaResult result, std::string answer) mutable {
                             deliver_answer(session, reference, result, answer,
                                            std::move(rejected));
                         });
}

std::optional<sfu::OfferPlan> SignalingHub::plan_offer(Connection& connection,
                                                       const ClientMessage& message,
                                                       sfu::OfferMode mode) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    auto sdp = message.body.find("sdp");
    if (sdp == message.body.end() || !sdp->is_string()) {
        send_error(connection, "malformed_message", "needs a string \"sdp\" (an offer)", ref);
        return std::nullopt;
    }
    sfu::MediaResult error;
    auto plan = sfu::plan_offer(sdp->get_ref<const std::string&>(), mode, error);
    if (!plan) {
        record_refusal(connection, sfu::PeerRole::publisher, error);
        send_error(connection, sfu::to_string(error.code), error.message, ref);
    }
    return plan;
}

void SignalingHub::record_refusal(const Connection& connection, sfu::PeerRole role,
                                  const sfu::MediaResult& error) {
    // Offers that would weaken the media's protection are evidence, not just mistakes.
    const bool unprotected = error.code == sfu::MediaError::sdes_not_supported ||
                             error.code == sfu::MediaError::fingerprint_missing ||
                             error.code == sfu::MediaError::unsupported_transport;
    if (!unprotected) return;
    room::AuditEvent event;
    event.room = connection.room;
    event.participant = connection.identity;
    event.audit_class = std::string(sfu::to_string(error.code));
    event.action = "refused";
    event.detected_after_ms = 0;
    event.evidence = {{"session", std::to_string(connection.id)},
                      {"role", std::string(sfu::to_string(role))},
                      {"detail", error.message}};
    roll_call_.record(std::move(event));
}

bool SignalingHub::check_fingerprint(Connection& connection, sfu::PeerRole role,
                                     const transport::SdpFingerprint& offered, const json* ref) {
    if (roll_call_.fingerprint_allowed(connection.room, connection.identity, connection.id, role,
                                       offered)) {
        return true;
    }
    send_error(connection, "fingerprint_changed",
               "the DTLS fingerprint differs from the one this session signaled", ref);
    return false;
}

void SignalingHub::deliver_answer(SessionId session, const json& reference,
                                  const sfu::MediaResult& result, const std::string& answer,
                                  json rejected) {
    auto it = connections_.find(session);
    if (it == connections_.end() || it->second.state == State::closing) {
        if (media_) media_->close(session);
        return;
    }
    const json* ref = reference.is_null() ? nullptr : &reference;
    if (!result.ok()) {
        end_media(it->second);
        send_error(it->second, sfu::to_string(result.code), result.message, ref);
        return;
    }
    json reply = {{"type", "answer"}, {"sdp", answer}, {"rejected", std::move(rejected)}};
    if (ref) reply["ref"] = *ref;
    send(it->second, reply);
}

void SignalingHub::handle_renegotiate(Connection& connection, const ClientMessage& message) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    auto plan = plan_offer(connection, message);
    if (!plan) return;
    const SessionId session = connection.id;
    if (!media_ || !media_->has_echo(session)) {
        send_error(connection, "no_transport",
                   "renegotiate restarts an echo transport; conferencing sends a new publish offer",
                   ref);
        return;
    }
    media_->restart_ice(
        session, std::move(plan->remote),
        [this, session, reference = message.ref, rejected = rejected_json(plan->rejected)](
            sfu::MediaResult result, std::string answer) mutable {
            deliver_answer(session, reference, result, answer, std::move(rejected));
        });
}

void SignalingHub::handle_trickle(Connection& connection, const ClientMessage& message) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    auto candidate = message.body.find("candidate");
    if (candidate == message.body.end() || candidate->is_null() ||
        (candidate->is_string() && candidate->get_ref<const std::string&>().empty())) {
        return;  // end of candidates
    }
    if (!candidate->is_string()) {
        send_error(connection, "malformed_message", "\"candidate\" must be a string", ref);
        return;
    }
    auto parsed = sfu::parse_remote_candidate(candidate->get_ref<const std::string&>());
    if (!parsed) {
        send_error(connection, "bad_candidate", "not an ICE candidate line", ref);
        return;
    }
    if (!transport::candidate_address_allowed(parsed->address, config_.media_network())) {
        const std::string scope(transport::to_string(transport::address_scope(parsed->address)));
        send_error(connection, "candidate_refused",
                   "the server does not send to " + scope + " addresses", ref);
        return;
    }
    auto role = sfu::PeerRole::publisher;
    if (auto target = message.body.find("target"); target != message.body.end()) {
        if (*target == "subscriber") {
            role = sfu::PeerRole::subscriber;
        } else if (*target != "publisher") {
            send_error(connection, "malformed_message",
                       "\"target\" is \"publisher\" or \"subscriber\"", ref);
            return;
        }
    }
    if (!media_ || !media_->has(connection.id)) {
        send_error(connection, "no_transport",
                   "publish or answer a subscription first; then trickle", ref);
        return;
    }
    media_->add_remote_candidate(connection.id, role, *parsed);
}

void SignalingHub::handle_restart_ice(Connection& connection, const ClientMessage& message) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    auto target = message.body.find("target");
    if (target == message.body.end() || *target != "subscriber") {
        send_error(connection, "malformed_message",
                   "restart_ice takes \"target\": \"subscriber\"; the publisher restarts ICE "
                   "with a new publish offer (pc.restartIce())",
                   ref);
        return;
    }
    if (!media_ || connection.subscriber_mid.empty() || !media_->has(connection.id)) {
        send_error(connection, "no_transport", "there is no subscriber connection to restart", ref);
        return;
    }
    // The reply is the next subscribe_offer, with the server's new ICE credentials.
    media_->restart_subscriber_ice(connection.id);
}

void SignalingHub::end_media(Connection& connection) {
    if (media_ && media_->has(connection.id)) media_->close(connection.id);
    connection.media_mid.clear();
    connection.subscriber_mid.clear();
    connection.published.clear();
    connection.echo = false;
}

void SignalingHub::on_media_candidate(SessionId session, sfu::PeerRole role,
                                      const transport::SdpCandidate& candidate) {
    auto it = connections_.find(session);
    if (it == connections_.end() || it->second.state == State::closing) return;
    const Connection& c = it->second;
    send(it->second,
         {{"type", "trickle"},
          {"target", sfu::to_string(role)},
          {"candidate", transport::write_candidate(candidate)},
          {"sdpMid", role == sfu::PeerRole::publisher ? c.media_mid : c.subscriber_mid}});
}

void SignalingHub::on_media_connected(SessionId session, sfu::PeerRole role,
                                      const sfu::MediaConnectedInfo& info) {
    auto it = connections_.find(session);
    if (it == connections_.end() || it->second.state == State::closing) return;
    send(it->second, {{"type", "media"},
                      {"target", sfu::to_string(role)},
                      {"state", "connected"},
                      {"dtls", {{"version", info.dtls_version}, {"cipher", info.cipher}}},
                      {"srtp", info.srtp_profile}});
}

void SignalingHub::on_data_closed(SessionId session, const std::string& reason) {
    auto it = connections_.find(session);
    if (it == connections_.end() || it->second.state == State::closing) return;
    const char* message = reason == "slow_receiver"
                              ? "the server closed your data channels: you stopped reading them"
                              : "the server closed your data channels";
    send(it->second, {{"type", "data_closed"}, {"reason", reason}, {"message", message}});
}

void SignalingHub::on_video_off(SessionId session, const std::string& track_id, bool off) {
    auto it = connections_.find(session);
    if (it == connections_.end() || it->second.state == State::closing) return;
    json message = {{"type", "stream_state"},
                    {"track", track_id},
                    {"state", off ? "paused" : "active"},
                    {"reason", "bandwidth"}};
    if (off) message["message"] = "your connection cannot carry this video now: audio goes on";
    send(it->second, std::move(message));
}

void SignalingHub::on_media_failed(SessionId session, sfu::PeerRole role,
                                   const std::string& reason) {
    auto it = connections_.find(session);
    if (it == connections_.end()) return;
    Connection& connection = it->second;
    if (connection.echo || connection.state == State::closing) {
        end_media(connection);
    } else if (role == sfu::PeerRole::publisher) {
        // The worker dropped the transport and its producers: the tracks are gone.
        std::vector<std::string> ids;
        for (const auto& [mid, id] : connection.published) ids.push_back(id);
        remove_tracks(connection, ids);
        connection.media_mid.clear();
    } else {
        connection.subscriber_mid.clear();
    }
    if (connection.state == State::closing) return;
    // That connection's transport is gone: a new peer connection brings its own certificate.
    if (!connection.echo)
        roster_.release_fingerprint(connection.room, connection.identity, session, role);
    send(connection, {{"type", "media"},
                      {"target", sfu::to_string(role)},
                      {"state", "failed"},
                      {"reason", reason}});
}

void SignalingHub::media_failed(SessionId session, sfu::PeerRole role, const std::string& reason) {
    on_media_failed(session, role, reason);
}

void SignalingHub::on_media_truth(const sfu::MediaTruth& truth) {
    roll_call_.on_media_truth(truth);
}

void SignalingHub::on_subscriber_offer(SessionId session, const sfu::SubscriberOffer& offer) {
    auto it = connections_.find(session);
    // A detached session keeps the offer for its resume.
    if (it == connections_.end() ||
        (it->second.state != State::joined && it->second.state != State::detached))
        return;
    Connection& connection = it->second;
    json tracks = json::array();
    for (const sfu::OfferedSlot& slot : offer.slots) {
        json entry = {
            {"mid", slot.mid}, {"kind", transport::to_string(slot.kind)}, {"track", nullptr}};
        if (!slot.track_id.empty()) {
            auto [owner, track] = roster_.find_track(connection.room, slot.track_id);
            entry["track"] = slot.track_id;
            if (owner && track) {
                entry["participant"] = {
                    {"id", owner->id}, {"identity", owner->identity}, {"name", owner->name}};
                entry["source"] = track->source;
                entry["muted"] = track->muted;
            }
        }
        tracks.push_back(std::move(entry));
    }
    if (connection.subscriber_mid.empty() && !offer.slots.empty())
        connection.subscriber_mid = offer.slots.front().mid;
    connection.awaited_answer = offer.version;
    send(connection, {{"type", "subscribe_offer"},
                      {"sdp", offer.sdp},
                      {"version", offer.version},
                      {"tracks", std::move(tracks)}});
}

}  // namespace rollcall::signaling
