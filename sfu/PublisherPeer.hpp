#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "sfu/OfferPlan.hpp"
#include "sfu/Peer.hpp"
#include "transport/MainLoop.hpp"
#include "transport/TransportCc.hpp"

namespace rollcall::sfu {

// The transport a participant publishes on and the producers it feeds (owned by the room).
class PublisherPeer final : public Peer, public ProducerUpstream {
  public:
    PublisherPeer(PeerHost& host, const TransportSetup& setup, std::string room, SessionId session);

    // The first offer starts the transport; later ones update the tracks (and restart ICE
    // when the credentials changed). Fills plan.answer.
    MediaResult negotiate(OfferPlan& plan);
    bool remove_track(const std::string& track_id);
    // Forgets its tracks without removing them from the room: the owner does that.
    std::vector<std::string> release_tracks();
    void send_receiver_reports(Clock::time_point now);
    const std::vector<Producer*>& producers() const noexcept { return producers_; }

  private:
    bool announces_candidates() const override { return started_; }
    void connected() override;
    void on_rtp(transport::RtpPacket& packet) override;
    void on_rtcp(std::span<const std::uint8_t> compound) override;
    bool on_rtp_new_ssrc(const transport::RtpPacket& packet) override;
    // The producer whose unbound rid layer `packet` names (mid and rid), now bound to its SSRC.
    Producer* bind_layer(const transport::RtpPacket& packet);
    void send_keyframe_request(std::uint32_t media_ssrc) override;
    // transport-cc: every authenticated packet's arrival, reported every kFeedbackInterval.
    void record_arrival(const transport::RtpPacket& packet, Clock::time_point now);
    bool send_transport_feedback();

    std::vector<Producer*> producers_;  // owned by the room
    transport::SdpFingerprint fingerprint_;
    std::string remote_ufrag_;
    transport::SessionDescription answer_;
    std::uint32_t rtcp_ssrc_;
    bool started_ = false;
    std::uint8_t transport_cc_id_ = 0;  // 0: not negotiated
    std::uint8_t mid_id_ = 0;           // simulcast by rid: the mid and rid extensions
    std::uint8_t rid_id_ = 0;
    std::uint32_t last_media_ssrc_ = 0;
    transport::TransportCcRecorder arrivals_;
    transport::GlibTimer feedback_timer_;
};

}  // namespace rollcall::sfu
