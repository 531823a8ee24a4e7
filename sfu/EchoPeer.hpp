#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sfu/OfferPlan.hpp"
#include "transport/WebRtcTransport.hpp"

namespace rollcall::sfu {

// Sends a participant's own tracks back to it on the same peer connection (Janus EchoTest
// style): each packet is decrypted, its SSRC rewritten to the one the answer announced, and
// encrypted again. Keyframe requests for the echoed SSRCs go back to the sender's SSRCs.
class EchoPeer final : transport::WebRtcTransport::Listener {
  public:
    class Listener {
      public:
        virtual ~Listener() = default;
        virtual void on_peer_candidate(const transport::SdpCandidate& candidate) = 0;
        virtual void on_peer_connected() = 0;
        virtual void on_peer_failed(std::string_view reason) = 0;
    };

    EchoPeer(GMainContext* context, std::shared_ptr<const transport::DtlsIdentity> identity,
             transport::LocalNetwork network, std::vector<OfferedTrack> tracks, Listener& listener);

    std::string start(const transport::RemoteTransportParameters& remote) {
        return transport_.start(remote);
    }
    transport::WebRtcTransport& transport() noexcept { return transport_; }

  private:
    void on_transport_candidate(const transport::SdpCandidate& candidate) override;
    void on_transport_connected() override;
    void on_transport_failed(std::string_view reason) override;
    void on_rtp(transport::RtpPacket& packet) override;
    void on_rtcp(std::span<const std::uint8_t> compound) override;
    void request_keyframes();

    std::vector<OfferedTrack> tracks_;
    Listener& listener_;
    transport::WebRtcTransport transport_;
};

}  // namespace rollcall::sfu
