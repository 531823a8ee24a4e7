#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "sfu/OfferPlan.hpp"
#include "sfu/Router.hpp"
#include "sfu/Worker.hpp"
#include "transport/DtlsTransport.hpp"

namespace rollcall::sfu {

// What the media plane tells the signaling side; always called on the signaling thread.
class MediaEvents {
public:
    virtual ~MediaEvents() = default;
    virtual void on_media_candidate(SessionId session, PeerRole role, const transport::SdpCandidate& candidate) = 0;
    virtual void on_media_connected(SessionId session, PeerRole role, const MediaConnectedInfo& info) = 0;
    // The transport is gone; for a publisher, so are its tracks.
    virtual void on_media_failed(SessionId session, PeerRole role, const std::string& reason) = 0;
    virtual void on_subscriber_offer(SessionId session, const SubscriberOffer& offer) = 0;
};

// The media workers and the rooms on them. A room is pinned to one worker; every call here
// comes from the signaling thread, and every peer is touched only by its worker thread.
class MediaPlane {
public:
    using Post = std::function<void(std::function<void()>)>;  // runs a task on the signaling thread
    struct Options {
        std::size_t workers = 1;
        std::vector<std::string> addresses = {"127.0.0.1"};
    };
    // Called on the signaling thread with the answer SDP, or an error code and message.
    using AnswerCallback = std::function<void(std::optional<std::string> answer, std::string code, std::string message)>;
    using DoneCallback = std::function<void(std::string code, std::string message)>;

    MediaPlane(Options options, Post post_to_signaling);
    ~MediaPlane();
    MediaPlane(const MediaPlane&) = delete;
    MediaPlane& operator=(const MediaPlane&) = delete;

    void set_events(MediaEvents* events) { events_ = events; }
    void start();
    void stop();

    // Echo mode: one sendrecv transport that returns the peer's own media.
    void publish_echo(SessionId session, const std::string& room, OfferPlan plan, AnswerCallback done);
    // An ICE restart of an echo transport; answers with the same tracks and new ICE credentials.
    void restart_ice(SessionId session, transport::RemoteTransportParameters remote, AnswerCallback done);

    // Conferencing: the session's publisher transport from its offer (the first, or a
    // renegotiation that adds, removes or restarts); each plan track carries its track id.
    void publish(SessionId session, const std::string& room, OfferPlan plan, AnswerCallback done);
    void unpublish(SessionId session, const std::string& track_id);
    // The tracks the session should receive; the server offers when that changes.
    void set_subscriptions(SessionId session, const std::string& room, std::set<std::string> track_ids);
    void subscriber_answer(SessionId session, SubscriberAnswer answer, std::uint64_t version, DoneCallback done);

    void add_remote_candidate(SessionId session, PeerRole role, const transport::SdpCandidate& candidate);
    // Ends all of the session's media.
    void close(SessionId session);
    bool has(SessionId session) const { return sessions_.contains(session); }
    bool has_echo(SessionId session) const {
        auto it = sessions_.find(session);
        return it != sessions_.end() && it->second.echo;
    }
    const transport::SdpFingerprint& fingerprint() const { return identity_->fingerprint(); }

private:
    class PeerSlot;
    class RouterGlue;
    struct WorkerState;
    struct Place {
        std::size_t worker = 0;
        std::string room;
        bool echo = false;
    };

    std::size_t worker_for(const std::string& room) const;
    // The session's place, created on first use; null when it is held by the other mode.
    Place* place(SessionId session, const std::string& room, bool echo);
    static void remove_echo_on_worker(WorkerState& state, SessionId session);
    // Runs f(router, session) on the worker of the session's room, if the router exists.
    template <typename F>
    bool on_router(SessionId session, F f);
    // Hands f(events, session) to the signaling thread, unless the session's media ended.
    template <typename F>
    void post_event(SessionId session, F f) {
        MediaPlane* plane = this;
        post_([plane, session, f = std::move(f)] {
            if (plane->events_ && plane->has(session)) f(*plane->events_, session);
        });
    }

    Options options_;
    Post post_;
    MediaEvents* events_ = nullptr;
    std::shared_ptr<const transport::DtlsIdentity> identity_;
    std::vector<std::unique_ptr<WorkerState>> workers_;
    std::unordered_map<SessionId, Place> sessions_;  // signaling thread only
};

}  // namespace rollcall::sfu
