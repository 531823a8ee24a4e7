#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sfu/MediaTruth.hpp"
#include "sfu/Producer.hpp"
#include "transport/WebRtcTransport.hpp"

namespace rollcall::sfu {

// Everything a new transport of a room is made with.
struct TransportSetup {
    GMainContext* context = nullptr;
    std::shared_ptr<const transport::DtlsIdentity> identity;
    transport::LocalNetwork network;
};

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

class Peer;
struct SubscriberOffer;

// What a peer asks of the room it is in, and what it reports to it. The router implements
// it; peers never reach into the router otherwise. Called on the worker thread.
class PeerHost {
  public:
    virtual ~PeerHost() = default;
    virtual void on_peer_candidate(const Peer& peer, const transport::SdpCandidate& candidate) = 0;
    virtual void on_peer_connected(const Peer& peer) = 0;
    // The peer's transport failed; the host removes the peer on a later turn, never now.
    virtual void on_peer_failed(const Peer& peer, std::string_view reason) = 0;
    // What a transport saw that signaling cannot (a refused certificate, a path held).
    virtual void on_peer_incident(const MediaIncident& incident) = 0;
    virtual void on_subscriber_offer(const Peer& peer, const SubscriberOffer& offer) = 0;

    // The room's tracks.
    virtual Producer* producer(const std::string& track_id) const = 0;
    virtual Producer& add_producer(Producer::Spec spec, SessionId publisher,
                                   ProducerUpstream& upstream) = 0;
    // Removes the track and its consumers; subscribers' offers follow.
    virtual void remove_producer(const std::string& track_id) = 0;
};

// One participant's transport in one role, and what every such transport reports the same
// way: candidates once signaled, connection, failure (with the refused certificate as
// evidence), and a held path change. Destroying a peer frees it and nothing else; its owner
// calls close() first.
class Peer : protected transport::WebRtcTransport::Listener {
  public:
    Peer(PeerHost& host, const TransportSetup& setup, std::string room, SessionId session,
         PeerRole role);
    ~Peer() override = default;
    Peer(const Peer&) = delete;
    Peer& operator=(const Peer&) = delete;

    SessionId session() const noexcept { return session_; }
    PeerRole role() const noexcept { return role_; }
    TransportId id() const noexcept { return id_; }
    const std::string& room() const noexcept { return room_; }
    transport::WebRtcTransport& transport() noexcept { return transport_; }
    const transport::WebRtcTransport& transport() const noexcept { return transport_; }
    TransportFact fact() const;
    // Ends the transport: DTLS close_notify, ICE stopped.
    void close() { transport_.close(); }

  protected:
    // Whether candidates gathered now are news to the client (they are in the first
    // description otherwise).
    virtual bool announces_candidates() const = 0;
    // After the host was told of the connection.
    virtual void connected() {}

    PeerHost& host_;

  private:
    void on_transport_candidate(const transport::SdpCandidate& candidate) final;
    void on_transport_connected() final;
    void on_transport_failed(std::string_view reason) final;
    void on_transport_unverified_path(const std::string& established,
                                      const std::string& unverified) final;
    void on_transport_credential_reuse(const std::string& established,
                                       const std::string& other) final;
    void report(MediaIncident::Kind kind, std::string expected, std::string observed);

    std::string room_;
    SessionId session_;
    PeerRole role_;
    TransportId id_;
    Clock::time_point since_;
    transport::WebRtcTransport transport_;
};

}  // namespace rollcall::sfu
