#include "sfu/MediaPlane.hpp"

#include <glib.h>

#include "sfu/EchoPeer.hpp"
#include "sfu/TestHooks.hpp"

namespace rollcall::sfu {

namespace {

MediaResult busy() {
    return {MediaError::media_busy, "the media worker is overloaded; try again"};
}

}  // namespace

struct MediaPlane::WorkerState {
    MediaPlane* plane = nullptr;
    std::size_t index = 0;
    std::unique_ptr<Worker> worker;
    // Worker thread only, from here on.
    std::unordered_map<SessionId, std::unique_ptr<PeerSlot>> echo_peers;
    std::unordered_map<std::string, std::unique_ptr<Router>> routers;  // by room
    std::unique_ptr<RouterGlue> glue;
    TestHooks hooks;
    transport::GlibTimer tick;
    std::uint64_t applied = 0;            // the last command run
    std::set<std::string> changed_rooms;  // whose truth is due
    std::vector<MediaIncident> incidents;
    transport::GlibTimer publish_truth;

    TransportSetup setup() const {
        return {worker->context(), plane->identity_, plane->options_.network};
    }

    // The room's truth is published once the current turn is over.
    void touch(const std::string& room);
    RoomTruth room_truth(const std::string& room) const;
    MediaTruth take_truth(bool full);
    void deliver(MediaTruth truth);

    Router* find_router(const std::string& room) {
        auto it = routers.find(room);
        return it == routers.end() ? nullptr : it->second.get();
    }
    // The room's router, created on first use; the session is remembered as in it.
    Router& enter(SessionId session, const std::string& room);
    void drop_if_empty(const std::string& room) {
        if (auto it = routers.find(room); it != routers.end() && it->second->empty()) {
            routers.erase(it);
        }
    }
};

// Hands a worker's router events to the signaling thread, and removes failed transports.
class MediaPlane::RouterGlue final : public RouterListener {
  public:
    RouterGlue(MediaPlane& plane, WorkerState& state) : plane_(plane), state_(state) {}

    void on_candidate(SessionId session, PeerRole role,
                      const transport::SdpCandidate& candidate) override {
        post(session, [role, candidate](MediaEvents& events, SessionId s) {
            events.on_media_candidate(s, role, candidate);
        });
    }
    void on_connected(SessionId session, PeerRole role, const MediaConnectedInfo& info) override {
        post(session, [role, info](MediaEvents& events, SessionId s) {
            events.on_media_connected(s, role, info);
        });
        state_.touch(room_of(session));
    }
    void on_failed(SessionId session, PeerRole role, TransportId transport,
                   std::string_view reason) override {
        post(session, [role, text = std::string(reason)](MediaEvents& events, SessionId s) {
            events.on_media_failed(s, role, text);
        });
        if (transport == 0) return;  // never added
        // Never destroy a peer inside its own callback: remove it on the next turn, by its
        // id, so a transport that replaced it meanwhile stays.
        WorkerState* state = &state_;
        std::string room = room_of(session);
        state_.worker->post([state, transport, room] {
            if (Router* router = state->find_router(room)) {
                router->close_transport(transport);
                state->drop_if_empty(room);
            }
            state->touch(room);
        });
    }
    void on_subscriber_offer(SessionId session, const SubscriberOffer& offer) override {
        post(session, [offer](MediaEvents& e, SessionId s) { e.on_subscriber_offer(s, offer); });
    }
    void on_data_changed(SessionId session) override { state_.touch(room_of(session)); }
    void on_data_closed(SessionId session, const std::string& reason) override {
        post(session, [reason](MediaEvents& e, SessionId s) { e.on_data_closed(s, reason); });
    }
    void on_video_off(SessionId session, const std::string& track, bool off) override {
        post(session, [track, off](MediaEvents& e, SessionId s) { e.on_video_off(s, track, off); });
    }
    void on_incident(const MediaIncident& incident) override {
        state_.incidents.push_back(incident);
        state_.touch(incident.room);
    }

    // Worker thread: which room a session's peers are in.
    std::unordered_map<SessionId, std::string> session_rooms;

  private:
    std::string room_of(SessionId session) const {
        auto it = session_rooms.find(session);
        return it == session_rooms.end() ? std::string() : it->second;
    }
    template <typename F>
    void post(SessionId session, F f) {
        plane_.post_event(session, std::move(f));
    }

    MediaPlane& plane_;
    WorkerState& state_;
};

Router& MediaPlane::WorkerState::enter(SessionId session, const std::string& room) {
    glue->session_rooms[session] = room;
    auto& slot = routers[room];
    if (!slot) slot = std::make_unique<Router>(room, setup(), *glue);
    return *slot;
}

void MediaPlane::WorkerState::touch(const std::string& room) {
    if (room.empty()) return;
    changed_rooms.insert(room);
    if (publish_truth.active()) return;
    publish_truth.start_idle(worker->context(), [this] {
        deliver(take_truth(/*full=*/false));
        return false;
    });
}

void MediaPlane::WorkerState::deliver(MediaTruth truth) {
    MediaPlane* p = plane;
    p->post_([p, truth = std::move(truth)] {
        if (p->events_) p->events_->on_media_truth(truth);
    });
}

// One echo peer and the hand-off of its events to the signaling thread.
class MediaPlane::PeerSlot final : public EchoPeer::Listener {
  public:
    PeerSlot(MediaPlane& plane, WorkerState& state, SessionId session, std::string room,
             OfferPlan plan)
        : plane_(plane),
          state_(state),
          session_(session),
          room_(std::move(room)),
          id_(next_transport_id()),
          since_(Clock::now()),
          peer_(state.worker->context(), plane.identity_, plane.options_.network, plan.tracks,
                *this),
          plan_(std::move(plan)) {}

    EchoPeer& peer() noexcept { return peer_; }
    OfferPlan& plan() noexcept { return plan_; }
    const std::string& room() const noexcept { return room_; }
    TransportId id() const noexcept { return id_; }
    TransportFact fact() {
        TransportFact fact =
            transport_fact(id_, session_, PeerRole::publisher, since_, peer_.transport());
        fact.echo = true;
        return fact;
    }

    void on_peer_candidate(const transport::SdpCandidate& candidate) override {
        if (!answered_) return;  // gathered before the answer: the answer carries it
        post([candidate](MediaEvents& events, SessionId session) {
            events.on_media_candidate(session, PeerRole::publisher, candidate);
        });
    }
    void on_peer_connected() override {
        post([info = connected_info(peer_.transport())](MediaEvents& events, SessionId session) {
            events.on_media_connected(session, PeerRole::publisher, info);
        });
        state_.touch(room_);
    }
    void on_peer_failed(std::string_view reason) override {
        post([text = std::string(reason)](MediaEvents& events, SessionId session) {
            events.on_media_failed(session, PeerRole::publisher, text);
        });
        WorkerState* state = &state_;
        SessionId session = session_;
        std::string room = room_;
        state_.worker->post([state, session, room] {
            remove_echo_on_worker(*state, session);
            state->touch(room);
        });
    }
    void mark_answered() { answered_ = true; }

  private:
    template <typename F>
    void post(F f) {
        plane_.post_event(session_, std::move(f));
    }

    MediaPlane& plane_;
    WorkerState& state_;
    SessionId session_;
    std::string room_;
    TransportId id_;
    Clock::time_point since_;
    bool answered_ = false;
    EchoPeer peer_;
    OfferPlan plan_;
};

MediaTruth MediaPlane::WorkerState::take_truth(bool full) {
    MediaTruth truth;
    truth.worker = index;
    truth.applied = applied;
    truth.taken_at = Clock::now();
    truth.full = full;
    std::set<std::string> rooms;
    if (full) {
        for (const auto& [room, router] : routers) rooms.insert(room);
        for (const auto& [session, slot] : echo_peers) rooms.insert(slot->room());
        for (const std::string& room : hooks.rooms()) rooms.insert(room);
    }
    rooms.merge(changed_rooms);
    changed_rooms.clear();
    for (const std::string& room : rooms) truth.rooms.push_back(room_truth(room));
    truth.incidents = std::move(incidents);
    incidents.clear();
    if (full) {
        WorkerReport report;
        report.tally = transport::media_tally();
        for (const auto& [room, router] : routers) {
            report.producers += router->producer_count();
            report.consumers += router->consumer_count();
        }
        report.busy_seconds = worker->busy_seconds();
        truth.report = std::move(report);
    }
    return truth;
}

RoomTruth MediaPlane::WorkerState::room_truth(const std::string& room) const {
    auto it = routers.find(room);
    RoomTruth truth;
    if (it != routers.end()) truth = it->second->truth();
    truth.room = room;
    hooks.add_facts(room, truth);
    for (const auto& [session, slot] : echo_peers) {
        if (slot->room() == room) truth.transports.push_back(slot->fact());
    }
    return truth;
}

MediaPlane::MediaPlane(Options options, Post post_to_signaling)
    : options_(std::move(options)),
      post_(std::move(post_to_signaling)),
      identity_(transport::DtlsIdentity::generate()) {
    if (options_.workers == 0) options_.workers = 1;
    for (std::size_t i = 0; i < options_.workers; ++i) {
        auto state = std::make_unique<WorkerState>();
        state->plane = this;
        state->index = i;
        state->worker = std::make_unique<Worker>("media-" + std::to_string(i));
        state->glue = std::make_unique<RouterGlue>(*this, *state);
        workers_.push_back(std::move(state));
    }
    posted_.assign(workers_.size(), 0);
}

MediaPlane::~MediaPlane() {
    stop();
}

void MediaPlane::start() {
    for (auto& state : workers_) {
        state->worker->start();
        WorkerState* s = state.get();
        // Once a second: receiver reports to publishers, and the full truth for roll call.
        s->worker->post([s] {
            s->tick.start(s->worker->context(), std::chrono::seconds(1), [s] {
                const auto now = Clock::now();
                for (auto& [room, router] : s->routers) router->tick(now);
                s->deliver(s->take_truth(/*full=*/true));
                return true;
            });
        });
    }
}

void MediaPlane::stop() {
    for (auto& state : workers_) {
        WorkerState* s = state.get();
        s->worker->post([s] {  // peers die on their own thread
            for (auto& [session, slot] : s->echo_peers) slot->peer().transport().close();
            s->echo_peers.clear();
            s->routers.clear();
            s->hooks.clear();
            s->tick.cancel();
            s->publish_truth.cancel();
        });
        s->worker->stop();
    }
    sessions_.clear();
}

std::size_t MediaPlane::worker_for(const std::string& room) const {
    return std::hash<std::string>{}(room) % workers_.size();
}

bool MediaPlane::command(const std::string& room, std::function<void(WorkerState&)> f) {
    const std::size_t index = worker_for(room);
    WorkerState* state = workers_[index].get();
    const std::uint64_t number = posted_[index] + 1;
    const bool posted = state->worker->post([state, number, room, f = std::move(f)] {
        f(*state);
        state->applied = number;
        state->touch(room);
    });
    if (posted) {
        posted_[index] = number;
        room_commands_[room] = number;
    }
    return posted;
}

void MediaPlane::request_truth(const std::string& room) {
    command(room, [](WorkerState&) {});
}

bool MediaPlane::is_current(const std::string& room, std::size_t worker,
                            std::uint64_t applied) const {
    if (worker != worker_for(room)) return false;
    auto it = room_commands_.find(room);
    return it == room_commands_.end() || applied >= it->second;
}

void MediaPlane::forget_rooms_without_media(const MediaTruth& full) {
    if (!full.full) return;
    std::set<std::string> present;
    for (const RoomTruth& room : full.rooms) present.insert(room.room);
    for (auto it = room_commands_.begin(); it != room_commands_.end();) {
        const bool done = worker_for(it->first) == full.worker && full.applied >= it->second &&
                          !present.contains(it->first);
        it = done ? room_commands_.erase(it) : std::next(it);
    }
}

MediaPlane::Place* MediaPlane::place(SessionId session, const std::string& room, bool echo) {
    auto [it, inserted] = sessions_.try_emplace(session, Place{worker_for(room), room, echo});
    if (!inserted && (it->second.echo != echo || it->second.room != room)) return nullptr;
    return &it->second;
}

template <typename F>
bool MediaPlane::on_router(SessionId session, F f) {
    auto it = sessions_.find(session);
    if (it == sessions_.end() || it->second.echo) return false;
    const std::string& room = it->second.room;
    return command(room, [session, room, f = std::move(f)](WorkerState& state) mutable {
        if (Router* router = state.find_router(room)) f(*router, session);
    });
}

void MediaPlane::publish_echo(SessionId session, const std::string& room, OfferPlan plan,
                              AnswerCallback done) {
    if (!place(session, room, /*echo=*/true)) {
        done({MediaError::already_publishing, "this session already publishes to the room"}, {});
        return;
    }
    auto shared_plan = std::make_shared<OfferPlan>(std::move(plan));
    const bool posted = command(room, [this, session, room, shared_plan, done](WorkerState& state) {
        if (state.echo_peers.contains(session)) {
            post_([done] {
                done({MediaError::already_publishing, "this session already has a transport"}, {});
            });
            return;
        }
        auto slot =
            std::make_unique<PeerSlot>(*this, state, session, room, std::move(*shared_plan));
        const std::string error = slot->peer().start(slot->plan().remote);
        if (!error.empty()) {
            post_([done, error] { done({MediaError::transport_failed, error}, {}); });
            return;
        }
        complete_answer(slot->plan(), local_parameters(slot->peer().transport()));
        slot->mark_answered();
        std::string answer = transport::write_sdp(slot->plan().answer);
        state.echo_peers[session] = std::move(slot);
        post_([done, answer = std::move(answer)] { done({}, answer); });
    });
    if (!posted) {
        sessions_.erase(session);
        done(busy(), {});
    }
}

void MediaPlane::restart_ice(SessionId session, transport::RemoteTransportParameters remote,
                             AnswerCallback done) {
    auto it = sessions_.find(session);
    if (it == sessions_.end() || !it->second.echo) {
        done({MediaError::no_transport, "publish first"}, {});
        return;
    }
    const bool posted = command(
        it->second.room, [this, session, remote = std::move(remote), done](WorkerState& state) {
            auto peer = state.echo_peers.find(session);
            if (peer == state.echo_peers.end()) {
                post_([done] { done({MediaError::no_transport, "the transport is gone"}, {}); });
                return;
            }
            PeerSlot& slot = *peer->second;
            const transport::SdpFingerprint& bound = slot.plan().remote.fingerprint;
            if (remote.fingerprint != bound) {
                // The DTLS session is bound to the first fingerprint; a new one is not a restart.
                post_([done] {
                    done({MediaError::fingerprint_changed,
                          "the offer's fingerprint differs from the session's"},
                         {});
                });
                return;
            }
            const std::string error = slot.peer().transport().restart_ice(
                remote.ice_ufrag, remote.ice_pwd, remote.candidates);
            if (!error.empty()) {
                post_([done, error] { done({MediaError::ice_restart_failed, error}, {}); });
                return;
            }
            slot.plan().answer.origin_version++;
            complete_answer(slot.plan(), local_parameters(slot.peer().transport()));
            post_([done, answer = transport::write_sdp(slot.plan().answer)] { done({}, answer); });
        });
    if (!posted) done(busy(), {});
}

void MediaPlane::publish(SessionId session, const std::string& room, OfferPlan plan,
                         AnswerCallback done) {
    if (!place(session, room, /*echo=*/false)) {
        done({MediaError::already_publishing, "this session publishes in echo mode"}, {});
        return;
    }
    auto shared_plan = std::make_shared<OfferPlan>(std::move(plan));
    const bool posted = command(room, [this, session, room, shared_plan, done](WorkerState& state) {
        OfferPlan& offer = *shared_plan;
        MediaResult result = state.enter(session, room).publish(session, offer);
        if (!result.ok()) {
            state.drop_if_empty(room);
            post_([done, result] { done(result, {}); });
            return;
        }
        post_([done, answer = transport::write_sdp(offer.answer)] { done({}, answer); });
    });
    if (!posted) done(busy(), {});
}

void MediaPlane::unpublish(SessionId session, const std::string& track_id) {
    on_router(session, [track_id](Router& router, SessionId s) { router.unpublish(s, track_id); });
}

void MediaPlane::set_track_paused(const std::string& room, const std::string& track_id,
                                  bool paused) {
    command(room, [room, track_id, paused](WorkerState& state) {
        if (Router* router = state.find_router(room))
            (void)router->set_track_paused(track_id, paused);
    });
}

void MediaPlane::restart_subscriber_ice(SessionId session) {
    on_router(session, [](Router& router, SessionId s) { (void)router.restart_subscriber_ice(s); });
}

void MediaPlane::set_subscriptions(SessionId session, const std::string& room,
                                   std::set<std::string> track_ids, TrackSettingsMap settings) {
    // Nothing to receive and nothing to undo; an echo session subscribes to nothing.
    if ((track_ids.empty() && !sessions_.contains(session)) || !place(session, room, false)) return;
    auto ids = std::make_shared<std::set<std::string>>(std::move(track_ids));
    auto wanted = std::make_shared<TrackSettingsMap>(std::move(settings));
    command(room, [session, room, ids, wanted](WorkerState& state) {
        state.enter(session, room).set_subscriptions(session, std::move(*ids), std::move(*wanted));
        state.drop_if_empty(room);
    });
}

void MediaPlane::subscriber_answer(SessionId session, SubscriberAnswer answer,
                                   std::uint64_t version, DoneCallback done) {
    const bool posted = on_router(
        session, [this, answer = std::move(answer), version, done](Router& router, SessionId s) {
            MediaResult result = router.subscriber_answer(s, answer, version);
            if (!result.ok()) post_([done, result] { done(result); });
        });
    if (!posted) done({MediaError::no_transport, "there is no subscription to answer"});
}

void MediaPlane::add_remote_candidate(SessionId session, PeerRole role,
                                      const transport::SdpCandidate& candidate) {
    auto it = sessions_.find(session);
    if (it == sessions_.end()) return;
    if (it->second.echo) {
        command(it->second.room, [session, candidate](WorkerState& state) {
            if (auto peer = state.echo_peers.find(session); peer != state.echo_peers.end()) {
                peer->second->peer().transport().add_remote_candidate(candidate);
            }
        });
        return;
    }
    on_router(session, [role, candidate](Router& router, SessionId s) {
        router.add_remote_candidate(s, role, candidate);
    });
}

void MediaPlane::close(SessionId session) {
    auto it = sessions_.find(session);
    if (it == sessions_.end()) return;
    const Place where = it->second;
    sessions_.erase(it);
    command(where.room, [session, where](WorkerState& state) {
        if (where.echo) {
            remove_echo_on_worker(state, session);
            return;
        }
        state.glue->session_rooms.erase(session);
        if (Router* router = state.find_router(where.room)) {
            router->close(session);
            state.drop_if_empty(where.room);
        }
    });
}

void MediaPlane::eject_transport(const std::string& room, TransportId id) {
    command(room, [room, id](WorkerState& state) {
        for (auto it = state.echo_peers.begin(); it != state.echo_peers.end(); ++it) {
            if (it->second->id() == id) {
                remove_echo_on_worker(state, it->first);
                return;
            }
        }
        if (state.hooks.close(id)) return;
        if (Router* router = state.find_router(room)) {
            router->close_transport(id);
            state.drop_if_empty(room);
        }
    });
}

void MediaPlane::drop_consumer(const std::string& room, TransportId transport,
                               const std::string& track_id) {
    command(room, [room, transport, track_id](WorkerState& state) {
        if (Router* router = state.find_router(room)) router->drop_consumer(transport, track_id);
    });
}

// The plant_* hooks do nothing unless the build has fault injection.
void MediaPlane::plant_stray_transport([[maybe_unused]] const std::string& room,
                                       [[maybe_unused]] SessionId session) {
#ifdef ROLLCALL_FAULT_INJECTION
    command(room, [room, session](WorkerState& state) {
        // A session number no connection will ever have, unless one was named.
        const SessionId owner = session != 0 ? session : (SessionId{1} << 62) + next_transport_id();
        state.hooks.plant_stray_transport(room, owner, state.setup());
    });
#endif
}

void MediaPlane::close_data(const std::string& room, TransportId transport) {
    command(room, [room, transport](WorkerState& s) {
        if (Router* router = s.find_router(room)) router->close_data(transport);
    });
}

void MediaPlane::plant_stray_data([[maybe_unused]] const std::string& room,
                                  [[maybe_unused]] SessionId session) {
#ifdef ROLLCALL_FAULT_INJECTION
    command(room, [room, session](WorkerState& state) {
        if (Router* router = state.find_router(room)) (void)TestHooks::plant_data(*router, session);
    });
#endif
}

void MediaPlane::plant_consumer([[maybe_unused]] const std::string& room,
                                [[maybe_unused]] SessionId subscriber,
                                [[maybe_unused]] const std::string& track_id) {
#ifdef ROLLCALL_FAULT_INJECTION
    command(room, [room, subscriber, track_id](WorkerState& state) {
        if (Router* router = state.find_router(room))
            TestHooks::plant_consumer(*router, subscriber, track_id);
    });
#endif
}

void MediaPlane::remove_echo_on_worker(WorkerState& state, SessionId session) {
    auto it = state.echo_peers.find(session);
    if (it == state.echo_peers.end()) return;
    it->second->peer().transport().close();
    state.echo_peers.erase(it);
}

}  // namespace rollcall::sfu
