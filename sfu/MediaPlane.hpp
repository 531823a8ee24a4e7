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

#include "sfu/MediaControl.hpp"
#include "sfu/MediaTruth.hpp"
#include "sfu/OfferPlan.hpp"
#include "sfu/Router.hpp"
#include "sfu/Worker.hpp"
#include "transport/DtlsTransport.hpp"

namespace rollcall::sfu {

// The media workers and the rooms on them. A room is pinned to one worker; every call here
// comes from the signaling thread, and every peer is touched only by its worker thread.
class MediaPlane final : public MediaControl {
  public:
    using Post = std::function<void(std::function<void()>)>;  // runs a task on the signaling thread
    struct Options {
        std::size_t workers = 1;
        transport::LocalNetwork network{{"127.0.0.1"}};
    };

    MediaPlane(Options options, Post post_to_signaling);
    ~MediaPlane() override;
    MediaPlane(const MediaPlane&) = delete;
    MediaPlane& operator=(const MediaPlane&) = delete;

    void set_events(MediaEvents* events) { events_ = events; }
    void start();
    void stop();

    // Echo mode: one sendrecv transport that returns the peer's own media.
    void publish_echo(SessionId session, const std::string& room, OfferPlan plan,
                      AnswerCallback done) override;
    // An ICE restart of an echo transport; answers with the same tracks and new ICE credentials.
    void restart_ice(SessionId session, transport::RemoteTransportParameters remote,
                     AnswerCallback done) override;

    // Conferencing: the session's publisher transport from its offer (the first, or a
    // renegotiation that adds, removes or restarts); each plan track carries its track id.
    void publish(SessionId session, const std::string& room, OfferPlan plan,
                 AnswerCallback done) override;
    void unpublish(SessionId session, const std::string& track_id) override;
    // The tracks the session should receive; the server offers when that changes.
    void restart_subscriber_ice(SessionId session) override;
    void set_track_paused(const std::string& room, const std::string& track_id,
                          bool paused) override;
    void set_subscriptions(SessionId session, const std::string& room,
                           std::set<std::string> track_ids, TrackSettingsMap settings) override;
    void subscriber_answer(SessionId session, SubscriberAnswer answer, std::uint64_t version,
                           DoneCallback done) override;

    void add_remote_candidate(SessionId session, PeerRole role,
                              const transport::SdpCandidate& candidate) override;
    // Ends all of the session's media.
    void close(SessionId session) override;
    bool has(SessionId session) const override { return sessions_.contains(session); }
    bool has_echo(SessionId session) const override {
        auto it = sessions_.find(session);
        return it != sessions_.end() && it->second.echo;
    }
    const transport::SdpFingerprint& fingerprint() const { return identity_->fingerprint(); }

    // Roll call. Ejections close a transport (close_notify, ICE stopped; its consumers go
    // with it) or stop one forwarding sink. Neither touches the participant's other media.
    void eject_transport(const std::string& room, TransportId id) override;
    void drop_consumer(const std::string& room, TransportId transport,
                       const std::string& track_id) override;
    // True when a truth from `worker` that had run commands up to `applied` reflects every
    // command sent for `room` so far: the roster and that truth may be compared.
    bool is_current(const std::string& room, std::size_t worker,
                    std::uint64_t applied) const override;
    // Has the room's worker publish its truth at once (after every command sent before), so
    // a roster change with no media half is audited now rather than at the next snapshot.
    void request_truth(const std::string& room) override;
    // Forgets the bookkeeping of rooms a full snapshot shows without media.
    void forget_rooms_without_media(const MediaTruth& full) override;
    std::size_t worker_count() const noexcept { return workers_.size(); }
    std::size_t worker_for(const std::string& room) const override;

    // Test builds only (TestHooks); without ROLLCALL_FAULT_INJECTION they do nothing.
    void plant_stray_transport(const std::string& room, SessionId session) override;
    void plant_stray_data(const std::string& room, SessionId session) override;
    void close_data(const std::string& room, TransportId transport) override;
    void plant_consumer(const std::string& room, SessionId subscriber,
                        const std::string& track_id) override;

  private:
    class PeerSlot;
    class RouterGlue;
    struct WorkerState;
    struct Place {
        std::size_t worker = 0;
        std::string room;
        bool echo = false;
    };

    // Posts f to the room's worker as the next numbered command for that worker; the
    // worker publishes the room's truth after running it. False when the queue is full.
    bool command(const std::string& room, std::function<void(WorkerState&)> f);
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
    std::vector<std::uint64_t> posted_;              // per worker: the last command's number
    std::unordered_map<std::string, std::uint64_t>
        room_commands_;  // room → its last command's number
};

}  // namespace rollcall::sfu
