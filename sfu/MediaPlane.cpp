#include "sfu/MediaPlane.hpp"

#include <glib.h>

#include "sfu/EchoPeer.hpp"

namespace rollcall::sfu {

struct MediaPlane::WorkerState {
    std::unique_ptr<Worker> worker;
    // Worker thread only, from here on.
    std::unordered_map<SessionId, std::unique_ptr<PeerSlot>> echo_peers;
    std::unordered_map<std::string, std::unique_ptr<Router>> routers;  // by room
    std::unique_ptr<RouterGlue> glue;
    GSource* tick = nullptr;

    Router* find_router(const std::string& room) {
        auto it = routers.find(room);
        return it == routers.end() ? nullptr : it->second.get();
    }
    // The room's router, created on first use; the session is remembered as in it.
    Router& enter(MediaPlane& plane, SessionId session, const std::string& room);
    void drop_if_empty(const std::string& room) {
        if (auto it = routers.find(room); it != routers.end() && it->second->empty()) routers.erase(it);
    }
};

// Hands a worker's router events to the signaling thread, and removes failed transports.
class MediaPlane::RouterGlue final : public RouterListener {
public:
    RouterGlue(MediaPlane& plane, WorkerState& state) : plane_(plane), state_(state) {}

    void on_candidate(SessionId session, PeerRole role, const transport::SdpCandidate& candidate) override {
        post(session, [role, candidate](MediaEvents& events, SessionId s) { events.on_media_candidate(s, role, candidate); });
    }
    void on_connected(SessionId session, PeerRole role, const MediaConnectedInfo& info) override {
        post(session, [role, info](MediaEvents& events, SessionId s) { events.on_media_connected(s, role, info); });
    }
    void on_failed(SessionId session, PeerRole role, std::string_view reason) override {
        post(session, [role, text = std::string(reason)](MediaEvents& events, SessionId s) { events.on_media_failed(s, role, text); });
        // Never destroy a peer inside its own callback: remove it on the next turn.
        WorkerState* state = &state_;
        std::string room = room_of(session);
        state_.worker->post([state, session, role, room] {
            if (Router* router = state->find_router(room)) {
                router->close(session, role);
                state->drop_if_empty(room);
            }
        });
    }
    void on_subscriber_offer(SessionId session, const SubscriberOffer& offer) override {
        post(session, [offer](MediaEvents& events, SessionId s) { events.on_subscriber_offer(s, offer); });
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

Router& MediaPlane::WorkerState::enter(MediaPlane& plane, SessionId session, const std::string& room) {
    glue->session_rooms[session] = room;
    auto& slot = routers[room];
    if (!slot) slot = std::make_unique<Router>(worker->context(), plane.identity_, plane.options_.addresses, *glue);
    return *slot;
}

// One echo peer and the hand-off of its events to the signaling thread.
class MediaPlane::PeerSlot final : public EchoPeer::Listener {
public:
    PeerSlot(MediaPlane& plane, WorkerState& state, SessionId session, OfferPlan plan)
        : plane_(plane), state_(state), session_(session),
          peer_(state.worker->context(), plane.identity_, plane.options_.addresses, plan.tracks, *this),
          plan_(std::move(plan)) {}

    EchoPeer& peer() noexcept { return peer_; }
    OfferPlan& plan() noexcept { return plan_; }

    void on_peer_candidate(const transport::SdpCandidate& candidate) override {
        if (!answered_) return;  // gathered before the answer: the answer carries it
        post([candidate](MediaEvents& events, SessionId session) {
            events.on_media_candidate(session, PeerRole::publisher, candidate);
        });
    }
    void on_peer_connected() override {
        post([info = connected_info(peer_.transport())](MediaEvents& events, SessionId session) { events.on_media_connected(session, PeerRole::publisher, info); });
    }
    void on_peer_failed(std::string_view reason) override {
        post([text = std::string(reason)](MediaEvents& events, SessionId session) {
            events.on_media_failed(session, PeerRole::publisher, text);
        });
        WorkerState* state = &state_;
        SessionId session = session_;
        state_.worker->post([state, session] { remove_echo_on_worker(*state, session); });
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
    bool answered_ = false;
    EchoPeer peer_;
    OfferPlan plan_;
};

MediaPlane::MediaPlane(Options options, Post post_to_signaling)
    : options_(std::move(options)), post_(std::move(post_to_signaling)), identity_(transport::DtlsIdentity::generate()) {
    if (options_.workers == 0) options_.workers = 1;
    for (std::size_t i = 0; i < options_.workers; ++i) {
        auto state = std::make_unique<WorkerState>();
        state->worker = std::make_unique<Worker>("media-" + std::to_string(i));
        state->glue = std::make_unique<RouterGlue>(*this, *state);
        workers_.push_back(std::move(state));
    }
}

MediaPlane::~MediaPlane() { stop(); }

void MediaPlane::start() {
    for (auto& state : workers_) {
        state->worker->start();
        WorkerState* s = state.get();
        // Once a second: receiver reports to publishers.
        s->worker->post([s] {
            s->tick = g_timeout_source_new(1000);
            g_source_set_callback(
                s->tick,
                [](gpointer data) -> gboolean {
                    auto* ws = static_cast<WorkerState*>(data);
                    const auto now = Clock::now();
                    for (auto& [room, router] : ws->routers) router->tick(now);
                    return G_SOURCE_CONTINUE;
                },
                s, nullptr);
            g_source_attach(s->tick, s->worker->context());
        });
    }
}

void MediaPlane::stop() {
    for (auto& state : workers_) {
        WorkerState* s = state.get();
        s->worker->post([s] {  // peers die on their own thread
            s->echo_peers.clear();
            s->routers.clear();
            if (s->tick) {
                g_source_destroy(s->tick);
                g_source_unref(s->tick);
                s->tick = nullptr;
            }
        });
        s->worker->stop();
    }
    sessions_.clear();
}

std::size_t MediaPlane::worker_for(const std::string& room) const { return std::hash<std::string>{}(room) % workers_.size(); }

MediaPlane::Place* MediaPlane::place(SessionId session, const std::string& room, bool echo) {
    auto [it, inserted] = sessions_.try_emplace(session, Place{worker_for(room), room, echo});
    if (!inserted && (it->second.echo != echo || it->second.room != room)) return nullptr;
    return &it->second;
}

template <typename F>
bool MediaPlane::on_router(SessionId session, F f) {
    auto it = sessions_.find(session);
    if (it == sessions_.end() || it->second.echo) return false;
    WorkerState* state = workers_[it->second.worker].get();
    return state->worker->post([state, session, room = it->second.room, f = std::move(f)]() mutable {
        if (Router* router = state->find_router(room)) f(*router, session);
    });
}

void MediaPlane::publish_echo(SessionId session, const std::string& room, OfferPlan plan, AnswerCallback done) {
    Place* where = place(session, room, /*echo=*/true);
    if (!where) {
        done(std::nullopt, "already_publishing", "this session already publishes to the room");
        return;
    }
    WorkerState* state = workers_[where->worker].get();
    const bool posted = state->worker->post([this, state, session, plan = std::move(plan), done = std::move(done)]() mutable {
        if (state->echo_peers.contains(session)) {
            post_([done] { done(std::nullopt, "already_publishing", "this session already has a transport"); });
            return;
        }
        auto slot = std::make_unique<PeerSlot>(*this, *state, session, std::move(plan));
        const std::string error = slot->peer().start(slot->plan().remote);
        if (!error.empty()) {
            post_([done, error] { done(std::nullopt, "transport_failed", error); });
            return;
        }
        complete_answer(slot->plan(), slot->peer().transport());
        slot->mark_answered();
        std::string answer = transport::write_sdp(slot->plan().answer);
        state->echo_peers[session] = std::move(slot);
        post_([done, answer = std::move(answer)] { done(answer, "", ""); });
    });
    if (!posted) {
        sessions_.erase(session);
        done(std::nullopt, "media_busy", "the media worker is overloaded; try again");
    }
}

void MediaPlane::restart_ice(SessionId session, transport::RemoteTransportParameters remote, AnswerCallback done) {
    auto it = sessions_.find(session);
    if (it == sessions_.end() || !it->second.echo) {
        done(std::nullopt, "no_transport", "publish first");
        return;
    }
    WorkerState* state = workers_[it->second.worker].get();
    const bool posted = state->worker->post([this, state, session, remote = std::move(remote), done]() mutable {
        auto peer = state->echo_peers.find(session);
        if (peer == state->echo_peers.end()) {
            post_([done] { done(std::nullopt, "no_transport", "the transport is gone"); });
            return;
        }
        PeerSlot& slot = *peer->second;
        const transport::SdpFingerprint& bound = slot.plan().remote.fingerprint;
        if (remote.fingerprint != bound) {
            // The DTLS session is bound to the first fingerprint; a new one is not a restart.
            post_([done] { done(std::nullopt, "fingerprint_changed", "the offer's fingerprint differs from the session's"); });
            return;
        }
        const std::string error =
            slot.peer().transport().restart_ice(remote.ice_ufrag, remote.ice_pwd, remote.candidates);
        if (!error.empty()) {
            post_([done, error] { done(std::nullopt, "ice_restart_failed", error); });
            return;
        }
        slot.plan().answer.origin_version++;
        complete_answer(slot.plan(), slot.peer().transport());
        post_([done, answer = transport::write_sdp(slot.plan().answer)] { done(answer, "", ""); });
    });
    if (!posted) done(std::nullopt, "media_busy", "the media worker is overloaded; try again");
}

void MediaPlane::publish(SessionId session, const std::string& room, OfferPlan plan, AnswerCallback done) {
    Place* where = place(session, room, /*echo=*/false);
    if (!where) {
        done(std::nullopt, "already_publishing", "this session publishes in echo mode");
        return;
    }
    WorkerState* state = workers_[where->worker].get();
    const bool posted = state->worker->post([this, state, session, room, plan = std::move(plan), done]() mutable {
        const std::string error = state->enter(*this, session, room).publish(session, plan);
        if (!error.empty()) {
            state->drop_if_empty(room);
            const std::string code = error == "fingerprint_changed" ? error : "transport_failed";
            const std::string text =
                error == "fingerprint_changed" ? "the offer's fingerprint differs from the session's" : error;
            post_([done, code, text] { done(std::nullopt, code, text); });
            return;
        }
        post_([done, answer = transport::write_sdp(plan.answer)] { done(answer, "", ""); });
    });
    if (!posted) done(std::nullopt, "media_busy", "the media worker is overloaded; try again");
}

void MediaPlane::unpublish(SessionId session, const std::string& track_id) {
    on_router(session, [track_id](Router& router, SessionId s) { router.unpublish(s, track_id); });
}

void MediaPlane::set_subscriptions(SessionId session, const std::string& room, std::set<std::string> track_ids) {
    if (track_ids.empty() && !sessions_.contains(session)) return;  // nothing to receive, nothing to undo
    Place* where = place(session, room, /*echo=*/false);
    if (!where) return;  // an echo session subscribes to nothing
    WorkerState* state = workers_[where->worker].get();
    state->worker->post([this, state, session, room, ids = std::move(track_ids)]() mutable {
        state->enter(*this, session, room).set_subscriptions(session, std::move(ids));
        state->drop_if_empty(room);
    });
}

void MediaPlane::subscriber_answer(SessionId session, SubscriberAnswer answer, std::uint64_t version, DoneCallback done) {
    const bool posted = on_router(session, [this, answer = std::move(answer), version, done](Router& router, SessionId s) {
        const std::string error = router.subscriber_answer(s, answer, version);
        if (error.empty()) return;
        const bool known = error == "stale_answer" || error == "fingerprint_changed" || error == "no_transport";
        const std::string code = known ? error : "transport_failed";
        post_([done, code, error] { done(code, error); });
    });
    if (!posted) done("no_transport", "there is no subscription to answer");
}

void MediaPlane::add_remote_candidate(SessionId session, PeerRole role, const transport::SdpCandidate& candidate) {
    auto it = sessions_.find(session);
    if (it == sessions_.end()) return;
    WorkerState* state = workers_[it->second.worker].get();
    if (it->second.echo) {
        state->worker->post([state, session, candidate] {
            if (auto peer = state->echo_peers.find(session); peer != state->echo_peers.end()) {
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
    WorkerState* state = workers_[it->second.worker].get();
    const Place where = it->second;
    sessions_.erase(it);
    state->worker->post([state, session, where] {
        if (where.echo) {
            remove_echo_on_worker(*state, session);
            return;
        }
        state->glue->session_rooms.erase(session);
        if (Router* router = state->find_router(where.room)) {
            router->close(session);
            state->drop_if_empty(where.room);
        }
    });
}

void MediaPlane::remove_echo_on_worker(WorkerState& state, SessionId session) {
    auto it = state.echo_peers.find(session);
    if (it == state.echo_peers.end()) return;
    it->second->peer().transport().close();
    state.echo_peers.erase(it);
}

}  // namespace rollcall::sfu
