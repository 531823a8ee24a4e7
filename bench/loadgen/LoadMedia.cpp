#include "bench/loadgen/LoadMedia.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "transport/ByteOrder.hpp"
#include "transport/RtcpPacket.hpp"
#include "transport/RtpPacket.hpp"

namespace rollcall::loadgen {

namespace {

// The last 16 bytes of every payload: magic, zero, send time in ns of the steady clock.
constexpr std::uint32_t kMagic = 0x52434c47;  // "RCLG"
constexpr std::size_t kStamp = 16;

void stamp(std::vector<std::uint8_t>& packet, Clock::time_point now) {
    std::uint8_t* at = packet.data() + packet.size() - kStamp;
    transport::store_u32(at, kMagic);
    transport::store_u32(at + 4, 0);
    const auto ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
    transport::store_u32(at + 8, static_cast<std::uint32_t>(ns >> 32));
    transport::store_u32(at + 12, static_cast<std::uint32_t>(ns));
}

std::optional<Clock::time_point> read_stamp(std::span<const std::uint8_t> payload) {
    if (payload.size() < kStamp) return std::nullopt;
    const std::uint8_t* at = payload.data() + payload.size() - kStamp;
    if (transport::load_u32(at) != kMagic) return std::nullopt;
    const std::uint64_t ns =
        (std::uint64_t{transport::load_u32(at + 8)} << 32) | transport::load_u32(at + 12);
    return Clock::time_point(std::chrono::nanoseconds(ns));
}

std::uint32_t rtp_time(Clock::time_point now, Clock::time_point started, std::uint32_t rate) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - started).count();
    return static_cast<std::uint32_t>(static_cast<std::uint64_t>(us) * rate / 1000000);
}

}  // namespace

StampedSource::StampedSource(MediaShape shape, std::uint32_t audio_ssrc, std::uint32_t video_ssrc,
                             std::uint8_t audio_pt, std::uint8_t video_pt)
    : shape_(shape),
      audio_ssrc_(audio_ssrc),
      video_ssrc_(video_ssrc),
      audio_pt_(audio_pt),
      video_pt_(video_pt) {}

void StampedSource::pump(transport::WebRtcTransport& transport, Clock::time_point now) {
    // A loop that fell far behind starts again from now rather than bursting to catch up.
    constexpr auto kBehind = std::chrono::milliseconds(200);
    if (shape_.audio && now >= next_audio_) {
        auto packet =
            testpeer::rtp_packet(audio_pt_, false, audio_sequence_++,
                                 rtp_time(now, started_, 48000), audio_ssrc_, shape_.audio_payload);
        stamp(packet, now);
        if (transport.send_rtp(packet)) ++packets_sent_;
        next_audio_ = now - next_audio_ > kBehind ? now + std::chrono::milliseconds(20)
                                                  : next_audio_ + std::chrono::milliseconds(20);
    }
    if (shape_.video && now >= next_frame_) {
        send_frame(transport, now);
        const auto interval = std::chrono::microseconds(1000000 / shape_.fps);
        next_frame_ = now - next_frame_ > kBehind ? now + interval : next_frame_ + interval;
    }
    send_paced(transport, now);
}

void StampedSource::send_paced(transport::WebRtcTransport& transport, Clock::time_point now) {
    const double rate = shape_.pacing_factor * shape_.video_bps / 8;  // bytes a second
    if (paced_at_ != Clock::time_point{})
        pace_budget_ += rate * std::chrono::duration<double>(now - paced_at_).count();
    paced_at_ = now;
    pace_budget_ = std::min(pace_budget_, rate * std::chrono::duration<double>(kPaceBurst).count());
    while (!paced_.empty() && pace_budget_ > 0) {
        pace_budget_ -= static_cast<double>(paced_.front().size());
        send_video(transport, paced_.front(), now);
        paced_.pop_front();
    }
}

void StampedSource::send_video(transport::WebRtcTransport& transport,
                               std::vector<std::uint8_t>& packet, Clock::time_point now) {
    stamp(packet, now);
    if (transport.send_rtp(packet)) ++packets_sent_;
}

void StampedSource::send_frame(transport::WebRtcTransport& transport, Clock::time_point now) {
    const bool key = keyframe_requested_ || now >= next_keyframe_;
    if (key) {
        keyframe_requested_ = false;
        next_keyframe_ = now + shape_.keyframe_interval;
    }
    double bytes = shape_.video_bps / 8 / shape_.fps * (key ? shape_.keyframe_factor : 1);
    const std::uint32_t timestamp = rtp_time(now, started_, 90000);
    for (bool first = true; bytes > 0; first = false) {
        const std::size_t size = std::max<std::size_t>(
            kStamp + 2,
            std::min<std::size_t>(shape_.video_packet, static_cast<std::size_t>(bytes)));
        bytes -= static_cast<double>(shape_.video_packet);
        auto packet = testpeer::rtp_packet(video_pt_, bytes <= 0, video_sequence_++, timestamp,
                                           video_ssrc_, size);
        packet[12] = first ? 0x10 : 0x00;         // VP8 descriptor: S bit on the first
        packet[13] = first && key ? 0x00 : 0x01;  // VP8 payload header: P = 0 is a keyframe
        if (shape_.pacing_factor > 0)
            paced_.push_back(std::move(packet));
        else
            send_video(transport, packet, now);
    }
}

void StampedSource::on_rtcp(std::span<const std::uint8_t> compound) {
    auto parsed = transport::RtcpCompound::parse(compound);
    if (!parsed) return;
    for (const transport::RtcpHeader& header : parsed->packets()) {
        if (transport::is_pli(header) || transport::is_fir(header)) {
            keyframe_requested_ = true;
            ++keyframe_requests_;
        }
    }
}

void Recorder::start() noexcept {
    recording_ = true;
    for (auto& [key, stream] : streams_) {
        stream.base = stream.highest + 1;
        stream.received = 0;
    }
}

void Recorder::on_packet(std::uint64_t key, std::uint16_t sequence, double transit_us) {
    Stream& s = streams_[key];
    if (!s.seen) {
        s.seen = true;
        s.highest = s.base = sequence;
    } else {
        // Extend the 16-bit sequence against the highest seen (RFC 3550 A.1).
        const auto delta =
            static_cast<std::int16_t>(sequence - static_cast<std::uint16_t>(s.highest));
        const std::uint32_t extended =
            s.highest + static_cast<std::uint32_t>(static_cast<std::int32_t>(delta));
        if (delta > 0) {
            s.highest = extended;
        } else if (recording_) {
            if (delta == 0)
                ++duplicates_;
            else
                ++reordered_;
        }
    }
    if (s.has_transit) s.jitter_us += (std::abs(transit_us - s.last_transit_us) - s.jitter_us) / 16;
    s.last_transit_us = transit_us;
    s.has_transit = true;
    if (!recording_) return;
    ++s.received;
    ++packets_;
    delays_us_.push_back(static_cast<std::uint32_t>(std::clamp(transit_us, 0.0, 4e9)));
}

Recorder::Summary Recorder::summary() const {
    Summary out;
    out.packets = packets_;
    out.bytes = bytes_;
    out.reordered = reordered_;
    out.duplicates = duplicates_;
    double jitter = 0;
    std::size_t streams = 0;
    for (const auto& [key, s] : streams_) {
        if (!s.seen) continue;
        const std::uint64_t expected = s.highest >= s.base ? s.highest - s.base + 1 : 0;
        if (expected > s.received) out.lost += expected - s.received;
        jitter += s.jitter_us;
        ++streams;
    }
    out.jitter_us = streams ? jitter / static_cast<double>(streams) : 0;
    if (!delays_us_.empty()) {
        std::vector<std::uint32_t> d = delays_us_;
        const auto at = [&](double q) {
            auto k = static_cast<std::size_t>(q * static_cast<double>(d.size() - 1));
            std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(k), d.end());
            return static_cast<double>(d[k]);
        };
        out.delay_p50_us = at(0.5);
        out.delay_p99_us = at(0.99);
        out.delay_max_us = *std::max_element(d.begin(), d.end());
    }
    return out;
}

void StampedSink::on_media(const transport::RtpPacket& packet, Clock::time_point arrival) {
    auto sent = read_stamp(packet.payload());
    if (!sent) return;  // padding, a probe, or not ours
    if (!first_media_) first_media_ = arrival;
    ++packets_;
    const double transit_us = std::chrono::duration<double, std::micro>(arrival - *sent).count();
    recorder_.on_packet((std::uint64_t{id_} << 32) | packet.ssrc(), packet.sequence(), transit_us);
    if (recorder_.recording()) recorder_.bytes_ += packet.bytes().size();
}

}  // namespace rollcall::loadgen
