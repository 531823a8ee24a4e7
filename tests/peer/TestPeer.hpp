#pragma once

// A WebRTC participant in C++ for tests and benchmarks: rollcall's signaling protocol over a
// WebSocket (Boost.Beast, kept in SignalingSocket.cpp) and real media over transport/ (libnice
// ICE, OpenSSL DTLS, libsrtp2), with synthetic audio and video. Many of them share one thread
// and one Loop, so a room of 30 fits on 2 cores where 30 browsers or aiortc processes would not.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "transport/WebRtcTransport.hpp"

using GMainContext = struct _GMainContext;

namespace rollcall::testpeer {

using Clock = std::chrono::steady_clock;

// The GLib context the transports live on and the Asio context the sockets live on, run
// together by one thread.
class Loop {
  public:
    Loop();
    ~Loop();
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    GMainContext* context() const noexcept { return context_; }
    void* io() const noexcept;  // the boost::asio::io_context, for SignalingSocket
    // Runs both for about `budget`.
    void run_for(std::chrono::milliseconds budget);

  private:
    struct Io;
    GMainContext* context_;
    std::unique_ptr<Io> io_;
};

// The real server, started as a child process on 127.0.0.1 with plain ws (insecure dev
// mode) and the given extra configuration; stopped (SIGTERM) on destruction.
class ServerProcess {
  public:
    ServerProcess(const std::string& binary, const std::string& extra_config);
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    int pid() const noexcept { return pid_; }
    // GET on the plain HTTP port with a bearer token (admin, every room): the body.
    std::string get(const std::string& path) const;
    std::string request(const std::string& method, const std::string& path) const;
    // One sample of a /metrics value (an unlabelled series), or -1.
    double metric(const std::string& name) const;

  private:
    int pid_ = -1;
    std::uint16_t port_ = 0;
    std::string data_dir_;
    std::string admin_token_;
};

// A participant's process-level resources as /proc sees them.
struct ProcessSample {
    long rss_kb = 0;
    long fds = 0;
    long threads = 0;
};
ProcessSample sample_process(int pid);

std::string dev_token(const std::string& identity, const std::string& room);

// The ICE and DTLS parameters of a description's first live section, with every candidate.
std::optional<transport::RemoteTransportParameters> transport_parameters(
    const transport::SessionDescription& sdp);
// A publisher connection's offer: Opus and VP8 sections (each when its SSRC is given),
// sendonly, with `t`'s ICE values and candidates and `fingerprint`.
std::string publisher_offer(const transport::WebRtcTransport& t,
                            const transport::SdpFingerprint& fingerprint,
                            std::optional<std::uint32_t> audio_ssrc,
                            std::optional<std::uint32_t> video_ssrc, const std::string& cname);
// The answer to a subscription offer: the same sections receive-only, with these ICE and
// DTLS values and no candidates (the server learns the address from the checks).
std::string mirror_subscriber_offer(const std::string& offer, const std::string& ufrag,
                                    const std::string& pwd,
                                    const transport::SdpFingerprint& fingerprint,
                                    const std::string& setup);

class SignalingSocket;

// What a participant sends instead of its default synthetic media, and where what it receives
// is reported (the load generator's stamped streams, bench/loadgen).
class MediaSource {
  public:
    virtual ~MediaSource() = default;
    // Sends what is due at `now` on the publisher connection.
    virtual void pump(transport::WebRtcTransport& transport, Clock::time_point now) = 0;
    // RTCP the server sent to the publisher (keyframe requests).
    virtual void on_rtcp(std::span<const std::uint8_t> /*compound*/) {}
};
class MediaSink {
  public:
    virtual ~MediaSink() = default;
    virtual void on_media(const transport::RtpPacket& packet, Clock::time_point arrival) = 0;
};

// An RTP packet of `payload` bytes (0x5a) with this header, no extensions.
std::vector<std::uint8_t> rtp_packet(std::uint8_t payload_type, bool marker, std::uint16_t sequence,
                                     std::uint32_t timestamp, std::uint32_t ssrc,
                                     std::size_t payload);

struct PeerOptions {
    bool audio = true;
    bool video = true;
    std::chrono::milliseconds audio_interval{20};
    std::chrono::milliseconds video_interval{33};
    std::size_t video_payload = 1000;
    MediaSource* source = nullptr;  // not owned; replaces the media above
    MediaSink* sink = nullptr;      // not owned
};

class TestParticipant {
  public:
    TestParticipant(Loop& loop, const ServerProcess& server, std::string identity, std::string room,
                    PeerOptions options = {});
    ~TestParticipant();
    TestParticipant(const TestParticipant&) = delete;
    TestParticipant& operator=(const TestParticipant&) = delete;

    void join();
    void publish();
    // Media from `source` (not owned) from now on, instead of the options' own.
    void set_source(MediaSource* source) noexcept { options_.source = source; }
    void leave();
    // Asks the server for an offer that restarts ICE on the subscriber connection
    // (restart_ice); the participant restarts its side when that offer comes.
    void restart_subscriber_ice();
    // Subscription offers that came with new ICE credentials of the server's.
    int subscriber_ice_restarts() const noexcept { return subscriber_restarts_; }
    // Handles what arrived and sends media that is due; call it often.
    void step(Clock::time_point now);

    bool joined() const noexcept { return joined_; }
    bool published() const noexcept { return answered_; }
    bool left() const noexcept { return left_; }
    bool publisher_connected() const;
    bool subscriber_connected() const;
    // Tracks in the newest subscription offer, and how many have delivered media.
    std::size_t offered_tracks() const;
    std::size_t receiving_tracks(std::uint64_t at_least = 1) const;
    std::uint64_t packets_received() const noexcept { return packets_received_; }
    // What arrived on one SSRC of the subscriber connection.
    struct Received {
        std::uint64_t packets = 0;
        std::uint64_t bytes = 0;  // RTP packets, headers included
        std::uint16_t last_sequence = 0;
    };
    Received received(std::uint32_t ssrc) const;
    // The newest subscription offer's sections that carry a track: the server's SSRC for it
    // and, for video, its RTX SSRC (0 if none).
    struct OfferedTrack {
        std::string track;
        std::string kind;
        std::uint32_t ssrc = 0;
        std::uint32_t rtx_ssrc = 0;
    };
    std::vector<OfferedTrack> offered() const;
    bool send_subscriber_rtcp(std::span<const std::uint8_t> compound);
    // Packets this participant's video sent so far.
    std::uint64_t video_packets_sent() const noexcept { return video_sequence_; }
    const std::vector<std::string>& problems() const noexcept { return problems_; }
    const std::string& identity() const noexcept { return identity_; }
    std::uint32_t audio_ssrc() const noexcept { return audio_ssrc_; }
    std::uint32_t video_ssrc() const noexcept { return video_ssrc_; }
    std::optional<transport::SrtpProfile> subscriber_profile() const;

  private:
    struct Leg;
    void on_message(const nlohmann::json& message);
    void on_answer(const nlohmann::json& message);
    void on_subscribe_offer(const nlohmann::json& message);
    void send_media(Clock::time_point now);

    Loop& loop_;
    std::string identity_;
    std::string room_;
    PeerOptions options_;
    std::string token_;
    std::unique_ptr<SignalingSocket> socket_;
    std::unique_ptr<Leg> publisher_;
    std::unique_ptr<Leg> subscriber_;
    bool joined_ = false;
    bool answered_ = false;
    bool leaving_ = false;
    bool left_ = false;
    std::uint32_t audio_ssrc_;
    std::uint32_t video_ssrc_;
    std::uint16_t audio_sequence_ = 0;
    std::uint64_t video_sequence_ = 0;
    Clock::time_point next_audio_{};
    Clock::time_point next_video_{};
    Clock::time_point started_ = Clock::now();
    // The newest subscription offer: its tracks by SSRC (track id), and packets per SSRC.
    std::map<std::uint32_t, std::string> offered_;
    std::vector<OfferedTrack> offered_detail_;
    std::map<std::uint32_t, Received> received_;
    std::uint64_t packets_received_ = 0;
    std::string subscriber_remote_ufrag_;
    int subscriber_restarts_ = 0;
    std::vector<std::string> problems_;
    int next_id_ = 1;
};

// Runs the loop, stepping `peers`, until `done` or `limit`; whether `done` came true.
bool run_until(Loop& loop, const std::vector<TestParticipant*>& peers,
               const std::function<bool()>& done,
               std::chrono::milliseconds limit = std::chrono::seconds(10));

// One soak cycle: a newcomer joins the resident's room, publishes audio and video, receives
// the resident's tracks while the resident receives its own, and leaves; returns once the
// resident's subscription no longer names it. "" or what went wrong.
std::string soak_cycle(Loop& loop, const ServerProcess& server, TestParticipant& resident,
                       const std::string& room, int index);

}  // namespace rollcall::testpeer
