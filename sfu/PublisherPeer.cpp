#include "sfu/PublisherPeer.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include "transport/MediaTally.hpp"

namespace rollcall::sfu {

using namespace transport;

namespace {

// How often arrivals are reported: often enough for the sender's estimator to ramp up
// quickly (libwebrtc's receivers report every 50-250 ms), a few kbit/s of RTCP.
constexpr std::chrono::milliseconds kFeedbackInterval{50};
// At most this many datagrams a turn (the whole history fits in fewer).
constexpr int kMaxFeedbackDatagrams = 8;

}  // namespace

PublisherPeer::PublisherPeer(PeerHost& host, const TransportSetup& setup, std::string room,
                             SessionId session)
    : Peer(host, setup, std::move(room), session, PeerRole::publisher), rtcp_ssrc_(random_ssrc()) {}

MediaResult PublisherPeer::negotiate(OfferPlan& plan) {
    if (!started_) {
        if (std::string error = transport().start(plan.remote); !error.empty()) {
            return {MediaError::transport_failed, error};
        }
        started_ = true;
        fingerprint_ = plan.remote.fingerprint;
        remote_ufrag_ = plan.remote.ice_ufrag;
        answer_ = plan.answer;
    } else {
        // The DTLS session is bound to the first fingerprint; a new one is not this peer.
        if (plan.remote.fingerprint != fingerprint_) {
            return {MediaError::fingerprint_changed,
                    "the DTLS fingerprint differs from the one this connection is bound to"};
        }
        if (plan.remote.ice_ufrag != remote_ufrag_) {
            if (std::string error = transport().restart_ice(
                    plan.remote.ice_ufrag, plan.remote.ice_pwd, plan.remote.candidates);
                !error.empty()) {
                return {MediaError::transport_failed, error};
            }
            remote_ufrag_ = plan.remote.ice_ufrag;
        }
        plan.answer.origin_session_id = answer_.origin_session_id;
        plan.answer.origin_version = answer_.origin_version + 1;
        answer_ = plan.answer;
    }
    // Tracks that are gone, or whose SSRC changed, end; new ones start.
    for (Producer* producer : std::vector<Producer*>(producers_)) {
        const auto same =
            std::find_if(plan.tracks.begin(), plan.tracks.end(), [&](const OfferedTrack& t) {
                const Producer::Spec& spec = producer->spec();
                return t.track_id == spec.track_id && t.remote_ssrc == spec.ssrc &&
                       t.payload_type == spec.codec.payload_type && t.rids == spec.rids &&
                       t.layer_ssrcs == spec.layer_ssrcs;
            });
        if (same == plan.tracks.end()) remove_track(producer->spec().track_id);
    }
    for (const OfferedTrack& track : plan.tracks) {
        const bool exists =
            std::any_of(producers_.begin(), producers_.end(),
                        [&](const Producer* p) { return p->spec().track_id == track.track_id; });
        if (exists) continue;
        Producer::Spec spec{track.track_id,   track.mid,  track.kind,       track.remote_ssrc,
                            track.codec_info, track.rids, track.layer_ssrcs};
        producers_.push_back(&host_.add_producer(std::move(spec), session(), *this));
    }
    transport_cc_id_ = plan.transport_cc_extension;
    transport().set_arrival_stamps(transport_cc_id_ != 0);  // feedback reports each arrival
    mid_id_ = plan.mid_extension;
    rid_id_ = plan.rid_extension;
    // The signaled SSRCs, the layers already learned, and room to learn the rest.
    std::set<std::uint32_t> ssrcs = plan.remote.ssrcs;
    std::size_t learnable = 0;
    for (const Producer* producer : producers_) {
        for (std::size_t i = 0; i < producer->layer_count(); ++i)
            if (producer->layer_ssrc(i) != 0) ssrcs.insert(producer->layer_ssrc(i));
        learnable += producer->unbound_layers();
    }
    transport().set_allowed_ssrcs(std::move(ssrcs), learnable);
    if (plan.data) {
        transport::SctpOptions options;
        options.remote_port = plan.data->sctp_port;
        options.max_message_size = kMaxDataMessage;
        options.remote_max_message_size = plan.data->remote_max_message_size;
        enable_data(options, {plan.data->identity, plan.data->may_send, plan.data->may_receive});
    }
    complete_answer(plan, local_parameters(transport()));
    return {};
}

bool PublisherPeer::remove_track(const std::string& track_id) {
    auto it = std::find_if(producers_.begin(), producers_.end(),
                           [&](const Producer* p) { return p->spec().track_id == track_id; });
    if (it == producers_.end()) return false;
    producers_.erase(it);
    host_.remove_producer(track_id);
    return true;
}

std::vector<std::string> PublisherPeer::release_tracks() {
    std::vector<std::string> ids;
    for (const Producer* producer : producers_) ids.push_back(producer->spec().track_id);
    producers_.clear();
    return ids;
}

void PublisherPeer::send_receiver_reports(Clock::time_point now) {
    if (!transport().connected()) return;
    std::array<ReportBlock, 8> blocks{};
    std::size_t count = 0;
    for (Producer* producer : producers_) {
        for (std::size_t layer = 0; layer < producer->layer_count() && count < blocks.size();
             ++layer) {
            if (auto block = producer->report_block(now, layer)) blocks[count++] = *block;
        }
    }
    if (count == 0) return;
    std::array<std::uint8_t, 8 + 24 * 8> out{};
    const std::size_t size =
        write_receiver_report(rtcp_ssrc_, std::span(blocks.data(), count), out);
    if (size > 0) transport().send_rtcp(std::span(out.data(), size));
}

void PublisherPeer::connected() {
    const auto now = Clock::now();
    for (Producer* producer : producers_) {
        if (!producer->consumers().empty()) producer->request_keyframe(now);
    }
}

void PublisherPeer::on_rtp(RtpPacket& packet) {
    const auto now = Clock::now();
    if (transport_cc_id_ != 0) record_arrival(packet, transport().arrival());
    const std::uint32_t ssrc = packet.ssrc();
    for (Producer* producer : producers_) {
        if (producer->layer_of(ssrc)) {
            producer->receive(packet, now);
            return;
        }
    }
    // A signaled SSRC no layer holds yet: Firefox lists its rid layers' SSRCs in the offer
    // too, but which layer each one carries only its packets' rid says.
    if (Producer* producer = bind_layer(packet)) producer->receive(packet, now);
}

bool PublisherPeer::on_rtp_new_ssrc(const RtpPacket& packet) {
    if (bind_layer(packet)) return true;
    // Not one of ours (yet: a probe's padding before the layer named itself), but it did
    // arrive, authenticated: the sender's estimator must not count it lost.
    if (transport_cc_id_ != 0) record_arrival(packet, transport().arrival());
    return false;
}

Producer* PublisherPeer::bind_layer(const RtpPacket& packet) {
    // A simulcast layer's first packets name their section and layer in the mid and rid
    // extensions; its SSRC is bound to that layer from then on.
    auto mid = mid_id_ != 0 ? packet.extension(mid_id_) : std::nullopt;
    auto rid = rid_id_ != 0 ? packet.extension(rid_id_) : std::nullopt;
    if (mid && rid) {
        const std::string_view mid_text(reinterpret_cast<const char*>(mid->data()), mid->size());
        const std::string_view rid_text(reinterpret_cast<const char*>(rid->data()), rid->size());
        for (Producer* producer : producers_) {
            if (producer->spec().mid == mid_text && producer->bind_layer(rid_text, packet.ssrc()))
                return producer;
        }
    }
    return nullptr;
}

void PublisherPeer::record_arrival(const RtpPacket& packet, Clock::time_point now) {
    auto element = packet.extension(transport_cc_id_);
    if (!element) return;
    auto sequence = transport_cc_sequence(*element);
    if (!sequence) return;
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    arrivals_.on_packet(*sequence, us);
    last_media_ssrc_ = packet.ssrc();
    if (!feedback_timer_.active())
        feedback_timer_.start(transport().context(), kFeedbackInterval,
                              [this] { return send_transport_feedback(); });
}

bool PublisherPeer::send_transport_feedback() {
    if (!arrivals_.pending()) return false;  // idle: the next packet starts the timer again
    if (!transport().connected()) return true;
    std::array<std::uint8_t, TransportCcRecorder::kMaxPacketSize> out{};
    for (int i = 0; i < kMaxFeedbackDatagrams && arrivals_.pending(); ++i) {
        const std::size_t size = arrivals_.write_feedback(rtcp_ssrc_, last_media_ssrc_, out);
        if (size == 0) break;
        transport().send_rtcp(std::span(out.data(), size));
        ++media_tally().transport_feedback_sent;
    }
    return true;
}

void PublisherPeer::on_rtcp(std::span<const std::uint8_t> compound) {
    auto parsed = RtcpCompound::parse(compound);
    if (!parsed) return;
    const auto now = Clock::now();
    // Sender reports feed the subscribers' timelines; everything else ends here.
    for (const RtcpHeader& header : parsed->packets()) {
        if (header.type != static_cast<std::uint8_t>(RtcpType::sender_report)) continue;
        auto report = parse_sender_report(header);
        if (!report) continue;
        for (Producer* producer : producers_) {
            if (producer->spec().ssrc == report->ssrc) producer->on_sender_report(*report, now);
        }
    }
}

void PublisherPeer::send_keyframe_request(std::uint32_t media_ssrc) {
    const auto pli = write_pli(rtcp_ssrc_, media_ssrc);
    transport().send_rtcp(pli);
}

}  // namespace rollcall::sfu
