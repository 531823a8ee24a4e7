// Tracks and subscriptions: unpublish, mute, (un)subscribe, and keeping the media plane's
// subscriptions in line with the roster (docs/protocol.md).
#include <nlohmann/json.hpp>
#include <set>

#include "signaling/ClientMessage.hpp"
#include "signaling/SignalingHub.hpp"

namespace rollcall::signaling {

using json = nlohmann::json;

void SignalingHub::remove_tracks(Connection& connection,
                                 const std::vector<std::string>& track_ids) {
    const room::Participant* self = roster_.find(connection.room, connection.identity);
    if (!self) return;
    const json who = {{"id", self->id}, {"identity", self->identity}};
    for (const auto& id : track_ids) {
        auto removed = roster_.remove_track(connection.room, connection.identity, id);
        if (!removed) continue;
        std::erase_if(connection.published, [&](const auto& entry) { return entry.second == id; });
        broadcast(connection.room,
                  {{"type", "track_unpublished"}, {"participant", who}, {"track", {{"id", id}}}},
                  connection.id);
    }
}

void SignalingHub::auto_subscribe(std::string_view room_name, const room::Participant& publisher,
                                  const room::Track& track) {
    const room::Room* room = roster_.find(room_name);
    if (!room) return;
    std::vector<std::string> subscribers;
    for (const auto& [identity, participant] : room->participants) {
        if (participant.session != publisher.session && participant.auto_subscribe &&
            participant.grants.can_subscribe) {
            subscribers.push_back(identity);
        }
    }
    for (const auto& identity : subscribers)
        subscribe_within_limit(room_name, identity, {track.id});
}

void SignalingHub::subscribe_within_limit(std::string_view room_name, std::string_view identity,
                                          const std::vector<std::string>& track_ids) {
    const room::Participant* participant = roster_.find(room_name, identity);
    if (!participant) return;
    std::vector<std::string> skipped;
    for (const auto& id : track_ids) {
        if (participant->subscriptions.contains(id)) continue;
        if (participant->subscriptions.size() >= config_.max_received_tracks) {
            skipped.push_back(id);
            continue;
        }
        roster_.subscribe(room_name, identity, id);
    }
    if (skipped.empty()) return;
    // Never silently: the participant learns which tracks it does not receive, and why.
    if (Connection* connection = joined(participant->session)) {
        send(*connection,
             {{"type", "error"},
              {"code", "too_many_subscriptions"},
              {"message", "you receive at most " + std::to_string(config_.max_received_tracks) +
                              " tracks; unsubscribe from some to receive these"},
              {"tracks", skipped}});
    }
}

void SignalingHub::sync_subscriptions(std::string_view room_name, std::string_view identity) {
    if (!media_) return;
    const room::Participant* participant = roster_.find(room_name, identity);
    if (!participant || !participant->grants.can_subscribe) return;
    auto it = connections_.find(participant->session);
    // A detached session keeps receiving what the room publishes meanwhile.
    if (it == connections_.end() || it->second.echo ||
        (it->second.state != State::joined && it->second.state != State::detached))
        return;
    std::set<std::string> ids(participant->subscriptions.begin(), participant->subscriptions.end());
    sfu::TrackSettingsMap& asked = it->second.track_settings;
    std::erase_if(asked, [&](const auto& entry) {
        return !roster_.find_track(room_name, entry.first).first;
    });
    sfu::TrackSettingsMap settings;
    for (const auto& [track, wanted] : asked)
        if (ids.contains(track)) settings.emplace(track, wanted);
    media_->set_subscriptions(participant->session, std::string(room_name), std::move(ids),
                              std::move(settings));
}

namespace {
constexpr std::uint64_t kMaxTrackSize = 8192;  // pixels, either way
}  // namespace

void SignalingHub::handle_track_settings(Connection& connection, const ClientMessage& message) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    const json& body = message.body;
    auto track = body.find("track");
    auto size = [&](const char* name, std::uint16_t& out) {
        auto v = body.find(name);
        if (v == body.end()) return true;
        if (!v->is_number_unsigned() || v->get<std::uint64_t>() > kMaxTrackSize) return false;
        out = static_cast<std::uint16_t>(v->get<std::uint64_t>());
        return true;
    };
    sfu::TrackSettings settings;
    auto paused = body.find("paused");
    const bool paused_ok = paused == body.end() || paused->is_boolean();
    if (track == body.end() || !track->is_string() || !size("maxWidth", settings.max_width) ||
        !size("maxHeight", settings.max_height) || !paused_ok) {
        send_error(connection, "malformed_message",
                   "track_settings needs a string \"track\"; \"maxWidth\" and \"maxHeight\" "
                   "are whole numbers up to " +
                       std::to_string(kMaxTrackSize) + ", \"paused\" a boolean",
                   ref);
        return;
    }
    settings.paused = paused != body.end() && paused->get<bool>();
    const std::string& id = track->get_ref<const std::string&>();
    auto [owner, found] = roster_.find_track(connection.room, id);
    if (!found || owner->session == connection.id) {
        send_error(connection, "track_not_found", "no track of another participant has that id",
                   ref);
        return;
    }
    if (settings == sfu::TrackSettings{})
        connection.track_settings.erase(id);
    else
        connection.track_settings[id] = settings;
    sync_subscriptions(connection.room, connection.identity);
    json reply = {{"type", "track_settings"},
                  {"track", id},
                  {"maxWidth", settings.max_width},
                  {"maxHeight", settings.max_height},
                  {"paused", settings.paused}};
    if (ref) reply["ref"] = *ref;
    send(connection, reply);
}

void SignalingHub::sync_room_subscriptions(std::string_view room_name, SessionId except) {
    const room::Room* room = roster_.find(room_name);
    if (!room) return;
    std::vector<std::string> identities;
    for (const auto& [identity, participant] : room->participants) {
        if (participant.session != except) identities.push_back(identity);
    }
    for (const auto& identity : identities) sync_subscriptions(room_name, identity);
}

void SignalingHub::handle_unpublish(Connection& connection, const ClientMessage& message) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    auto track = message.body.find("track");
    if (track == message.body.end() || !track->is_string()) {
        send_error(connection, "malformed_message", "unpublish needs a string \"track\"", ref);
        return;
    }
    const std::string& id = track->get_ref<const std::string&>();
    const room::Participant* self = roster_.find(connection.room, connection.identity);
    if (!self || !self->tracks.contains(id)) {
        send_error(connection, "track_not_found", "you publish no track with that id", ref);
        return;
    }
    if (media_) media_->unpublish(connection.id, id);
    remove_tracks(connection, {id});
    json reply = {{"type", "unpublished"}, {"track", id}};
    if (ref) reply["ref"] = *ref;
    send(connection, reply);
}

void SignalingHub::handle_mute(Connection& connection, const ClientMessage& message) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    auto track = message.body.find("track");
    auto muted = message.body.find("muted");
    if (track == message.body.end() || !track->is_string() || muted == message.body.end() ||
        !muted->is_boolean()) {
        send_error(connection, "malformed_message",
                   "mute needs a string \"track\" and a boolean \"muted\"", ref);
        return;
    }
    const std::string& id = track->get_ref<const std::string&>();
    auto [owner, mine] = roster_.find_track(connection.room, id);
    if (mine && owner->session == connection.id && mine->admin_muted && !muted->get<bool>()) {
        send_error(connection, "muted_by_admin",
                   "an administrator muted this track; only one may unmute it", ref);
        return;
    }
    if (!roster_.set_muted(connection.room, connection.identity, id, muted->get<bool>())) {
        send_error(connection, "track_not_found", "you publish no track with that id", ref);
        return;
    }
    const room::Participant* self = roster_.find(connection.room, connection.identity);
    broadcast(connection.room,
              {{"type", "track_muted"},
               {"participant", {{"id", self->id}, {"identity", self->identity}}},
               {"track", id},
               {"muted", muted->get<bool>()}},
              connection.id);
    json reply = {{"type", "muted"}, {"track", id}, {"muted", muted->get<bool>()}};
    if (ref) reply["ref"] = *ref;
    send(connection, reply);
}

SignalingHub::MuteResult SignalingHub::admin_mute(std::string_view room_name,
                                                  std::string_view identity,
                                                  std::string_view track_id, bool muted) {
    if (!roster_.find(room_name)) return MuteResult::room_not_found;
    const room::Participant* participant = roster_.find(room_name, identity);
    if (!participant) return MuteResult::participant_not_found;
    if (!roster_.set_admin_muted(room_name, identity, track_id, muted))
        return MuteResult::track_not_found;
    if (media_) media_->set_track_paused(std::string(room_name), std::string(track_id), muted);
    broadcast(room_name,
              {{"type", "track_muted"},
               {"participant", {{"id", participant->id}, {"identity", participant->identity}}},
               {"track", track_id},
               {"muted", muted},
               {"by", "admin"}},
              participant->session);
    // Also to a session whose link dropped: its resume replays it.
    if (auto it = connections_.find(participant->session);
        it != connections_.end() &&
        (it->second.state == State::joined || it->second.state == State::detached)) {
        send(it->second,
             {{"type", "muted"}, {"track", track_id}, {"muted", muted}, {"by", "admin"}});
    }
    room::AuditEvent event;
    event.room = std::string(room_name);
    event.participant = participant->identity;
    event.audit_class = muted ? "admin_muted" : "admin_unmuted";
    event.action = event.audit_class;
    event.evidence = {{"track", std::string(track_id)}};
    roll_call_.record(std::move(event));
    return MuteResult::done;
}

void SignalingHub::handle_subscribe(Connection& connection, const ClientMessage& message,
                                    bool subscribe) {
    const json* ref = message.ref.is_null() ? nullptr : &message.ref;
    const char* verb = subscribe ? "subscribe" : "unsubscribe";
    const room::Participant* self = roster_.find(connection.room, connection.identity);
    if (!self || !self->grants.can_subscribe) {
        send_error(connection, "permission_denied", "the token does not grant canSubscribe", ref);
        return;
    }
    if (connection.echo) {
        send_error(connection, "not_supported", "an echo session cannot subscribe", ref);
        return;
    }
    auto tracks = message.body.find("tracks");
    constexpr std::size_t kMaxTracksPerRequest = 64;
    if (tracks == message.body.end() || !tracks->is_array() || tracks->empty() ||
        tracks->size() > kMaxTracksPerRequest) {
        send_error(connection, "malformed_message",
                   std::string(verb) + " needs \"tracks\": 1 to 64 track ids", ref);
        return;
    }
    for (const auto& id : *tracks) {
        if (!id.is_string()) {
            send_error(connection, "malformed_message", "track ids are strings", ref);
            return;
        }
        auto [owner, track] = roster_.find_track(connection.room, id.get_ref<const std::string&>());
        if (!track || owner == self) {
            send_error(connection, "track_not_found",
                       "no other participant in the room publishes track " +
                           id.get<std::string>().substr(0, 64),
                       ref);
            return;
        }
    }
    if (subscribe) {
        std::set<std::string> wanted(self->subscriptions.begin(), self->subscriptions.end());
        for (const auto& id : *tracks) wanted.insert(id.get<std::string>());
        if (wanted.size() > config_.max_received_tracks) {
            send_error(connection, "too_many_subscriptions",
                       "you receive at most " + std::to_string(config_.max_received_tracks) +
                           " tracks; unsubscribe from some first",
                       ref);
            return;
        }
    }
    for (const auto& id : *tracks) {
        if (subscribe)
            roster_.subscribe(connection.room, connection.identity,
                              id.get_ref<const std::string&>());
        else
            roster_.unsubscribe(connection.room, connection.identity,
                                id.get_ref<const std::string&>());
    }
    sync_subscriptions(connection.room, connection.identity);
    self = roster_.find(connection.room, connection.identity);
    json reply = {{"type", subscribe ? "subscribed" : "unsubscribed"},
                  {"subscriptions", self->subscriptions}};
    if (ref) reply["ref"] = *ref;
    send(connection, reply);
}

}  // namespace rollcall::signaling
