#include "sfu/Consumer.hpp"

#include <algorithm>
#include <cstring>

#include "transport/ByteOrder.hpp"
#include "transport/MediaTally.hpp"

namespace rollcall::sfu {

using namespace transport;

Consumer::Consumer(Producer& producer, Spec spec, ConsumerDownstream& downstream)
    : producer_(&producer),
      spec_(std::move(spec)),
      downstream_(downstream),
      rewriter_(spec_.ssrc, producer.spec().codec.clock_rate),
      downstream_lines_(downstream.hot_lines()) {
    producer_->attach(*this);
    // One layer: forward it from the first packet. Simulcast: start on a keyframe of the
    // highest layer until told otherwise.
    if (!producer_->simulcast()) current_ = 0;
    target_ = producer_->layer_count() - 1;
}

Consumer::~Consumer() {
    producer_->detach(*this);
}

void Consumer::activate(bool rtx, bool connected, Clock::time_point now) {
    rtx_ = rtx && spec_.rtx_ssrc != 0;
    if (!active_) rewriter_.restart();
    active_ = true;
    if (connected && target_ != kNoLayer)  // else when the transport connects
        producer_->request_keyframe(now, target_);
}

void Consumer::set_settings(const TrackSettings& settings, Clock::time_point now) {
    if (settings == settings_) return;
    const bool resumed = settings_.paused && !settings.paused;
    settings_ = settings;
    if (resumed) rewriter_.restart();  // the next packet continues the numbering
    choose_layer(now);
}

void Consumer::set_bandwidth_limit(std::size_t max, bool off, bool congested,
                                   Clock::time_point now) {
    if (max == max_layer_ && off == video_off_) return;
    drain_ = congested && max < max_layer_;  // kNoLayer is the highest limit
    const bool resumed = video_off_ && !off;
    max_layer_ = max;
    video_off_ = off;
    if (resumed) rewriter_.restart();
    choose_layer(now);
}

std::size_t Consumer::preferred_layer(Clock::time_point now) const noexcept {
    if (settings_.paused) return kNoLayer;
    const Producer& p = *producer_;
    std::size_t largest = kNoLayer;
    for (std::size_t i = 0; i < p.layer_count(); ++i) {
        if (p.simulcast() && !p.layer_active(i, now)) continue;
        largest = i;
        const bool covers = p.layer_width(i) != 0 && p.layer_width(i) >= settings_.max_width &&
                            p.layer_height(i) >= settings_.max_height;
        const bool limited = settings_.max_width != 0 || settings_.max_height != 0;
        if (limited && covers) return i;
    }
    // Nothing flows yet: aim at the top, its first keyframe starts us.
    return largest != kNoLayer ? largest : p.layer_count() - 1;
}

void Consumer::choose_layer(Clock::time_point now) {
    std::size_t want = kNoLayer;
    if (!settings_.paused && !video_off_) {
        const Producer& p = *producer_;
        want = preferred_layer(now);
        // No higher than the link allows: the highest flowing layer under its limit.
        if (max_layer_ != kNoLayer && want > max_layer_) {
            want = std::min(max_layer_, p.layer_count() - 1);
            while (want > 0 && p.simulcast() && !p.layer_active(want, now)) --want;
        }
    }
    if (want == target_) return;
    target_ = want;
    if (target_ == kNoLayer) {
        current_ = kNoLayer;  // paused: nothing more is forwarded
        return;
    }
    if (target_ != current_ && active_) producer_->request_keyframe(now, target_);
}

void Consumer::forward(RtpPacket& packet, const Forwarded& forwarded,
                       Clock::time_point now) noexcept {
    if (!active_ || target_ == kNoLayer) return;
    bool switched = false;
    if (current_ == kNoLayer && forwarded.layer != target_) choose_layer(now);
    if (forwarded.layer != current_) {
        // Another layer: only the wanted one, from a keyframe on; so is a one-layer video
        // turned back on (when its codec's keyframes can be told).
        const bool keyframe = forwarded.video && forwarded.video->keyframe;
        const bool wait = producer_->simulcast() || forwarded.video != nullptr;
        if (forwarded.layer != target_ || (!keyframe && wait)) return;
        switched = current_ != kNoLayer || vp8_started_;
        current_ = forwarded.layer;
        ++switches_;
    } else if (target_ != current_ && !producer_->layer_active(target_, now)) {
        target_ = current_;  // the wanted layer stopped before it came: stay
    }
    if (forwarded.layer == current_ && draining()) return;
    const std::uint32_t ssrc = producer_->layer_ssrc(forwarded.layer);
    auto out = rewriter_.rewrite(ssrc, forwarded.sequence, forwarded.timestamp, now);
    if (!out) return;
    packet.set_ssrc(out->ssrc);
    packet.set_sequence(out->sequence);
    packet.set_timestamp(out->timestamp);
    packet.set_payload_type(spec_.payload_type);
    if (forwarded.video && forwarded.video->picture_id_at != 0)
        rewrite_vp8(packet, *forwarded.video, switched);
    if (downstream_.send_rtp(packet.bytes())) {
        last_timestamp_ = out->timestamp;
        octets_ += packet.payload().size();
        ++stats_.packets;
        stats_.bytes += packet.bytes().size();
        MediaTally& tally = media_tally();
        const std::size_t kind = MediaTally::kind_index(producer_->spec().kind == MediaKind::video);
        ++tally.rtp_packets_out[kind];
        tally.rtp_bytes_out[kind] += packet.bytes().size();
        // Forwarding earns retransmission budget in proportion to the stream's bitrate.
        rtx_budget_ = std::min(
            kRtxBurst, rtx_budget_ + kRtxShare * static_cast<double>(packet.bytes().size()));
    }
}

void Consumer::rewrite_vp8(RtpPacket& packet, const VideoPayloadInfo& info,
                           bool switched) noexcept {
    if (switched) {
        // The new layer's first frame follows the last one sent.
        picture_id_offset_ = static_cast<std::uint16_t>(last_picture_id_ + 1 - info.picture_id);
        tl0_offset_ = static_cast<std::uint8_t>(last_tl0_ + 1 - info.tl0);
    }
    write_vp8_ids(packet.bytes().subspan(packet.header_size(), packet.payload().size()), info);
    last_picture_id_ = static_cast<std::uint16_t>((info.picture_id + picture_id_offset_) &
                                                  (info.picture_id_15bit ? 0x7fff : 0x7f));
    if (info.tl0_at != 0) last_tl0_ = static_cast<std::uint8_t>(info.tl0 + tl0_offset_);
    vp8_started_ = true;
}

void Consumer::write_vp8_ids(std::span<std::uint8_t> payload,
                             const VideoPayloadInfo& info) const noexcept {
    const std::uint16_t mask = info.picture_id_15bit ? 0x7fff : 0x7f;
    write_vp8_picture_id(payload, info,
                         static_cast<std::uint16_t>((info.picture_id + picture_id_offset_) & mask));
    if (info.tl0_at != 0)
        write_vp8_tl0(payload, info, static_cast<std::uint8_t>(info.tl0 + tl0_offset_));
}

void Consumer::on_nack(std::span<const NackItem> items, Clock::time_point now) noexcept {
    ++stats_.nacks;
    ++media_tally().nacks_received;
    if (!active_ || !rtx_) return;
    // The distinct packets named, in order, at most kMaxNackedPerRequest of them.
    std::array<std::uint16_t, kMaxNackedPerRequest> wanted{};
    std::size_t count = 0;
    auto want = [&](std::uint16_t sequence) {
        if (count == wanted.size()) return;
        if (std::find(wanted.begin(), wanted.begin() + count, sequence) != wanted.begin() + count)
            return;
        wanted[count++] = sequence;
    };
    for (const NackItem& item : items) {
        want(item.packet_id);
        for (int bit = 0; bit < 16; ++bit) {
            if (item.lost_bitmask & (1u << bit))
                want(static_cast<std::uint16_t>(item.packet_id + bit + 1));
        }
        if (count == wanted.size()) break;
    }
    media_tally().nack_packets_requested += count;
    for (std::size_t i = 0; i < count; ++i) retransmit(wanted[i], now);
}

bool Consumer::resent_recently(std::uint16_t output_sequence,
                               Clock::time_point now) const noexcept {
    return std::any_of(resent_.begin(), resent_.end(), [&](const Resent& r) {
        return r.at != Clock::time_point{} && r.sequence == output_sequence &&
               now - r.at < kResendInterval;
    });
}

void Consumer::retransmit(std::uint16_t output_sequence, Clock::time_point now) noexcept {
    if (current_ == kNoLayer || draining()) return;
    const PacketCache* cache = producer_->cache(current_);
    if (!cache) return;
    if (resent_recently(output_sequence, now)) {
        ++retransmissions_refused_;
        ++media_tally().retransmissions_refused;
        return;
    }
    auto input = rewriter_.input_sequence(output_sequence);
    if (!input) return;
    auto cached = cache->find(*input);
    if (!cached || cached->size() > PacketCache::kMaxPacket) return;
    if (rtx_budget_ < static_cast<double>(cached->size())) {
        ++retransmissions_refused_;
        ++media_tally().retransmissions_refused;
        return;
    }
    // RFC 4588 §4: the RTX packet is the original header with the RTX SSRC, payload type and
    // sequence, then the original sequence number, then the original payload.
    std::memcpy(rtx_buffer_.data(), cached->data(), cached->size());
    auto original = RtpPacket::parse(std::span<std::uint8_t>(rtx_buffer_.data(), cached->size()));
    if (!original) return;
    auto timestamp = rewriter_.output_timestamp(original->timestamp());
    if (!timestamp) return;
    const std::size_t header = original->header_size();
    const std::size_t payload = original->payload().size();
    std::memmove(rtx_buffer_.data() + header + 2, rtx_buffer_.data() + header, payload);
    store_u16(rtx_buffer_.data() + header, output_sequence);
    rtx_buffer_[0] = static_cast<std::uint8_t>(rtx_buffer_[0] & ~0x20);  // no padding
    auto rtx = RtpPacket::parse(std::span<std::uint8_t>(rtx_buffer_.data(), header + 2 + payload));
    if (!rtx) return;
    rtx->set_ssrc(spec_.rtx_ssrc);
    rtx->set_payload_type(spec_.rtx_payload_type);
    rtx->set_sequence(rtx_sequence_++);
    rtx->set_timestamp(*timestamp);
    // The cache keeps the publisher's VP8 picture ids: this leg's continue from a switch.
    if (producer_->video_codec() == VideoCodec::vp8) {
        auto resent = std::span<std::uint8_t>(rtx_buffer_.data() + header + 2, payload);
        if (auto info = parse_video_payload(VideoCodec::vp8, resent); info && info->picture_id_at)
            write_vp8_ids(resent, *info);
    }
    if (!downstream_.send_rtp(rtx->bytes())) return;
    ++retransmissions_;
    retransmission_bytes_ += rtx->bytes().size();
    ++stats_.retransmissions;
    MediaTally& tally = media_tally();
    ++tally.retransmissions;
    tally.retransmission_bytes += rtx->bytes().size();
    rtx_budget_ -= static_cast<double>(rtx->bytes().size());
    resent_[resent_next_] = {output_sequence, now};
    resent_next_ = (resent_next_ + 1) % resent_.size();
}

bool Consumer::send_padding(std::size_t padding) noexcept {
    if (!can_pad() || padding == 0 || padding > 255) return false;
    // RFC 3550 §5.1: the P bit, and the last octet counts the padding (itself included).
    std::array<std::uint8_t, 12 + 255> bytes{};
    bytes[0] = 0x80 | 0x20;
    bytes[1] = spec_.rtx_payload_type;
    store_u16(bytes.data() + 2, rtx_sequence_++);
    store_u32(bytes.data() + 4, last_timestamp_);
    store_u32(bytes.data() + 8, spec_.rtx_ssrc);
    bytes[12 + padding - 1] = static_cast<std::uint8_t>(padding);
    const std::span<const std::uint8_t> packet(bytes.data(), 12 + padding);
    if (!downstream_.send_rtp(packet)) return false;
    MediaTally& tally = media_tally();
    ++tally.padding_packets;
    tally.padding_bytes += packet.size();
    return true;
}

void Consumer::on_sender_report(std::size_t layer, const SenderReport& report,
                                Clock::time_point now) {
    if (!active_ || stats_.packets == 0 || layer != current_) return;
    auto timestamp = rewriter_.output_timestamp(report.rtp_time);
    if (!timestamp) return;
    SenderReport out;
    out.ssrc = spec_.ssrc;
    out.ntp_time = report.ntp_time;
    out.rtp_time = *timestamp;
    out.packet_count = static_cast<std::uint32_t>(stats_.packets);
    out.octet_count = static_cast<std::uint32_t>(octets_);
    const auto bytes = write_sender_report(out);
    if (!downstream_.send_rtcp(bytes)) return;
    sent_reports_[sent_report_next_] = {static_cast<std::uint32_t>(out.ntp_time >> 16), now};
    sent_report_next_ = (sent_report_next_ + 1) % sent_reports_.size();
}

void Consumer::on_receiver_report(const ReportBlock& block, Clock::time_point now) noexcept {
    MediaTally& tally = media_tally();
    const auto leg = static_cast<std::size_t>(Leg::subscriber);
    stats_.loss = block.fraction_lost / 256.0;
    const std::uint32_t clock_rate = producer_->spec().codec.clock_rate;
    stats_.jitter_ms = clock_rate == 0 ? 0 : 1000.0 * block.jitter / clock_rate;
    tally.loss[leg].observe(MediaTally::kLossBounds, stats_.loss);
    tally.jitter[leg].observe(MediaTally::kJitterBounds, stats_.jitter_ms / 1000.0);
    if (block.last_sr == 0) return;
    // RFC 3550 §6.4.1: RTT = arrival − LSR − DLSR, with LSR matched to the report we sent.
    for (const SentReport& sent : sent_reports_) {
        if (sent.at == Clock::time_point{} || sent.middle != block.last_sr) continue;
        const double rtt = std::chrono::duration<double>(now - sent.at).count() -
                           block.delay_since_last_sr / 65536.0;
        if (rtt < 0 || rtt > 60) return;  // a report that cannot be right
        stats_.rtt_ms = rtt * 1000.0;
        tally.rtt.observe(MediaTally::kRttBounds, rtt);
        return;
    }
}

void Consumer::on_keyframe_request(bool fir, Clock::time_point now) {
    ++stats_.keyframe_requests;
    ++(fir ? media_tally().fir_received : media_tally().pli_received);
    if (target_ != kNoLayer) producer_->request_keyframe(now, target_);
}

}  // namespace rollcall::sfu
