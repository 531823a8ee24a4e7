#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include "sfu/MediaError.hpp"
#include "sfu/MediaTruth.hpp"
#include "sfu/OfferPlan.hpp"
#include "sfu/Peer.hpp"
#include "sfu/SubscriberPeer.hpp"
#include "sfu/TrackSettings.hpp"

namespace rollcall::sfu {

// What the media plane tells the signaling side; always called on the signaling thread.
class MediaEvents {
  public:
    virtual ~MediaEvents() = default;
    virtual void on_media_candidate(SessionId session, PeerRole role,
                                    const transport::SdpCandidate& candidate) = 0;
    virtual void on_media_connected(SessionId session, PeerRole role,
                                    const MediaConnectedInfo& info) = 0;
    // The transport is gone; for a publisher, so are its tracks.
    virtual void on_media_failed(SessionId session, PeerRole role, const std::string& reason) = 0;
    virtual void on_subscriber_offer(SessionId session, const SubscriberOffer& offer) = 0;
    // Roll call: a worker's media plane after a change (or its periodic full snapshot).
    virtual void on_media_truth(const MediaTruth& truth) = 0;
    // The server closed the session's data channels (`reason`: "slow_receiver", "roll_call").
    virtual void on_data_closed(SessionId /*session*/, const std::string& /*reason*/) {}
    // The session's subscriber link cannot carry `track_id`'s video (off), or can again.
    virtual void on_video_off(SessionId /*session*/, const std::string& /*track_id*/,
                              bool /*off*/) {}
};

// The calls signaling makes into the media plane: the seam between the two. Every call is
// made on the signaling thread and never blocks on a worker; results come back through the
// callbacks (on the signaling thread) and MediaEvents. SDP is planned by the free functions
// of OfferPlan.hpp first: what arrives here is already checked.
class MediaControl {
  public:
    // The answer SDP when `result` is ok.
    using AnswerCallback = std::function<void(MediaResult result, std::string answer)>;
    using DoneCallback = std::function<void(MediaResult result)>;

    virtual ~MediaControl() = default;

    // Echo mode: one sendrecv transport that returns the peer's own media.
    virtual void publish_echo(SessionId session, const std::string& room, OfferPlan plan,
                              AnswerCallback done) = 0;
    // An ICE restart of an echo transport; answers with the same tracks and new ICE credentials.
    virtual void restart_ice(SessionId session, transport::RemoteTransportParameters remote,
                             AnswerCallback done) = 0;
    // Conferencing: the session's publisher transport from its offer (the first, or a
    // renegotiation that adds, removes or restarts); each plan track carries its track id.
    virtual void publish(SessionId session, const std::string& room, OfferPlan plan,
                         AnswerCallback done) = 0;
    virtual void unpublish(SessionId session, const std::string& track_id) = 0;
    // The tracks the session should receive, with what it asked of each (track_settings);
    // the media plane offers when the set changes.
    virtual void set_subscriptions(SessionId session, const std::string& room,
                                   std::set<std::string> track_ids,
                                   TrackSettingsMap settings = {}) = 0;
    // The client's subscriber connection lost its path: offer again with an ICE restart.
    virtual void restart_subscriber_ice(SessionId session) = 0;
    // An administrator muted (or unmuted) a track: forwarding stops (or resumes) at once.
    virtual void set_track_paused(const std::string& room, const std::string& track_id,
                                  bool paused) = 0;
    virtual void subscriber_answer(SessionId session, SubscriberAnswer answer,
                                   std::uint64_t version, DoneCallback done) = 0;
    virtual void add_remote_candidate(SessionId session, PeerRole role,
                                      const transport::SdpCandidate& candidate) = 0;
    // Ends all of the session's media.
    virtual void close(SessionId session) = 0;
    virtual bool has(SessionId session) const = 0;
    virtual bool has_echo(SessionId session) const = 0;

    // Roll call. Ejections close a transport (close_notify, ICE stopped; its consumers go
    // with it) or stop one forwarding sink. Neither touches the participant's other media.
    virtual void eject_transport(const std::string& room, TransportId id) = 0;
    virtual void drop_consumer(const std::string& room, TransportId transport,
                               const std::string& track_id) = 0;
    // Closes the data association on a transport (an ABORT); the transport's media stays.
    virtual void close_data(const std::string& room, TransportId transport) = 0;
    // True when a truth from `worker` that had run commands up to `applied` reflects every
    // command sent for `room` so far: the roster and that truth may be compared.
    virtual bool is_current(const std::string& room, std::size_t worker,
                            std::uint64_t applied) const = 0;
    // Has the room's worker publish its truth at once (after every command sent before).
    virtual void request_truth(const std::string& room) = 0;
    // Forgets the bookkeeping of rooms a full snapshot shows without media.
    virtual void forget_rooms_without_media(const MediaTruth& full) = 0;
    virtual std::size_t worker_for(const std::string& room) const = 0;

    // Test builds only (TestHooks): a transport for `session` (0: a session nobody has), or a
    // consumer of `track_id` in `subscriber`'s transport that no subscription asked for.
    virtual void plant_stray_transport(const std::string& room, SessionId session) = 0;
    // A data association on `session`'s receiving transport, which never negotiated one.
    virtual void plant_stray_data(const std::string& room, SessionId session) = 0;
    virtual void plant_consumer(const std::string& room, SessionId subscriber,
                                const std::string& track_id) = 0;
};

}  // namespace rollcall::sfu
