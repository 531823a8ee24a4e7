#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sfu/EchoPlan.hpp"
#include "sfu/Worker.hpp"
#include "transport/DtlsTransport.hpp"

namespace rollcall::sfu {

using SessionId = std::uint64_t;

struct MediaConnectedInfo {
    std::string dtls_version;
    std::string cipher;
    std::string srtp_profile;
};

// What the media plane tells the signaling side; always called on the signaling thread.
class MediaEvents {
public:
    virtual ~MediaEvents() = default;
    virtual void on_media_candidate(SessionId session, const transport::SdpCandidate& candidate) = 0;
    virtual void on_media_connected(SessionId session, const MediaConnectedInfo& info) = 0;
    virtual void on_media_failed(SessionId session, const std::string& reason) = 0;
};

// The media workers and the peers on them. A room is pinned to one worker; every call here
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

    MediaPlane(Options options, Post post_to_signaling);
    ~MediaPlane();
    MediaPlane(const MediaPlane&) = delete;
    MediaPlane& operator=(const MediaPlane&) = delete;

    void set_events(MediaEvents* events) { events_ = events; }
    void start();
    void stop();

    void publish_echo(SessionId session, const std::string& room, EchoPlan plan, AnswerCallback done);
    void add_remote_candidate(SessionId session, const transport::SdpCandidate& candidate);
    // An ICE restart from a new offer; answers with the same tracks and new ICE credentials.
    void restart_ice(SessionId session, transport::RemoteTransportParameters remote, AnswerCallback done);
    void close(SessionId session);
    bool has(SessionId session) const { return session_worker_.contains(session); }
    const transport::SdpFingerprint& fingerprint() const { return identity_->fingerprint(); }

private:
    class PeerSlot;
    struct WorkerState {
        std::unique_ptr<Worker> worker;
        std::unordered_map<SessionId, std::unique_ptr<PeerSlot>> peers;  // worker thread only
    };

    std::size_t worker_for(const std::string& room) const;
    void remove_on_worker(WorkerState& state, SessionId session);

    Options options_;
    Post post_;
    MediaEvents* events_ = nullptr;
    std::shared_ptr<const transport::DtlsIdentity> identity_;
    std::vector<std::unique_ptr<WorkerState>> workers_;
    std::unordered_map<SessionId, std::size_t> session_worker_;  // signaling thread only
};

}  // namespace rollcall::sfu
