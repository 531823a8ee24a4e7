#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sfu/MediaTruth.hpp"
#include "sfu/OfferPlan.hpp"
#include "sfu/Producer.hpp"
#include "transport/WebRtcTransport.hpp"

namespace rollcall::sfu {

struct MediaConnectedInfo {
    std::string dtls_version;
    std::string cipher;
    std::string srtp_profile;
    std::string remote_address;
};
// What a connected transport negotiated.
MediaConnectedInfo connected_info(const transport::WebRtcTransport& transport);
// Roll call's view of a transport.
TransportFact transport_fact(TransportId id, SessionId session, PeerRole role,
                             Clock::time_point since, const transport::WebRtcTransport& transport);

// One m-section of an offer to a subscriber: the track it carries, or none (inactive).
struct OfferedSlot {
    std::string mid;
    transport::MediaKind kind = transport::MediaKind::unknown;
    std::string track_id;  // empty: the section is inactive
};

struct SubscriberOffer {
    std::string sdp;
    std::uint64_t version = 0;
    std::vector<OfferedSlot> slots;
};

// What a router tells its owner; called on the worker thread.
class RouterListener {
  public:
    virtual ~RouterListener() = default;
    virtual void on_candidate(SessionId session, PeerRole role,
                              const transport::SdpCandidate& candidate) = 0;
    virtual void on_connected(SessionId session, PeerRole role, const MediaConnectedInfo& info) = 0;
    // The transport is gone (the router removes it on its next turn).
    virtual void on_failed(SessionId session, PeerRole role, std::string_view reason) = 0;
    virtual void on_subscriber_offer(SessionId session, const SubscriberOffer& offer) = 0;
    // What a transport saw that signaling cannot (a refused certificate); evidence for the audit.
    virtual void on_incident(const MediaIncident& incident) = 0;
};

class Router;

// The transport a participant publishes on and the producers it feeds.
class PublisherPeer final : transport::WebRtcTransport::Listener, public ProducerUpstream {
  public:
    PublisherPeer(Router& router, SessionId session);
    ~PublisherPeer() override;

    // The first offer starts the transport; later ones update the tracks (and restart ICE
    // when the credentials changed). Fills plan.answer; returns an error or "".
    std::string negotiate(OfferPlan& plan);
    bool remove_track(const std::string& track_id);
    void send_receiver_reports(Clock::time_point now);
    transport::WebRtcTransport& transport() noexcept { return transport_; }
    const std::vector<Producer*>& producers() const noexcept { return producers_; }
    TransportId id() const noexcept { return id_; }
    TransportFact fact() const;

  private:
    void on_transport_candidate(const transport::SdpCandidate& candidate) override;
    void on_transport_connected() override;
    void on_transport_failed(std::string_view reason) override;
    void on_transport_unverified_path(const std::string& established,
                                      const std::string& unverified) override;
    void on_rtp(transport::RtpPacket& packet) override;
    void on_rtcp(std::span<const std::uint8_t> compound) override;
    void send_keyframe_request(std::uint32_t media_ssrc) override;

    Router& router_;
    SessionId session_;
    TransportId id_;
    Clock::time_point since_;
    transport::WebRtcTransport transport_;
    std::vector<Producer*> producers_;  // owned by the router
    transport::SdpFingerprint fingerprint_;
    std::string remote_ufrag_;
    transport::SessionDescription answer_;
    std::uint32_t rtcp_ssrc_;
    bool started_ = false;
};

// The transport a participant receives on: one consumer per subscribed track, each in an
// m-section of the server's offer. Offers are serialized: one at a time, the next one when
// the answer came back and something changed meanwhile.
class SubscriberPeer final : transport::WebRtcTransport::Listener, public ConsumerDownstream {
  public:
    static constexpr std::size_t kMaxSlots = 64;

    SubscriberPeer(Router& router, SessionId session);
    ~SubscriberPeer() override;

    std::string start();
    void set_desired(std::set<std::string> track_ids);
    // Brings consumers in line with the desired tracks that exist; offers if that changed.
    void reconcile();
    void drop_consumer_of(const Producer& producer);
    // Stops forwarding the track here at once (its section turns inactive in the next offer).
    bool drop_track(const std::string& track_id);
    std::string on_answer(const SubscriberAnswer& answer, std::uint64_t version);
    transport::WebRtcTransport& transport() noexcept { return transport_; }
    std::vector<const Consumer*> consumers() const;
    TransportId id() const noexcept { return id_; }
    TransportFact fact() const;
    void add_consumer_facts(std::vector<ConsumerFact>& out) const;
#ifdef ROLLCALL_FAULT_INJECTION
    // Test builds only: a consumer no subscription asked for, forwarding at once.
    bool plant_consumer(Producer& producer);
#endif

    // ConsumerDownstream
    bool send_rtp(std::span<const std::uint8_t> packet) override {
        return transport_.send_rtp(packet);
    }
    bool send_rtcp(std::span<const std::uint8_t> packet) override {
        return transport_.send_rtcp(packet);
    }

  private:
    struct Slot {
        std::string mid;
        transport::MediaKind kind = transport::MediaKind::unknown;
        std::string track_id;
        std::string stream_id;      // the publisher's, so a participant's tracks share a stream
        transport::SdpCodec codec;  // with this leg's payload type
        std::unique_ptr<Consumer> consumer;
        std::uint64_t offered_in = 0;  // the offer version that carried the consumer
        Clock::time_point since{};     // the consumer's creation
    };

    void on_transport_candidate(const transport::SdpCandidate& candidate) override;
    void on_transport_connected() override;
    void on_transport_failed(std::string_view reason) override;
    void on_transport_unverified_path(const std::string& established,
                                      const std::string& unverified) override;
    void on_rtp(transport::RtpPacket& packet) override;
    void on_rtcp(std::span<const std::uint8_t> compound) override;

    void offer();
    std::uint8_t payload_type_for(const transport::SdpCodec& codec);
    Consumer* consumer_by_ssrc(std::uint32_t ssrc) const noexcept;

    Slot* open_slot(transport::MediaKind kind);
    void fill_slot(Slot& slot, Producer& producer);

    Router& router_;
    SessionId session_;
    TransportId id_;
    Clock::time_point since_;
    transport::WebRtcTransport transport_;
    std::vector<Slot> slots_;
    std::set<std::string> desired_;
    std::map<std::string, std::uint8_t> payload_types_;  // codec name and fmtp → this leg's PT
    std::string origin_;
    std::uint64_t version_ = 0;
    bool negotiating_ = false;
    bool changed_ = false;
    bool remote_set_ = false;
    transport::SdpFingerprint fingerprint_;
};

// One room's media on its worker: the producers, and the peers that feed and drain them.
// Single-threaded (the worker's).
class Router {
  public:
    Router(std::string room, GMainContext* context,
           std::shared_ptr<const transport::DtlsIdentity> identity,
           std::vector<std::string> addresses, RouterListener& listener);
    ~Router();
    Router(const Router&) = delete;
    Router& operator=(const Router&) = delete;

    // Returns the answer SDP in plan.answer, or an error.
    std::string publish(SessionId session, OfferPlan& plan);
    void unpublish(SessionId session, const std::string& track_id);
    void set_subscriptions(SessionId session, std::set<std::string> track_ids);
    std::string subscriber_answer(SessionId session, const SubscriberAnswer& answer,
                                  std::uint64_t version);
    void add_remote_candidate(SessionId session, PeerRole role,
                              const transport::SdpCandidate& candidate);
    void close(SessionId session);
    void close(SessionId session, PeerRole role);
    // Periodic work: receiver reports to publishers.
    void tick(Clock::time_point now);

    // Roll call: every transport and forwarding sink in the room, as they are now.
    RoomTruth truth() const;
    // Ejections ordered by the audit. A closed transport sends close_notify and stops ICE.
    bool close_transport(TransportId id);
    bool drop_consumer(TransportId transport, const std::string& track_id);
#ifdef ROLLCALL_FAULT_INJECTION
    // Test builds only: what no honest code path makes. A gathering transport for
    // `session` (which need not be anyone), and a consumer `subscriber` never asked for.
    TransportId plant_stray_transport(SessionId session);
    bool plant_consumer(SessionId subscriber, const std::string& track_id);
#endif

    const std::string& room() const noexcept {
        return room_;
    }
    bool empty() const noexcept;
    Producer* producer(const std::string& track_id) const;
    std::size_t producer_count() const noexcept {
        return producers_.size();
    }
    std::size_t consumer_count() const noexcept;

  private:
    friend class PublisherPeer;
    friend class SubscriberPeer;

    Producer& add_producer(Producer::Spec spec, SessionId publisher, ProducerUpstream& upstream);
    void remove_producer(const std::string& track_id);

    std::string room_;
    GMainContext* context_;
    std::shared_ptr<const transport::DtlsIdentity> identity_;
    std::vector<std::string> addresses_;
    RouterListener& listener_;
    std::unordered_map<std::string, std::unique_ptr<Producer>> producers_;  // by track id
    std::unordered_map<SessionId, std::unique_ptr<PublisherPeer>> publishers_;
    std::unordered_map<SessionId, std::unique_ptr<SubscriberPeer>> subscribers_;
#ifdef ROLLCALL_FAULT_INJECTION
    struct StrayTransport;
    std::vector<std::unique_ptr<StrayTransport>> strays_;
#endif
};

}  // namespace rollcall::sfu
