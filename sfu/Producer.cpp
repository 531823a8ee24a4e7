#include "sfu/Producer.hpp"

#include <algorithm>
#include <new>

#include "sfu/Consumer.hpp"
#include "transport/MediaTally.hpp"

namespace rollcall::sfu {

using namespace transport;

void ReceiveStatistics::on_packet(std::uint16_t sequence, std::uint32_t timestamp,
                                  std::uint32_t clock_rate, Clock::time_point now) noexcept {
    if (!started_) {
        started_ = true;
        base_sequence_ = sequence;
        max_sequence_ = sequence;
    } else if (seq_newer(sequence, max_sequence_)) {
        if (sequence < max_sequence_) cycles_ += 65536;  // wrapped
        max_sequence_ = sequence;
    }
    ++received_;
    // Interarrival jitter (RFC 3550 A.8), in timestamp units.
    if (clock_rate > 0) {
        const auto micros =
            std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
        const auto arrival =
            static_cast<std::int64_t>(static_cast<__int128>(micros) * clock_rate / 1'000'000);
        const std::int64_t transit = arrival - static_cast<std::int64_t>(timestamp);
        if (last_transit_) {
            const double d = static_cast<double>(std::llabs(transit - *last_transit_) & 0xffffffff);
            jitter_ += (d - jitter_) / 16.0;
        }
        last_transit_ = transit;
    }
}

void ReceiveStatistics::on_sender_report(std::uint64_t ntp_time, Clock::time_point now) noexcept {
    last_sr_ = static_cast<std::uint32_t>(ntp_time >> 16);  // the middle 32 bits
    last_sr_arrival_ = now;
}

ReportBlock ReceiveStatistics::report(std::uint32_t ssrc, Clock::time_point now) noexcept {
    ReportBlock block;
    block.ssrc = ssrc;
    const std::uint64_t extended_max = std::uint64_t{cycles_} + max_sequence_;
    const std::uint64_t expected = extended_max - base_sequence_ + 1;
    const auto lost = static_cast<std::int64_t>(expected) - static_cast<std::int64_t>(received_);
    const std::uint64_t expected_interval = expected - expected_prior_;
    const std::uint64_t received_interval = received_ - received_prior_;
    const auto lost_interval =
        static_cast<std::int64_t>(expected_interval) - static_cast<std::int64_t>(received_interval);
    expected_prior_ = expected;
    received_prior_ = received_;
    block.fraction_lost =
        expected_interval == 0 || lost_interval <= 0
            ? 0
            : static_cast<std::uint8_t>(std::min<std::int64_t>(
                  255, (lost_interval << 8) / static_cast<std::int64_t>(expected_interval)));
    block.cumulative_lost =
        static_cast<std::int32_t>(std::clamp<std::int64_t>(lost, -0x800000, 0x7fffff));
    block.highest_sequence = static_cast<std::uint32_t>(extended_max);
    block.jitter = static_cast<std::uint32_t>(jitter_);
    if (last_sr_arrival_) {
        block.last_sr = last_sr_;
        const auto delay =
            std::chrono::duration_cast<std::chrono::microseconds>(now - *last_sr_arrival_).count();
        block.delay_since_last_sr = static_cast<std::uint32_t>(delay * 65536 / 1'000'000);
    }
    return block;
}

Producer::Producer(Spec spec, SessionId publisher, ProducerUpstream& upstream)
    : spec_(std::move(spec)),
      publisher_(publisher),
      upstream_(upstream),
      codec_(spec_.kind == MediaKind::video ? sfu::video_codec(spec_.codec.name)
                                            : VideoCodec::other) {
    if (!spec_.rids.empty()) {
        for (std::size_t i = 0; i < spec_.rids.size() && i < kMaxLayers; ++i)
            layers_.emplace_back().rid = spec_.rids[i];
    } else if (!spec_.layer_ssrcs.empty()) {
        for (std::size_t i = 0; i < spec_.layer_ssrcs.size() && i < kMaxLayers; ++i)
            layers_.emplace_back().ssrc = spec_.layer_ssrcs[i];
    } else {
        layers_.emplace_back().ssrc = spec_.ssrc;
    }
}

std::optional<std::size_t> Producer::layer_of(std::uint32_t ssrc) const noexcept {
    if (ssrc == 0) return std::nullopt;
    for (std::size_t i = 0; i < layers_.size(); ++i)
        if (layers_[i].ssrc == ssrc) return i;
    return std::nullopt;
}

bool Producer::bind_layer(std::string_view rid, std::uint32_t ssrc) noexcept {
    if (ssrc == 0 || layer_of(ssrc)) return false;
    for (Layer& layer : layers_) {
        if (layer.ssrc == 0 && !layer.rid.empty() && layer.rid == rid) {
            layer.ssrc = ssrc;
            return true;
        }
    }
    return false;
}

std::size_t Producer::unbound_layers() const noexcept {
    return static_cast<std::size_t>(
        std::count_if(layers_.begin(), layers_.end(), [](const Layer& l) { return l.ssrc == 0; }));
}

bool Producer::layer_active(std::size_t layer, Clock::time_point now) const noexcept {
    const Layer& l = layers_[layer];
    return l.last_packet != Clock::time_point{} && now - l.last_packet < kLayerIdle;
}

std::uint64_t Producer::packets_received() const noexcept {
    std::uint64_t total = 0;
    for (const Layer& layer : layers_) total += layer.stats.packets();
    return total;
}

void Producer::ensure_cache(Layer& layer) noexcept {
    // Only once video flows to someone who could ask for a resend: an idle or unwatched
    // track holds no cache; a watched one holds about a second of its packets.
    if (layer.cache || spec_.kind != MediaKind::video || consumers_.empty()) return;
    try {
        layer.cache = std::make_unique<PacketCache>(PacketCache::Sizing{});
    } catch (const std::bad_alloc&) {
        // No cache: NACKs go unanswered, forwarding goes on.
    }
}

void Producer::receive(RtpPacket& packet, Clock::time_point now) noexcept {
    MediaTally& tally = media_tally();
    const std::size_t kind = MediaTally::kind_index(spec_.kind == MediaKind::video);
    ++tally.rtp_packets_in[kind];
    tally.rtp_bytes_in[kind] += packet.bytes().size();
    ++stats_out_.packets;
    stats_out_.bytes += packet.bytes().size();
    const auto index = layer_of(packet.ssrc());
    if (!index || packet.payload_type() != spec_.codec.payload_type) {
        ++dropped_;  // only the negotiated codec is forwarded
        return;
    }
    Layer& layer = layers_[*index];
    const std::uint16_t sequence = packet.sequence();
    const std::uint32_t timestamp = packet.timestamp();
    layer.last_packet = now;
    layer.bytes += packet.bytes().size();
    layer.stats.on_packet(sequence, timestamp, spec_.codec.clock_rate, now);
    if (paused_) return;
    // Header extensions are the publisher leg's business: subscribers get none.
    auto stripped = RtpPacket::parse(packet.strip_extensions());
    if (!stripped) {
        ++dropped_;
        return;
    }
    if (stripped->payload().empty()) {
        // Padding only (a sender probing its bandwidth): the publisher leg's business too.
        for (Consumer* consumer : consumers_) consumer->skip(*index, sequence);
        return;
    }
    std::optional<VideoPayloadInfo> video;
    if (codec_ != VideoCodec::other) {
        video = parse_video_payload(codec_, stripped->payload());
        if (video && video->width != 0) {
            layer.width = video->width;
            layer.height = video->height;
        }
    }
    if (video && video->keyframe)
        layer.keyframe_pending = false;  // answered
    else if (layer.keyframe_pending)
        request_layer_keyframe(layer, now);
    ensure_cache(layer);
    if (layer.cache) layer.cache->store(sequence, stripped->bytes(), now);
    const Forwarded forwarded{*index, sequence, timestamp, video ? &*video : nullptr};
    fan_out(*stripped, forwarded, now);
}

void Producer::fan_out(RtpPacket& packet, const Forwarded& forwarded,
                       Clock::time_point now) noexcept {
    // Each subscriber's state is cold by the time the packet reaches it (a fan-out of 150
    // touches ~150 × several KB): while one subscriber's packet is protected and sent (a few
    // µs), the next ones' state is asked in, three steps deep, each step reading only what
    // the step before brought in (the consumer, the subscriber's fixed lines, what its send
    // will touch).
    const std::size_t count = consumers_.size();
    for (std::size_t i = 0; i < count; ++i) {
        if (i + 3 < count) consumers_[i + 3]->prefetch_self();
        if (i + 2 < count) consumers_[i + 2]->prefetch_downstream();
        if (i + 1 < count) consumers_[i + 1]->prefetch_send();
        consumers_[i]->forward(packet, forwarded, now);
    }
}

void Producer::on_sender_report(const SenderReport& report, Clock::time_point now) {
    const auto index = layer_of(report.ssrc);
    if (!index) return;
    layers_[*index].stats.on_sender_report(report.ntp_time, now);
    for (Consumer* consumer : consumers_) consumer->on_sender_report(*index, report, now);
}

void Producer::set_paused(bool paused, Clock::time_point now) {
    if (paused == paused_) return;
    paused_ = paused;
    if (paused) return;
    for (Consumer* consumer : consumers_) consumer->restart_stretch();
    request_keyframe(now);
}

void Producer::request_keyframe(Clock::time_point now, std::size_t layer) {
    if (spec_.kind != MediaKind::video) return;
    if (layer == kAllLayers) {
        for (Layer& l : layers_) request_layer_keyframe(l, now);
    } else if (layer < layers_.size()) {
        request_layer_keyframe(layers_[layer], now);
    }
}

void Producer::request_layer_keyframe(Layer& layer, Clock::time_point now) {
    if (layer.ssrc == 0) return;  // not learned yet: its first packets will come anyway
    // A request inside the pacing interval is not lost: it goes out when the interval ends
    // (a subscriber that connects just after another one still gets its keyframe), unless a
    // keyframe of the layer comes first.
    layer.keyframe_pending = !keyframe_pacer_.should_request(now);
    if (layer.keyframe_pending) return;
    upstream_.send_keyframe_request(layer.ssrc);
    ++stats_out_.keyframe_requests;
    ++media_tally().pli_sent;
}

std::optional<ReportBlock> Producer::report_block(Clock::time_point now,
                                                  std::size_t index) noexcept {
    if (index >= layers_.size()) return std::nullopt;
    Layer& layer = layers_[index];
    if (!layer.stats.started()) return std::nullopt;
    ReportBlock block = layer.stats.report(layer.ssrc, now);
    stats_out_.loss = block.fraction_lost / 256.0;
    stats_out_.jitter_ms =
        spec_.codec.clock_rate == 0 ? 0 : 1000.0 * block.jitter / spec_.codec.clock_rate;
    MediaTally& tally = media_tally();
    const auto leg = static_cast<std::size_t>(Leg::publisher);
    tally.loss[leg].observe(MediaTally::kLossBounds, stats_out_.loss);
    tally.jitter[leg].observe(MediaTally::kJitterBounds, stats_out_.jitter_ms / 1000.0);
    return block;
}

void Producer::attach(Consumer& consumer) {
    if (std::find(consumers_.begin(), consumers_.end(), &consumer) == consumers_.end())
        consumers_.push_back(&consumer);
}

void Producer::detach(Consumer& consumer) noexcept {
    std::erase(consumers_, &consumer);
}

}  // namespace rollcall::sfu
