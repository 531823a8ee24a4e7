#pragma once

// The load generator's media: a publisher's synthetic audio and video, every payload stamped
// with its send time, and the subscriber's account of what arrived (one-way delay, loss,
// jitter, reordering). Publisher and subscribers share one machine and one monotonic clock,
// so the delay is the server's plus the loopback's.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <vector>

#include "tests/peer/TestPeer.hpp"

namespace rollcall::loadgen {

using testpeer::Clock;

struct MediaShape {
    bool audio = true;
    bool video = true;
    double video_bps = 1.5e6;
    std::size_t video_packet = 1100;  // RTP payload bytes of a full video packet
    int fps = 30;
    std::chrono::milliseconds keyframe_interval{3000};
    double keyframe_factor = 4;  // a keyframe's size against an ordinary frame's
    std::size_t audio_payload = 100;
    // Video leaves through a pacer, as every browser's does (libwebrtc's): at this multiple
    // of video_bps, at most kPaceBurst's worth at once; audio is never held. 0: each frame's
    // packets back to back, the moment it is made.
    double pacing_factor = 2.5;
};

// Opus-like audio (50 packets/s) and VP8-like video: a frame every 1/fps of
// video_bps / fps bits in as many full packets as it takes, a keyframe burst every
// keyframe_interval and whenever the server asks (PLI, FIR), paced (MediaShape). Each packet
// is stamped when it leaves, so time in the pacer is not counted as the server's.
class StampedSource final : public testpeer::MediaSource {
  public:
    StampedSource(MediaShape shape, std::uint32_t audio_ssrc, std::uint32_t video_ssrc,
                  std::uint8_t audio_pt = 111, std::uint8_t video_pt = 96);
    void pump(transport::WebRtcTransport& transport, Clock::time_point now) override;
    void on_rtcp(std::span<const std::uint8_t> compound) override;
    std::uint64_t packets_sent() const noexcept { return packets_sent_; }
    std::uint64_t keyframe_requests() const noexcept { return keyframe_requests_; }

    static constexpr auto kPaceBurst = std::chrono::milliseconds(5);

  private:
    void send_frame(transport::WebRtcTransport& transport, Clock::time_point now);
    void send_paced(transport::WebRtcTransport& transport, Clock::time_point now);
    void send_video(transport::WebRtcTransport& transport, std::vector<std::uint8_t>& packet,
                    Clock::time_point now);

    MediaShape shape_;
    std::uint32_t audio_ssrc_;
    std::uint32_t video_ssrc_;
    std::uint8_t audio_pt_;
    std::uint8_t video_pt_;
    std::uint16_t audio_sequence_ = 0;
    std::uint16_t video_sequence_ = 0;
    Clock::time_point started_ = Clock::now();
    Clock::time_point next_audio_{};
    Clock::time_point next_frame_{};
    Clock::time_point next_keyframe_{};
    bool keyframe_requested_ = true;
    std::deque<std::vector<std::uint8_t>> paced_;  // video waiting for the pacer
    double pace_budget_ = 0;                       // bytes the pacer may send now
    Clock::time_point paced_at_{};
    std::uint64_t packets_sent_ = 0;
    std::uint64_t keyframe_requests_ = 0;
};

// Everything the subscribers of a run received, in one place; counted only while
// recording, except the first packet each subscriber gets (join latency).
class Recorder {
  public:
    void start() noexcept;
    void stop() noexcept { recording_ = false; }
    bool recording() const noexcept { return recording_; }

    struct Summary {
        std::uint64_t packets = 0;
        std::uint64_t bytes = 0;
        std::uint64_t lost = 0;
        std::uint64_t reordered = 0;
        std::uint64_t duplicates = 0;
        double delay_p50_us = 0, delay_p99_us = 0, delay_max_us = 0;
        double jitter_us = 0;  // mean of the streams' RFC 3550 jitter
    };
    Summary summary() const;

  private:
    friend class StampedSink;
    struct Stream {
        bool seen = false;
        std::uint32_t highest = 0;  // extended sequence number
        std::uint32_t base = 0;     // the first of the window
        std::uint64_t received = 0;
        double jitter_us = 0;
        double last_transit_us = 0;
        bool has_transit = false;
    };
    void on_packet(std::uint64_t key, std::uint16_t sequence, double transit_us);

    bool recording_ = false;
    std::map<std::uint64_t, Stream> streams_;  // (subscriber, SSRC)
    std::vector<std::uint32_t> delays_us_;
    std::uint64_t packets_ = 0;
    std::uint64_t bytes_ = 0;
    std::uint64_t reordered_ = 0;
    std::uint64_t duplicates_ = 0;
};

// One subscriber's receiving end.
class StampedSink final : public testpeer::MediaSink {
  public:
    StampedSink(Recorder& recorder, std::uint32_t id) : recorder_(recorder), id_(id) {}
    void on_media(const transport::RtpPacket& packet, Clock::time_point arrival) override;
    // When the first stamped packet arrived, if one has.
    std::optional<Clock::time_point> first_media() const noexcept { return first_media_; }
    std::uint64_t packets() const noexcept { return packets_; }

  private:
    Recorder& recorder_;
    std::uint32_t id_;
    std::optional<Clock::time_point> first_media_;
    std::uint64_t packets_ = 0;
};

}  // namespace rollcall::loadgen
