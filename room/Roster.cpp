#include "room/Roster.hpp"

#include <ctime>
#include <utility>

namespace rollcall::room {

namespace {
std::int64_t unix_now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}
}  // namespace

JoinOutcome Roster::join(std::string_view room_name, Participant participant) {
    JoinOutcome outcome;
    auto it = rooms_.find(room_name);
    if (it == rooms_.end()) {
        if (!limits_.auto_create) {
            outcome.error = JoinError::room_not_found;
            return outcome;
        }
        if (rooms_.size() >= limits_.max_rooms) {
            outcome.error = JoinError::too_many_rooms;
            return outcome;
        }
        Room created;
        created.name = std::string(room_name);
        created.created_at_unix = unix_now();
        it = rooms_.emplace(created.name, std::move(created)).first;
    }
    Room& room = it->second;
    auto existing = room.participants.find(participant.identity);
    if (existing == room.participants.end() &&
        room.participants.size() >= limits_.max_participants_per_room) {
        outcome.error = JoinError::room_full;
        return outcome;
    }
    if (existing != room.participants.end()) {
        outcome.replaced = std::move(existing->second);
        room.participants.erase(existing);
        forget_tracks(room, *outcome.replaced);
    }
    participant.joined_at_unix = unix_now();
    const std::string identity = participant.identity;
    auto inserted = room.participants.emplace(identity, std::move(participant)).first;
    room.empty_since.reset();
    outcome.joined = &inserted->second;
    return outcome;
}

std::optional<Participant> Roster::leave(std::string_view room, std::string_view identity,
                                         std::uint64_t session, Clock::time_point now) {
    return erase(room, identity, &session, now);
}

std::optional<Participant> Roster::remove(std::string_view room, std::string_view identity,
                                          Clock::time_point now) {
    return erase(room, identity, nullptr, now);
}

std::optional<Participant> Roster::erase(std::string_view room_name, std::string_view identity,
                                         const std::uint64_t* session, Clock::time_point now) {
    auto room = rooms_.find(room_name);
    if (room == rooms_.end()) return std::nullopt;
    auto it = room->second.participants.find(identity);
    if (it == room->second.participants.end()) return std::nullopt;
    if (session && it->second.session != *session) return std::nullopt;
    Participant removed = std::move(it->second);
    room->second.participants.erase(it);
    forget_tracks(room->second, removed);
    if (room->second.participants.empty()) room->second.empty_since = now;
    return removed;
}

bool Roster::create_room(std::string_view room_name, Clock::time_point now) {
    if (rooms_.contains(room_name) || rooms_.size() >= limits_.max_rooms) return false;
    Room created;
    created.name = std::string(room_name);
    created.created_at_unix = unix_now();
    created.empty_since = now;
    rooms_.emplace(created.name, std::move(created));
    return true;
}

std::optional<std::vector<Participant>> Roster::close_room(std::string_view room_name) {
    auto room = rooms_.find(room_name);
    if (room == rooms_.end()) return std::nullopt;
    std::vector<Participant> removed;
    removed.reserve(room->second.participants.size());
    for (auto& [identity, participant] : room->second.participants) {
        removed.push_back(std::move(participant));
    }
    rooms_.erase(room);
    return removed;
}

std::vector<std::string> Roster::expire_empty_rooms(Clock::time_point now) {
    std::vector<std::string> closed;
    for (auto it = rooms_.begin(); it != rooms_.end();) {
        const Room& room = it->second;
        if (room.participants.empty() && room.empty_since &&
            now - *room.empty_since >= limits_.empty_timeout) {
            closed.push_back(it->first);
            it = rooms_.erase(it);
        } else {
            ++it;
        }
    }
    return closed;
}

const Room* Roster::find(std::string_view room) const {
    auto it = rooms_.find(room);
    return it == rooms_.end() ? nullptr : &it->second;
}

const Participant* Roster::find(std::string_view room_name, std::string_view identity) const {
    const Room* room = find(room_name);
    if (!room) return nullptr;
    auto it = room->participants.find(identity);
    return it == room->participants.end() ? nullptr : &it->second;
}

bool Roster::bind_fingerprint(std::string_view room, std::string_view identity, sfu::PeerRole role,
                              const transport::SdpFingerprint& fingerprint) {
    Participant* participant = find_mutable(room, identity);
    if (!participant) return false;
    auto& bound = role == sfu::PeerRole::publisher ? participant->publisher_fingerprint
                                                   : participant->subscriber_fingerprint;
    if (bound) return *bound == fingerprint;
    bound = fingerprint;
    return true;
}

void Roster::release_fingerprint(std::string_view room, std::string_view identity,
                                 std::uint64_t session, sfu::PeerRole role) {
    Participant* participant = find_mutable(room, identity);
    if (!participant || participant->session != session) return;
    (role == sfu::PeerRole::publisher ? participant->publisher_fingerprint
                                      : participant->subscriber_fingerprint)
        .reset();
}

bool Roster::mark_resumed(std::string_view room, std::string_view identity, std::uint64_t session,
                          const std::string& credential, std::int64_t credential_expires_unix) {
    Participant* participant = find_mutable(room, identity);
    if (!participant || participant->session != session) return false;
    participant->disconnected_since.reset();
    if (credential != participant->credential) {
        participant->resumed_credential = credential;
        participant->resumed_credential_expires_unix = credential_expires_unix;
    }
    return true;
}

bool Roster::mark_disconnected(std::string_view room, std::string_view identity,
                               std::uint64_t session, Clock::time_point now) {
    Participant* participant = find_mutable(room, identity);
    if (!participant || participant->session != session) return false;
    participant->disconnected_since = now;
    return true;
}

Participant* Roster::find_mutable(std::string_view room_name, std::string_view identity) {
    auto room = rooms_.find(room_name);
    if (room == rooms_.end()) return nullptr;
    auto it = room->second.participants.find(identity);
    return it == room->second.participants.end() ? nullptr : &it->second;
}

void Roster::forget_tracks(Room& room, const Participant& owner) {
    for (auto& [identity, participant] : room.participants) {
        for (const auto& [id, track] : owner.tracks) participant.subscriptions.erase(id);
    }
}

bool Roster::add_track(std::string_view room, std::string_view identity, Track track) {
    Participant* participant = find_mutable(room, identity);
    if (!participant || track.id.empty()) return false;
    std::string id = track.id;
    return participant->tracks.emplace(std::move(id), std::move(track)).second;
}

std::optional<Track> Roster::remove_track(std::string_view room_name, std::string_view identity,
                                          std::string_view track_id) {
    Participant* participant = find_mutable(room_name, identity);
    if (!participant) return std::nullopt;
    auto it = participant->tracks.find(track_id);
    if (it == participant->tracks.end()) return std::nullopt;
    Track removed = std::move(it->second);
    participant->tracks.erase(it);
    for (auto& [other_identity, other] : rooms_.find(room_name)->second.participants)
        other.subscriptions.erase(removed.id);
    return removed;
}

bool Roster::set_muted(std::string_view room, std::string_view identity, std::string_view track_id,
                       bool muted) {
    Participant* participant = find_mutable(room, identity);
    if (!participant) return false;
    auto it = participant->tracks.find(track_id);
    if (it == participant->tracks.end()) return false;
    it->second.muted = muted;
    return true;
}

bool Roster::set_admin_muted(std::string_view room, std::string_view identity,
                             std::string_view track_id, bool muted) {
    Participant* participant = find_mutable(room, identity);
    if (!participant) return false;
    auto it = participant->tracks.find(track_id);
    if (it == participant->tracks.end()) return false;
    it->second.muted = muted;
    it->second.admin_muted = muted;
    return true;
}

bool Roster::subscribe(std::string_view room, std::string_view identity,
                       std::string_view track_id) {
    auto [owner, track] = find_track(room, track_id);
    Participant* participant = find_mutable(room, identity);
    if (!participant || !track || owner == participant) return false;
    participant->subscriptions.emplace(track_id);
    return true;
}

bool Roster::unsubscribe(std::string_view room, std::string_view identity,
                         std::string_view track_id) {
    Participant* participant = find_mutable(room, identity);
    if (!participant) return false;
    auto it = participant->subscriptions.find(track_id);
    if (it == participant->subscriptions.end()) return false;
    participant->subscriptions.erase(it);
    return true;
}

std::pair<const Participant*, const Track*> Roster::find_track(std::string_view room_name,
                                                               std::string_view track_id) const {
    const Room* room = find(room_name);
    if (!room) return {nullptr, nullptr};
    for (const auto& [identity, participant] : room->participants) {
        if (auto it = participant.tracks.find(track_id); it != participant.tracks.end())
            return {&participant, &it->second};
    }
    return {nullptr, nullptr};
}

std::size_t Roster::participant_count() const noexcept {
    std::size_t count = 0;
    for (const auto& [name, room] : rooms_) count += room.participants.size();
    return count;
}

std::string_view to_string(JoinError error) noexcept {
    switch (error) {
        case JoinError::none:
            return "none";
        case JoinError::room_not_found:
            return "room_not_found";
        case JoinError::room_full:
            return "room_full";
        case JoinError::too_many_rooms:
            return "too_many_rooms";
    }
    return "unknown";
}

}  // namespace rollcall::room
