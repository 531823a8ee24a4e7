#include "sfu/SubscriberPeer.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include "transport/MediaTally.hpp"
#include "transport/TransportCc.hpp"

namespace rollcall::sfu {

using namespace transport;

namespace {

// What a packet gains on its way out: the transport-wide sequence extension and SRTP's tag.
constexpr std::size_t kWireExtra = 8 + 16;

// Keyframe requests (PLI, FIR), NACKs and receiver report blocks in a compound from a
// subscriber, by media SSRC.
template <typename OnKeyframe, typename OnNack, typename OnReport>
void read_feedback(std::span<const std::uint8_t> compound, OnKeyframe&& on_keyframe,
                   OnNack&& on_nack, OnReport&& on_report) {
    auto parsed = RtcpCompound::parse(compound);
    if (!parsed) return;
    for (const RtcpHeader& header : parsed->packets()) {
        if (header.type == static_cast<std::uint8_t>(RtcpType::receiver_report)) {
            if (auto report = parse_receiver_report(header)) {
                for (const ReportBlock& block : report->reports) on_report(block);
            }
            continue;
        }
        const bool pli = is_pli(header);
        const bool fir = is_fir(header);
        const bool nack = is_nack(header);
        if (!pli && !fir && !nack) continue;
        auto feedback = parse_feedback(header);
        if (!feedback) continue;
        if (pli) {
            on_keyframe(feedback->media_ssrc, false);
        } else if (fir) {
            if (auto entries = parse_fir(*feedback)) {
                for (const FirEntry& entry : *entries) on_keyframe(entry.ssrc, true);
            }
        } else if (auto items = parse_nack(*feedback)) {
            on_nack(feedback->media_ssrc, *items);
        }
    }
}

bool contains(const std::vector<std::string>& mids, const std::string& mid) {
    return std::find(mids.begin(), mids.end(), mid) != mids.end();
}

}  // namespace

SubscriberPeer::SubscriberPeer(PeerHost& host, const TransportSetup& setup, std::string room,
                               SessionId session)
    : Peer(host, setup, std::move(room), session, PeerRole::subscriber),
      origin_(std::to_string(random_ssrc())) {}

MediaResult SubscriberPeer::start() {
    if (std::string error = transport().prepare_offer(); !error.empty()) {
        return {MediaError::transport_failed, error};
    }
    return {};
}

void SubscriberPeer::set_desired(std::set<std::string> track_ids, TrackSettingsMap settings) {
    desired_ = std::move(track_ids);
    settings_ = std::move(settings);
    const auto now = Clock::now();
    for (Slot& slot : slots_)
        if (slot.consumer) slot.consumer->set_settings(settings_for(slot.track_id), now);
    reconcile();
}

TrackSettings SubscriberPeer::settings_for(const std::string& track_id) const {
    auto it = settings_.find(track_id);
    return it == settings_.end() ? TrackSettings{} : it->second;
}

void SubscriberPeer::empty_slot(Slot& slot) {
    if (slot.consumer) {
        transport().stop_sending(slot.consumer->spec().ssrc);
        if (slot.consumer->spec().rtx_ssrc)
            transport().stop_sending(slot.consumer->spec().rtx_ssrc);
    }
    slot.consumer.reset();
    slot.track_id.clear();
    changed_ = true;
}

void SubscriberPeer::drop_consumer_of(const Producer& producer) {
    for (Slot& slot : slots_) {
        if (slot.consumer && &slot.consumer->producer() == &producer) empty_slot(slot);
    }
}

void SubscriberPeer::reconcile() {
    // Consumers of tracks no longer wanted stop at once; their sections become inactive.
    for (Slot& slot : slots_) {
        if (slot.consumer && !desired_.contains(slot.track_id)) empty_slot(slot);
    }
    for (const std::string& track_id : desired_) {
        Producer* producer = host_.producer(track_id);
        if (!producer || producer->publisher() == session()) {
            continue;  // not (yet) there; never oneself
        }
        const bool consumed = std::any_of(slots_.begin(), slots_.end(), [&](const Slot& s) {
            return s.consumer && s.track_id == track_id;
        });
        if (consumed) continue;
        if (Slot* slot = open_slot(producer->spec().kind)) fill_slot(*slot, *producer);
    }
    if (changed_ && !negotiating_) offer();
}

SubscriberPeer::Slot* SubscriberPeer::open_slot(MediaKind kind) {
    // Reuse an inactive section of the same kind, else open a new one.
    auto free = std::find_if(slots_.begin(), slots_.end(),
                             [&](const Slot& s) { return !s.consumer && s.kind == kind; });
    if (free != slots_.end()) return &*free;
    if (slots_.size() >= kMaxSlots) return nullptr;
    Slot slot;
    slot.mid = std::to_string(slots_.size());
    slot.kind = kind;
    slots_.push_back(std::move(slot));
    return &slots_.back();
}

void SubscriberPeer::fill_slot(Slot& slot, Producer& producer) {
    slot.track_id = producer.spec().track_id;
    slot.stream_id = "s" + std::to_string(producer.publisher());
    slot.codec = producer.spec().codec;
    slot.codec.payload_type = payload_type_for(producer.spec().codec);
    slot.codec.feedback.clear();
    Consumer::Spec spec{slot.mid, random_ssrc(), slot.codec.payload_type, 0, 0};
    if (slot.kind == MediaKind::video) {
        slot.codec.feedback = {"nack", "nack pli", "ccm fir"};
        SdpCodec rtx_key;
        rtx_key.name = "rtx";
        rtx_key.fmtp = "apt=" + std::to_string(slot.codec.payload_type);
        spec.rtx_ssrc = random_ssrc();
        spec.rtx_payload_type = payload_type_for(rtx_key);
    }
    slot.consumer = std::make_unique<Consumer>(producer, spec, *this);
    slot.consumer->set_settings(settings_for(slot.track_id), Clock::now());
    slot.offered_in = 0;
    slot.since = Clock::now();
    changed_ = true;
}

std::uint8_t SubscriberPeer::payload_type_for(const SdpCodec& codec) {
    // One payload type per codec configuration on this leg, stable for its lifetime, so
    // sections in the BUNDLE never give one number two meanings.
    const std::string key = codec.name + "/" + std::to_string(codec.clock_rate) + "/" + codec.fmtp;
    if (auto it = payload_types_.find(key); it != payload_types_.end()) return it->second;
    auto taken = [&](std::uint8_t candidate) {
        return std::any_of(payload_types_.begin(), payload_types_.end(),
                           [&](const auto& e) { return e.second == candidate; });
    };
    // Opus at its customary 111 when free; everything else from the dynamic range 96–127.
    const bool opus = codec.name == "opus" || codec.name == "OPUS";
    std::uint8_t pt = opus && !taken(111) ? 111 : 96;
    while (taken(pt) && pt < 127) ++pt;
    payload_types_[key] = pt;
    return pt;
}

bool SubscriberPeer::restart_ice() {
    if (!remote_set_) return false;
    restart_wanted_ = true;
    if (!negotiating_) offer();
    return true;
}

void SubscriberPeer::offer() {
    ++version_;
    if (restart_wanted_) {
        restart_wanted_ = false;
        if (std::string error = transport().restart_local_ice(); error.empty()) {
            restart_offered_ = true;
        }
    }
    SubscriberOffer out;
    out.version = version_;
    std::vector<SubscriberSection> sections;
    for (Slot& slot : slots_) {
        SubscriberSection section{slot.mid, slot.kind, slot.codec, {}, {}, 0, 0, 0};
        if (slot.consumer) {
            const Consumer::Spec& spec = slot.consumer->spec();
            section.track_id = slot.track_id;
            section.stream_id = slot.stream_id;
            section.ssrc = spec.ssrc;
            section.rtx_ssrc = spec.rtx_ssrc;
            section.rtx_payload_type = spec.rtx_payload_type;
            if (slot.offered_in == 0) slot.offered_in = version_;
        }
        out.slots.push_back({slot.mid, slot.kind, section.track_id});
        sections.push_back(std::move(section));
    }
    LocalTransportParameters local = local_parameters(transport());
    local.setup = "actpass";  // every offer, also after the first answer fixed the roles
    negotiating_ = true;
    changed_ = false;
    out.sdp = write_sdp(subscriber_offer(origin_, version_, local, sections));
    host_.on_subscriber_offer(*this, out);
}

MediaResult SubscriberPeer::on_answer(const SubscriberAnswer& answer, std::uint64_t version) {
    if (!negotiating_ || version != version_) {
        return {MediaError::stale_answer, "that is not the answer to the outstanding offer"};
    }
    if (!remote_set_) {
        if (std::string error = transport().set_remote(answer.remote); !error.empty()) {
            return {MediaError::transport_failed, error};
        }
        remote_set_ = true;
        fingerprint_ = answer.remote.fingerprint;
    } else if (answer.remote.fingerprint != fingerprint_) {
        return {MediaError::fingerprint_changed,
                "the DTLS fingerprint differs from the one this connection is bound to"};
    } else if (restart_offered_) {
        if (std::string error = transport().set_remote_ice(
                answer.remote.ice_ufrag, answer.remote.ice_pwd, answer.remote.candidates);
            !error.empty()) {
            return {MediaError::transport_failed, error};
        }
    }
    restart_offered_ = false;
    negotiating_ = false;
    transport_cc_ = answer.transport_cc;
    const auto now = Clock::now();
    for (Slot& slot : slots_) {
        if (!slot.consumer || slot.offered_in == 0 || slot.offered_in > version) continue;
        if (contains(answer.rejected_mids, slot.mid) || slot.consumer->active()) continue;
        slot.consumer->activate(contains(answer.rtx_mids, slot.mid), transport().connected(), now);
    }
    if (changed_) offer();
    return {};
}

std::vector<const Consumer*> SubscriberPeer::consumers() const {
    std::vector<const Consumer*> out;
    for (const Slot& slot : slots_) {
        if (slot.consumer) out.push_back(slot.consumer.get());
    }
    return out;
}

Consumer* SubscriberPeer::consumer_by_ssrc(std::uint32_t ssrc) const noexcept {
    for (const Slot& slot : slots_) {
        if (slot.consumer && slot.consumer->spec().ssrc == ssrc) return slot.consumer.get();
    }
    return nullptr;
}

void SubscriberPeer::connected() {
    const auto now = Clock::now();
    for (const Slot& slot : slots_) {
        if (slot.consumer && slot.consumer->active() &&
            slot.consumer->target_layer() != Consumer::kNoLayer)
            slot.consumer->producer().request_keyframe(now, slot.consumer->target_layer());
    }
}

void SubscriberPeer::update_rates(Clock::time_point now) noexcept {
    for (Slot& slot : slots_) {
        if (slot.consumer && slot.consumer->producer().simulcast())
            slot.consumer->choose_layer(now);
        if (slot.consumer) slot.consumer->update_rate(now);
    }
}

void SubscriberPeer::add_consumer_facts(std::vector<ConsumerFact>& out) const {
    for (const Slot& slot : slots_) {
        if (!slot.consumer) continue;
        const Producer& producer = slot.consumer->producer();
        auto layer = [&](std::size_t l) {
            return !producer.simulcast() || l == Consumer::kNoLayer ? -1 : static_cast<int>(l);
        };
        out.push_back({id(), session(), producer.spec().track_id, producer.publisher(),
                       slot.consumer->active(), slot.since, slot.consumer->stream_stats(),
                       layer(slot.consumer->current_layer()), layer(slot.consumer->target_layer()),
                       layer(slot.consumer->bandwidth_max_layer()), slot.consumer->video_off()});
    }
}

bool SubscriberPeer::drop_track(const std::string& track_id) {
    bool dropped = false;
    for (Slot& slot : slots_) {
        if (slot.consumer && slot.track_id == track_id) {
            empty_slot(slot);
            dropped = true;
        }
    }
    if (dropped && !negotiating_) offer();
    return dropped;
}

void SubscriberPeer::on_rtp(RtpPacket&) {
    // A subscriber sends no media on this transport (sections are sendonly from here).
}

bool SubscriberPeer::send_rtp(std::span<const std::uint8_t> packet) {
    if (!transport_cc_) return transport().send_rtp(packet);
    const auto now =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
            .count();
    // What goes on the wire: the extension's 8 bytes and SRTP's tag come on top.
    const std::size_t wire = packet.size() + kWireExtra;
    // A probe's cluster is its padding only: media is not paced, and a keyframe's burst in
    // it would claim a rate the path never carried for long.
    const int cluster = sending_padding_ ? prober_.cluster() : -1;
    if (sending_padding_) prober_.on_sent(wire);
    const std::uint16_t sequence = bwe_.on_send(wire, now, cluster);
    return transport().send_rtp(packet, kSubscriberTransportCcId, sequence);
}

void SubscriberPeer::maybe_probe(Clock::time_point now, bool blocked) {
    if (prober_.running()) return;
    // What the videos need at the sizes asked for (with the margin a step up wants), and
    // whether the estimate holds any of them below that.
    double wanted = 0;
    bool limited = false;
    for (const Slot& slot : slots_) {
        if (!slot.consumer || !slot.consumer->active()) continue;
        const Consumer& consumer = *slot.consumer;
        if (slot.kind == MediaKind::audio) {
            wanted += std::max(consumer.stream_stats().bitrate_bps, 40'000.0);
            continue;
        }
        const Producer& producer = consumer.producer();
        const std::size_t preferred = consumer.preferred_layer(now);
        if (preferred == Consumer::kNoLayer) continue;
        wanted += 1.15 * producer.layer_bitrate(preferred);
        // Held below what was asked: a lower layer, none at all, or (one layer) about to be
        // turned off.
        const std::size_t max = consumer.bandwidth_max_layer();
        if (consumer.video_off() || slot.starved_since != Clock::time_point{} ||
            (max != Consumer::kNoLayer && max < preferred))
            limited = true;
    }
    if (!padder()) return;  // no RTX to pad on: no probes
    if (prober_.start(0.95 * bwe_.estimate_bps(), wanted, limited, blocked, now) < 0) return;
    ++media_tally().probe_clusters;
    if (!send_probe_padding()) return;
    probe_timer_.start(
        transport().context(), std::chrono::duration_cast<std::chrono::milliseconds>(Prober::kTick),
        [this] { return send_probe_padding(); }, G_PRIORITY_HIGH);
}

Consumer* SubscriberPeer::padder() const noexcept {
    for (const Slot& slot : slots_) {
        if (slot.consumer && slot.kind == MediaKind::video && slot.consumer->can_pad())
            return slot.consumer.get();
    }
    return nullptr;
}

bool SubscriberPeer::send_probe_padding() {
    const Prober::Due due = prober_.due(Clock::now(), 12 + kWireExtra);
    Consumer* on = padder();
    sending_padding_ = true;
    for (std::size_t i = 0; on && i < due.packets; ++i) {
        if (!on->send_padding(due.padding)) break;
    }
    sending_padding_ = false;
    if (due.last || !on) {
        bwe_.end_cluster(prober_.cluster());
        prober_.finish(Clock::now());
        return false;
    }
    return true;
}

std::size_t SubscriberPeer::videos_by_size(std::array<Slot*, kMaxSlots>& order) {
    // The biggest tile first (no size asked counts as biggest): when the link carries only
    // some videos, it keeps the one the subscriber looks at. Paused ones take nothing.
    std::size_t videos = 0;
    for (Slot& slot : slots_) {
        if (slot.consumer && slot.consumer->active() && slot.kind == MediaKind::video &&
            !slot.consumer->settings().paused && videos < order.size())
            order[videos++] = &slot;
    }
    auto area = [](const Slot* slot) {
        const TrackSettings& s = slot->consumer->settings();
        return s.max_width == 0 && s.max_height == 0 ? UINT32_MAX
                                                     : std::uint32_t{s.max_width} * s.max_height;
    };
    std::stable_sort(order.begin(), order.begin() + videos,
                     [&](const Slot* a, const Slot* b) { return area(a) > area(b); });
    return videos;
}

void SubscriberPeer::allocate(Clock::time_point now) {
    double budget = 0.95 * bwe_.estimate_bps();
    for (const Slot& slot : slots_) {
        if (slot.consumer && slot.consumer->active() && slot.kind == MediaKind::audio)
            budget -= std::max(slot.consumer->stream_stats().bitrate_bps, 40'000.0);
    }
    const bool holding = now < hold_until_;
    const bool congested =
        bwe_.usage() == transport::BandwidthEstimator::Usage::overusing || bwe_.loss() > 0.02;
    std::array<Slot*, kMaxSlots> order{};
    const std::size_t videos = videos_by_size(order);
    for (std::size_t v = 0; v < videos; ++v) {
        Slot& slot = *order[v];
        Consumer& consumer = *slot.consumer;
        const Producer& producer = consumer.producer();
        const std::size_t before = consumer.bandwidth_max_layer();
        const bool was_off = consumer.video_off();
        std::size_t fits = Consumer::kNoLayer;
        for (std::size_t i = 0; i < producer.layer_count(); ++i) {
            const double rate = producer.layer_bitrate(i);
            if (!producer.layer_active(i, now) || rate <= 0) continue;
            const bool up = was_off || (before != Consumer::kNoLayer && i > before);
            // Back on from off: its lowest layer, kStarvedOff after it went off, whatever hold
            // an earlier step down left (that hold kept it off in a loaded CI run).
            if (was_off ? i > 0 || now - slot.off_since < kStarvedOff : up && holding) continue;
            if (rate * (up ? 1.15 : 1.0) <= budget) fits = i;
        }
        // Nothing measured yet (the first second): no limit until there is.
        const bool measured = producer.layer_bitrate(0) > 0;
        // Audio first: a link that has not carried even the lowest layer for kStarvedOff gets
        // no video of this track (the subscriber is told), and the budget left goes to the
        // next. Until then the lowest layer goes on: one low estimate (a keyframe burst, a
        // congested moment) is not a link that cannot carry it.
        const bool starved = measured && fits == Consumer::kNoLayer;
        if (!starved)
            slot.starved_since = {};
        else if (slot.starved_since == Clock::time_point{})
            slot.starved_since = now;
        const bool off = starved && (was_off || now - slot.starved_since >= kStarvedOff);
        if (starved && !off) fits = 0;
        // A step down: below the limit so far (with none yet, below the layer it forwards
        // now), or no video at all. Counted once, when the limit falls, not at every
        // feedback until the switch is made: the hold must not grow while it drains.
        const std::size_t current = consumer.current_layer();
        const std::size_t limit = before != Consumer::kNoLayer ? before : current;
        const bool down = (off && !was_off) || (fits != Consumer::kNoLayer &&
                                                limit != Consumer::kNoLayer && fits < limit);
        const bool up = (was_off && !off) || (before != Consumer::kNoLayer && fits > before);
        if (off && !was_off) {
            // Video off is already the last resort: back on as soon as the lowest layer fits
            // again (with its margin), a short while later, not after a growing hold.
            hold_until_ = std::max(hold_until_, now + kStarvedOff);
            slot.off_since = now;
        } else if (down && measured) {
            hold_after_step_down(now, congested);
        }
        if (up) last_up_ = now;
        consumer.set_bandwidth_limit(off ? Consumer::kNoLayer : fits, off, congested, now);
        if (off != was_off) host_.on_peer_video_off(*this, slot.track_id, off);
        if (fits != Consumer::kNoLayer)
            budget -= producer.layer_bitrate(std::min(fits, consumer.target_layer()));
    }
    maybe_probe(now, now < hold_until_ || congested);
}

void SubscriberPeer::hold_after_step_down(Clock::time_point now, bool congested) {
    if (!congested) {
        // The estimate merely fell short (a layer's bitrate grew, a cautious estimate): not a
        // link that failed, so a short pause, not a backoff.
        hold_until_ = std::max(hold_until_, now + kStarvedOff);
        return;
    }
    // Doubled when a step up since the last step down failed within 10 s; a further step
    // down in the same squeeze is not a failed step up.
    const bool failed_up = last_up_ > last_down_ && now - last_up_ < std::chrono::seconds(10);
    hold_ = failed_up ? std::min(hold_ * 2, std::chrono::seconds(60)) : std::chrono::seconds(5);
    hold_until_ = now + hold_;
    last_down_ = now;
}

void SubscriberPeer::on_rtcp(std::span<const std::uint8_t> compound) {
    const auto now = Clock::now();
    if (transport_cc_) {
        const auto now_us =
            std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
        bool fed = false;
        if (auto parsed = RtcpCompound::parse(compound)) {
            for (const RtcpHeader& header : parsed->packets()) {
                if (!is_transport_cc(header)) continue;
                auto feedback = parse_feedback(header);
                auto twcc = feedback ? parse_transport_cc(*feedback) : std::nullopt;
                if (!twcc) continue;
                bwe_.on_feedback(*twcc, now_us);
                fed = true;
            }
        }
        if (bwe_.probes() != probes_judged_) {
            probes_judged_ = bwe_.probes();
            prober_.on_result(bwe_.probe_bps(), now);
        }
        if (fed) allocate(now);
    }
    read_feedback(
        compound,
        [&](std::uint32_t ssrc, bool fir) {
            if (Consumer* consumer = consumer_by_ssrc(ssrc))
                consumer->on_keyframe_request(fir, now);
        },
        [&](std::uint32_t ssrc, const std::vector<NackItem>& items) {
            if (Consumer* consumer = consumer_by_ssrc(ssrc)) consumer->on_nack(items, now);
        },
        [&](const ReportBlock& block) {
            if (Consumer* consumer = consumer_by_ssrc(block.ssrc))
                consumer->on_receiver_report(block, now);
        });
}

}  // namespace rollcall::sfu
