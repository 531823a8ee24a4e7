#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sfu/MediaTruth.hpp"
#include "sfu/OfferPlan.hpp"
#include "sfu/Peer.hpp"
#include "sfu/Producer.hpp"
#include "sfu/PublisherPeer.hpp"
#include "sfu/SubscriberPeer.hpp"

namespace rollcall::sfu {

// What a router tells its owner; called on the worker thread.
class RouterListener {
  public:
    virtual ~RouterListener() = default;
    virtual void on_candidate(SessionId session, PeerRole role,
                              const transport::SdpCandidate& candidate) = 0;
    virtual void on_connected(SessionId session, PeerRole role, const MediaConnectedInfo& info) = 0;
    // The transport is gone: the owner removes `transport` (0: never added) on its next turn.
    virtual void on_failed(SessionId session, PeerRole role, TransportId transport,
                           std::string_view reason) = 0;
    virtual void on_subscriber_offer(SessionId session, const SubscriberOffer& offer) = 0;
    // What a transport saw that signaling cannot (a refused certificate); evidence for the audit.
    virtual void on_incident(const MediaIncident& incident) = 0;
    // The session's data association was closed by the server (a receiver not keeping up).
    virtual void on_data_closed(SessionId /*session*/, const std::string& /*reason*/) {}
    // A data association connected, closed, or opened or closed a channel: the truth changed.
    virtual void on_data_changed(SessionId /*session*/) {}
    // The subscriber's link cannot carry `track_id`'s video (or can again).
    virtual void on_video_off(SessionId /*session*/, const std::string& /*track_id*/,
                              bool /*off*/) {}
};

// One room's media on its worker: the producers, and the peers that feed and drain them.
// Single-threaded: every method runs on the worker thread that owns `setup.context`.
class Router final : private PeerHost {
  public:
    Router(std::string room, TransportSetup setup, RouterListener& listener);
    ~Router() override;
    Router(const Router&) = delete;
    Router& operator=(const Router&) = delete;

    // Fills the answer SDP's transport in plan.answer.
    MediaResult publish(SessionId session, OfferPlan& plan);
    void unpublish(SessionId session, const std::string& track_id);
    void set_subscriptions(SessionId session, std::set<std::string> track_ids,
                           TrackSettingsMap settings = {});
    // A new subscribe offer with fresh ICE credentials; false without a connected-to peer.
    bool restart_subscriber_ice(SessionId session);
    // An administrator's mute of a track (Producer::set_paused); false for no such track.
    bool set_track_paused(const std::string& track_id, bool paused);
    MediaResult subscriber_answer(SessionId session, const SubscriberAnswer& answer,
                                  std::uint64_t version);
    void add_remote_candidate(SessionId session, PeerRole role,
                              const transport::SdpCandidate& candidate);
    void close(SessionId session);
    void close(SessionId session, PeerRole role);
    // Periodic work (once a second): receiver reports to publishers, tracks' bitrates.
    void tick(Clock::time_point now);

    // Roll call: every transport and forwarding sink in the room, as they are now.
    RoomTruth truth() const;
    // Ejections ordered by the audit. A closed transport sends close_notify and stops ICE.
    bool close_transport(TransportId id);
    bool drop_consumer(TransportId transport, const std::string& track_id);
    // Closes the data association on transport `id` (its media stays); false if none.
    bool close_data(TransportId id);

    const std::string& room() const noexcept { return room_; }
    const TransportSetup& setup() const noexcept { return setup_; }
    bool empty() const noexcept { return publishers_.empty() && subscribers_.empty(); }
    Producer* producer(const std::string& track_id) const override;
    SubscriberPeer* subscriber(SessionId session) const;
    std::size_t producer_count() const noexcept { return producers_.size(); }
    std::size_t consumer_count() const noexcept;

  private:
    // PeerHost
    void on_peer_candidate(const Peer& peer, const transport::SdpCandidate& candidate) override;
    void on_peer_connected(const Peer& peer) override;
    void on_peer_failed(const Peer& peer, std::string_view reason) override;
    void on_peer_incident(const MediaIncident& incident) override;
    void on_subscriber_offer(const Peer& peer, const SubscriberOffer& offer) override;
    Producer& add_producer(Producer::Spec spec, SessionId publisher,
                           ProducerUpstream& upstream) override;
    void remove_producer(const std::string& track_id) override;
    void on_peer_data(Peer& peer, const transport::DataChannel& channel, bool binary,
                      std::span<const std::uint8_t> message) override;
    void on_peer_data_refused(Peer& peer, std::uint16_t stream, std::string_view why) override;
    void on_peer_data_changed(Peer& peer) override { listener_.on_data_changed(peer.session()); }
    void on_peer_video_off(const Peer& peer, const std::string& track_id, bool off) override {
        listener_.on_video_off(peer.session(), track_id, off);
    }

    // Removes the track's consumers and the track; subscribers are not reconciled.
    void discard_producer(const std::string& track_id);
    void reconcile_subscribers();
    void assert_on_worker() const;
    PeerHost& host() noexcept { return *this; }

    std::string room_;
    TransportSetup setup_;
    RouterListener& listener_;
    std::unordered_map<std::string, std::unique_ptr<Producer>> producers_;  // by track id
    std::unordered_map<SessionId, std::unique_ptr<PublisherPeer>> publishers_;
    std::unordered_map<SessionId, std::unique_ptr<SubscriberPeer>> subscribers_;
    DataRelay data_relay_;
};

}  // namespace rollcall::sfu
