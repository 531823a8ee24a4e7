#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sfu/DataRelay.hpp"
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

    // A message on one of the peer's data channels, and one its association refused.
    virtual void on_peer_data(Peer& /*peer*/, const transport::DataChannel& /*channel*/,
                              bool /*binary*/, std::span<const std::uint8_t> /*message*/) {}
    virtual void on_peer_data_refused(Peer& /*peer*/, std::uint16_t /*stream*/,
                                      std::string_view /*why*/) {}
    // Its association connected or ended, or a channel opened or closed.
    virtual void on_peer_data_changed(Peer& /*peer*/) {}
    // A subscriber's link stopped (or again carries) a track's video: audio goes on.
    virtual void on_peer_video_off(const Peer& /*peer*/, const std::string& /*track_id*/,
                                   bool /*off*/) {}
};

// One participant's transport in one role, and what every such transport reports the same
// way: candidates once signaled, connection, failure (with the refused certificate as
// evidence), and a held path change. Destroying a peer frees it and nothing else; its owner
// calls close() first.
class Peer : protected transport::WebRtcTransport::Listener,
             protected transport::SctpAssociation::Listener {
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
    // Data channels on this transport (an SCTP association once DTLS is up), used with
    // `access`; the host hears of its messages. Once.
    void enable_data(const transport::SctpOptions& options, DataAccess access);
    // Roll call's view of its association, if it has one; `receives`: the room's data is
    // delivered to it.
    std::optional<DataFact> data_fact() const;
    DataEndpoint data_endpoint() noexcept { return {session_, &data_access_, transport_.data()}; }
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
    // SctpAssociation::Listener (packets go out through the transport, never here).
    void on_sctp_packet(std::span<const std::uint8_t>) final {}
    void on_sctp_state(transport::SctpState) final { host_.on_peer_data_changed(*this); }
    void on_channel_open(const transport::DataChannel&) final { host_.on_peer_data_changed(*this); }
    void on_channel_message(const transport::DataChannel& channel, bool binary,
                            std::span<const std::uint8_t> message) final {
        host_.on_peer_data(*this, channel, binary, message);
    }
    void on_channel_closed(std::uint16_t) final { host_.on_peer_data_changed(*this); }
    void on_message_refused(std::uint16_t stream, std::size_t, std::string_view why) final {
        host_.on_peer_data_refused(*this, stream, why);
    }

    DataAccess data_access_;

    std::string room_;
    SessionId session_;
    PeerRole role_;
    TransportId id_;
    Clock::time_point since_;
    transport::WebRtcTransport transport_;
};

}  // namespace rollcall::sfu
