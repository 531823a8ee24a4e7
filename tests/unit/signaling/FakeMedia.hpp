#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sfu/MediaControl.hpp"

namespace rollcall::test {

// A MediaControl that records what the hub asks of the media plane and lets a test answer
// it, for unit tests of the hub's media and roll-call handlers. No transport, no worker.
class FakeMedia final : public sfu::MediaControl {
  public:
    struct Publish {
        sfu::SessionId session = 0;
        std::string room;
        sfu::OfferPlan plan;
        AnswerCallback done;
        bool echo = false;
    };
    struct Answer {
        sfu::SessionId session = 0;
        sfu::SubscriberAnswer answer;
        std::uint64_t version = 0;
        DoneCallback done;
    };

    void publish_echo(sfu::SessionId session, const std::string& room, sfu::OfferPlan plan,
                      AnswerCallback done) override {
        sessions.insert(session);
        echo_sessions.insert(session);
        publishes.push_back({session, room, std::move(plan), std::move(done), true});
    }
    void restart_ice(sfu::SessionId, transport::RemoteTransportParameters remote,
                     AnswerCallback done) override {
        restarts.push_back(remote.ice_ufrag);
        done({}, "v=0 restarted");
    }
    void publish(sfu::SessionId session, const std::string& room, sfu::OfferPlan plan,
                 AnswerCallback done) override {
        sessions.insert(session);
        publishes.push_back({session, room, std::move(plan), std::move(done), false});
    }
    void set_track_paused(const std::string&, const std::string& track_id, bool paused) override {
        paused_tracks[track_id] = paused;
    }
    void restart_subscriber_ice(sfu::SessionId session) override {
        subscriber_restarts.push_back(session);
    }
    void unpublish(sfu::SessionId session, const std::string& track_id) override {
        unpublished.emplace_back(session, track_id);
    }
    void set_subscriptions(sfu::SessionId session, const std::string&,
                           std::set<std::string> track_ids,
                           sfu::TrackSettingsMap settings) override {
        if (!track_ids.empty()) sessions.insert(session);
        subscriptions[session] = std::move(track_ids);
        track_settings[session] = std::move(settings);
    }
    std::map<sfu::SessionId, sfu::TrackSettingsMap> track_settings;
    void subscriber_answer(sfu::SessionId session, sfu::SubscriberAnswer answer,
                           std::uint64_t version, DoneCallback done) override {
        answers.push_back({session, std::move(answer), version, std::move(done)});
    }
    void add_remote_candidate(sfu::SessionId session, sfu::PeerRole role,
                              const transport::SdpCandidate& candidate) override {
        candidates.push_back({session, role, candidate.address});
    }
    void close(sfu::SessionId session) override {
        if (sessions.erase(session)) closed.push_back(session);
        echo_sessions.erase(session);
    }
    bool has(sfu::SessionId session) const override { return sessions.contains(session); }
    bool has_echo(sfu::SessionId session) const override { return echo_sessions.contains(session); }
    void eject_transport(const std::string&, sfu::TransportId id) override {
        ejected.push_back(id);
    }
    void drop_consumer(const std::string&, sfu::TransportId transport,
                       const std::string& track_id) override {
        dropped.emplace_back(transport, track_id);
    }
    void close_data(const std::string&, sfu::TransportId transport) override {
        data_closed.push_back(transport);
    }
    void plant_stray_data(const std::string& room, sfu::SessionId) override {
        planted.push_back(room);
    }
    bool is_current(const std::string&, std::size_t, std::uint64_t) const override {
        return current;
    }
    void request_truth(const std::string& room) override { truth_requests.push_back(room); }
    void forget_rooms_without_media(const sfu::MediaTruth&) override {}
    std::size_t worker_for(const std::string&) const override { return 0; }
    void plant_stray_transport(const std::string& room, sfu::SessionId) override {
        planted.push_back(room);
    }
    void plant_consumer(const std::string& room, sfu::SessionId, const std::string&) override {
        planted.push_back(room);
    }

    // Completes publish number `index`: the answer SDP, or `result`'s error.
    void complete(std::size_t index, sfu::MediaResult result = {}) {
        Publish& p = publishes.at(index);
        if (!result.ok()) sessions.erase(p.session);
        p.done(result, result.ok() ? "v=0 fake answer" : "");
    }

    struct Candidate {
        sfu::SessionId session;
        sfu::PeerRole role;
        std::string address;
    };
    std::vector<Publish> publishes;
    std::vector<Answer> answers;
    std::vector<std::string> restarts;
    std::map<sfu::SessionId, std::set<std::string>> subscriptions;
    std::vector<sfu::SessionId> subscriber_restarts;
    std::map<std::string, bool> paused_tracks;
    std::vector<std::pair<sfu::SessionId, std::string>> unpublished;
    std::vector<Candidate> candidates;
    std::set<sfu::SessionId> sessions;
    std::set<sfu::SessionId> echo_sessions;
    std::vector<sfu::SessionId> closed;
    std::vector<sfu::TransportId> ejected;
    std::vector<std::pair<sfu::TransportId, std::string>> dropped;
    std::vector<sfu::TransportId> data_closed;
    std::vector<std::string> truth_requests;
    std::vector<std::string> planted;
    bool current = true;
};

}  // namespace rollcall::test
