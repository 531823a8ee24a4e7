#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sfu/Consumer.hpp"
#include "sfu/OfferPlan.hpp"
#include "sfu/Peer.hpp"
#include "sfu/Prober.hpp"
#include "transport/BandwidthEstimator.hpp"
#include "transport/MainLoop.hpp"

namespace rollcall::sfu {

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

// The transport a participant receives on: one consumer per subscribed track, each in an
// m-section of the server's offer. Offers are serialized: one at a time, the next one when
// the answer came back and something changed meanwhile.
class SubscriberPeer final : public Peer, public ConsumerDownstream {
  public:
    static constexpr std::size_t kMaxSlots = transport::kMaxMediaSections;
    // How long the link's estimate must leave no room for a video's lowest layer before that
    // video is turned off (audio first), and the least time before it comes back.
    static constexpr std::chrono::seconds kStarvedOff{2};

    SubscriberPeer(PeerHost& host, const TransportSetup& setup, std::string room,
                   SessionId session);

    MediaResult start();
    void set_desired(std::set<std::string> track_ids, TrackSettingsMap settings = {});
    // Brings consumers in line with the desired tracks that exist; offers if that changed.
    void reconcile();
    void drop_consumer_of(const Producer& producer);
    // Stops forwarding the track here at once (its section turns inactive in the next offer).
    bool drop_track(const std::string& track_id);
    MediaResult on_answer(const SubscriberAnswer& answer, std::uint64_t version);
    // The client lost its path (RFC 8445 §9): the next offer (at once, or after the answer
    // outstanding) carries fresh ICE credentials of the server's, and the answer's become
    // the peer's. DTLS and SRTP carry on. False when there is no path to restart yet.
    bool restart_ice();
    std::vector<const Consumer*> consumers() const;
    void add_consumer_facts(std::vector<ConsumerFact>& out) const;
    // Once a second: each consumer's bitrate.
    void update_rates(Clock::time_point now) noexcept;

    // ConsumerDownstream: with transport-cc, every packet is numbered for the estimate.
    bool send_rtp(std::span<const std::uint8_t> packet) override;
    std::array<const void*, kHotLines> hot_lines() const noexcept override {
        const auto transport_lines = transport().send_lines();
        return {this,
                &transport_cc_,
                bwe_.send_line(),
                transport_lines[0],
                transport_lines[1],
                transport_lines[2],
                transport_lines[3],
                nullptr};
    }
    void prefetch_send() const noexcept override {
        bwe_.prefetch_send();
        transport().prefetch_send();
    }
    const transport::BandwidthEstimator& estimator() const noexcept { return bwe_; }
    bool estimating() const noexcept { return transport_cc_; }
    const Prober& prober() const noexcept { return prober_; }
    bool send_rtcp(std::span<const std::uint8_t> packet) override {
        return transport().send_rtcp(packet);
    }

  private:
    friend class TestHooks;  // plants a consumer no subscription asked for

    struct Slot;
    // The active, unpaused video slots into `order`, biggest requested size first; how many.
    std::size_t videos_by_size(std::array<Slot*, kMaxSlots>& order);
    struct Slot {
        std::string mid;
        transport::MediaKind kind = transport::MediaKind::unknown;
        std::string track_id;
        std::string stream_id;      // the publisher's, so a participant's tracks share a stream
        transport::SdpCodec codec;  // with this leg's payload type
        std::unique_ptr<Consumer> consumer;
        std::uint64_t offered_in = 0;  // the offer version that carried the consumer
        Clock::time_point since{};     // the consumer's creation
        // Since when the link's estimate has not carried even its lowest layer ({}: it does).
        Clock::time_point starved_since{};
        Clock::time_point off_since{};  // turned off for the link (while video_off)
    };

    bool announces_candidates() const override { return version_ > 0; }
    void connected() override;
    void on_rtp(transport::RtpPacket& packet) override;
    void on_rtcp(std::span<const std::uint8_t> compound) override;

    void offer();
    std::uint8_t payload_type_for(const transport::SdpCodec& codec);
    Consumer* consumer_by_ssrc(std::uint32_t ssrc) const noexcept;
    TrackSettings settings_for(const std::string& track_id) const;
    Slot* open_slot(transport::MediaKind kind);
    void fill_slot(Slot& slot, Producer& producer);
    void empty_slot(Slot& slot);
    // Shares the link's estimate out: audio first, then each video the highest layer that
    // fits what is left (a layer up only with 15% to spare, and not while a recent forced
    // step down holds); a video whose lowest layer (a one-layer video: its only one) does
    // not fit is off (the subscriber keeps its audio).
    void allocate(Clock::time_point now);
    // After the link forced a layer down: no step up for a while (see hold_until_).
    void hold_after_step_down(Clock::time_point now, bool congested);
    // Starts a probe when some video is held below its asked-for layer by the estimate
    // (Prober says when, and how hard), unless `blocked` (a hold, or congestion).
    void maybe_probe(Clock::time_point now, bool blocked);
    // The running probe's padding due now; false once the cluster is over.
    bool send_probe_padding();
    // The video consumer that carries a probe's padding (active, with RTX), or none.
    Consumer* padder() const noexcept;

    std::vector<Slot> slots_;
    TrackSettingsMap settings_;
    bool transport_cc_ = false;  // the answer kept the extension
    bool sending_padding_ = false;
    transport::BandwidthEstimator bwe_;
    Prober prober_;
    transport::GlibTimer probe_timer_;
    std::uint64_t probes_judged_ = 0;
    // After the link forced a layer down, no layer goes up before `hold_until_`: when it was
    // congested, for 5 s, doubling up to 60 s while going up keeps failing within 10 s;
    // when the estimate merely fell short, for 2 s.
    Clock::time_point hold_until_{};
    Clock::time_point last_up_{};
    Clock::time_point last_down_{};
    std::chrono::seconds hold_{5};
    std::set<std::string> desired_;
    std::map<std::string, std::uint8_t> payload_types_;  // codec name and fmtp → this leg's PT
    std::string origin_;
    std::uint64_t version_ = 0;
    bool negotiating_ = false;
    bool changed_ = false;
    bool remote_set_ = false;
    bool restart_wanted_ = false;   // the next offer restarts ICE
    bool restart_offered_ = false;  // the outstanding offer did; its answer brings the peer's
    transport::SdpFingerprint fingerprint_;
};

}  // namespace rollcall::sfu
