#include "sfu/MediaPlane.hpp"

#include "sfu/EchoPeer.hpp"

namespace rollcall::sfu {

// One peer and the hand-off of its events to the signaling thread.
class MediaPlane::PeerSlot final : public EchoPeer::Listener {
public:
    PeerSlot(MediaPlane& plane, WorkerState& state, SessionId session, EchoPlan plan)
        : plane_(plane), state_(state), session_(session),
          peer_(state.worker->context(), plane.identity_, plane.options_.addresses, plan.tracks, *this),
          plan_(std::move(plan)) {}

    EchoPeer& peer() noexcept { return peer_; }
    EchoPlan& plan() noexcept { return plan_; }

    void on_peer_candidate(const transport::SdpCandidate& candidate) override {
        if (!answered_) return;  // gathered before the answer: the answer carries it
        post([candidate](MediaEvents& events, SessionId session) { events.on_media_candidate(session, candidate); });
    }
    void on_peer_connected() override {
        auto& t = peer_.transport();
        MediaConnectedInfo info{t.dtls().protocol_version(), t.dtls().cipher(),
                                t.srtp_profile() ? std::string(transport::to_string(*t.srtp_profile())) : ""};
        post([info](MediaEvents& events, SessionId session) { events.on_media_connected(session, info); });
    }
    void on_peer_failed(std::string_view reason) override {
        post([text = std::string(reason)](MediaEvents& events, SessionId session) { events.on_media_failed(session, text); });
        // Never destroy the peer inside its own callback: remove it on the next turn.
        MediaPlane* plane = &plane_;
        WorkerState* state = &state_;
        SessionId session = session_;
        state_.worker->post([plane, state, session] { plane->remove_on_worker(*state, session); });
    }
    void mark_answered() { answered_ = true; }

private:
    template <typename F>
    void post(F f) {
        MediaPlane* plane = &plane_;
        SessionId session = session_;
        plane_.post_([plane, session, f = std::move(f)] {
            if (plane->events_ && plane->has(session)) f(*plane->events_, session);
        });
    }

    MediaPlane& plane_;
    WorkerState& state_;
    SessionId session_;
    bool answered_ = false;
    EchoPeer peer_;
    EchoPlan plan_;
};

MediaPlane::MediaPlane(Options options, Post post_to_signaling)
    : options_(std::move(options)), post_(std::move(post_to_signaling)), identity_(transport::DtlsIdentity::generate()) {
    if (options_.workers == 0) options_.workers = 1;
    for (std::size_t i = 0; i < options_.workers; ++i) {
        auto state = std::make_unique<WorkerState>();
        state->worker = std::make_unique<Worker>("media-" + std::to_string(i));
        workers_.push_back(std::move(state));
    }
}

MediaPlane::~MediaPlane() { stop(); }

void MediaPlane::start() {
    for (auto& state : workers_) state->worker->start();
}

void MediaPlane::stop() {
    for (auto& state : workers_) {
        WorkerState* s = state.get();
        s->worker->post([s] { s->peers.clear(); });  // peers die on their own thread
        s->worker->stop();
    }
    session_worker_.clear();
}

std::size_t MediaPlane::worker_for(const std::string& room) const { return std::hash<std::string>{}(room) % workers_.size(); }

void MediaPlane::publish_echo(SessionId session, const std::string& room, EchoPlan plan, AnswerCallback done) {
    const std::size_t index = worker_for(room);
    session_worker_[session] = index;
    WorkerState* state = workers_[index].get();
    const bool posted = state->worker->post([this, state, session, plan = std::move(plan), done = std::move(done)]() mutable {
        auto slot = std::make_unique<PeerSlot>(*this, *state, session, std::move(plan));
        const std::string error = slot->peer().start(slot->plan().remote);
        if (!error.empty()) {
            post_([done, error] { done(std::nullopt, "transport_failed", error); });
            return;
        }
        complete_answer(slot->plan(), slot->peer().transport());
        slot->mark_answered();
        std::string answer = transport::write_sdp(slot->plan().answer);
        state->peers[session] = std::move(slot);
        post_([done, answer = std::move(answer)] { done(answer, "", ""); });
    });
    if (!posted) {
        session_worker_.erase(session);
        done(std::nullopt, "media_busy", "the media worker is overloaded; try again");
    }
}

void MediaPlane::add_remote_candidate(SessionId session, const transport::SdpCandidate& candidate) {
    auto it = session_worker_.find(session);
    if (it == session_worker_.end()) return;
    WorkerState* state = workers_[it->second].get();
    state->worker->post([state, session, candidate] {
        if (auto peer = state->peers.find(session); peer != state->peers.end()) {
            peer->second->peer().transport().add_remote_candidate(candidate);
        }
    });
}

void MediaPlane::restart_ice(SessionId session, transport::RemoteTransportParameters remote, AnswerCallback done) {
    auto it = session_worker_.find(session);
    if (it == session_worker_.end()) {
        done(std::nullopt, "no_transport", "publish first");
        return;
    }
    WorkerState* state = workers_[it->second].get();
    const bool posted = state->worker->post([this, state, session, remote = std::move(remote), done]() mutable {
        auto peer = state->peers.find(session);
        if (peer == state->peers.end()) {
            post_([done] { done(std::nullopt, "no_transport", "the transport is gone"); });
            return;
        }
        PeerSlot& slot = *peer->second;
        const transport::SdpFingerprint& bound = slot.plan().remote.fingerprint;
        if (remote.fingerprint.algorithm != bound.algorithm || remote.fingerprint.value != bound.value) {
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

void MediaPlane::close(SessionId session) {
    auto it = session_worker_.find(session);
    if (it == session_worker_.end()) return;
    WorkerState* state = workers_[it->second].get();
    session_worker_.erase(it);
    state->worker->post([this, state, session] { remove_on_worker(*state, session); });
}

void MediaPlane::remove_on_worker(WorkerState& state, SessionId session) {
    auto it = state.peers.find(session);
    if (it == state.peers.end()) return;
    it->second->peer().transport().close();
    state.peers.erase(it);
}

}  // namespace rollcall::sfu
