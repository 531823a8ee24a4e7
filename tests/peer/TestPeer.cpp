#include "tests/peer/TestPeer.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "sfu/OfferPlan.hpp"
#include "signaling/ServerConfig.hpp"
#include "signaling/Token.hpp"
#include "tests/peer/SignalingSocket.hpp"
#include "transport/ByteOrder.hpp"
#include "transport/Sdp.hpp"

namespace rollcall::testpeer {

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string mint(const std::string& identity, room::Grants grants) {
    signaling::TokenClaims claims;
    claims.identity = identity;
    claims.expires_at = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count() +
                        24 * 3600;
    claims.grants = std::move(grants);
    return signaling::mint_hs256_token(signaling::kDevApiKey, signaling::kDevApiSecret, claims);
}

}  // namespace

std::vector<std::uint8_t> rtp_packet(std::uint8_t payload_type, bool marker, std::uint16_t sequence,
                                     std::uint32_t timestamp, std::uint32_t ssrc,
                                     std::size_t payload) {
    std::vector<std::uint8_t> p(12 + payload, 0x5a);
    p[0] = 0x80;
    p[1] = static_cast<std::uint8_t>(payload_type | (marker ? 0x80 : 0));
    transport::store_u16(p.data() + 2, sequence);
    transport::store_u32(p.data() + 4, timestamp);
    transport::store_u32(p.data() + 8, ssrc);
    return p;
}

std::optional<transport::RemoteTransportParameters> transport_parameters(
    const transport::SessionDescription& sdp) {
    for (const transport::SdpMedia& m : sdp.media) {
        if (sdp.is_stopped(m)) continue;
        transport::RemoteTransportParameters p;
        sfu::MediaResult error;
        if (sfu::transport_parameters(sdp, m, p, error)) return p;
    }
    return std::nullopt;
}

std::string publisher_offer(const transport::WebRtcTransport& t,
                            const transport::SdpFingerprint& fingerprint,
                            std::optional<std::uint32_t> audio_ssrc,
                            std::optional<std::uint32_t> video_ssrc, const std::string& cname) {
    std::ostringstream sdp;
    sdp << "v=0\r\no=- " << sfu::random_ssrc() << " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
        << "a=group:BUNDLE" << (audio_ssrc ? " 0" : "") << (video_ssrc ? " 1" : "") << "\r\n";
    const auto common = [&](const char* mid) {
        sdp << "c=IN IP4 0.0.0.0\r\n";
        for (const auto& c : t.local_candidates())
            sdp << "a=" << transport::write_candidate(c) << "\r\n";
        sdp << "a=ice-ufrag:" << t.local_ufrag() << "\r\na=ice-pwd:" << t.local_pwd()
            << "\r\na=fingerprint:" << transport::to_string(fingerprint)
            << "\r\na=setup:actpass\r\na=mid:" << mid << "\r\na=sendonly\r\na=rtcp-mux\r\n";
    };
    if (audio_ssrc) {
        sdp << "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
        common("0");
        sdp << "a=rtpmap:111 opus/48000/2\r\na=ssrc:" << *audio_ssrc << " cname:" << cname
            << "\r\n";
    }
    if (video_ssrc) {
        sdp << "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n";
        common("1");
        sdp << "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
            << "a=ssrc:" << *video_ssrc << " cname:" << cname << "\r\n";
    }
    return sdp.str();
}

std::string mirror_subscriber_offer(const std::string& offer, const std::string& ufrag,
                                    const std::string& pwd,
                                    const transport::SdpFingerprint& fingerprint,
                                    const std::string& setup) {
    std::istringstream lines(offer);
    std::ostringstream answer;
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.rfind("a=candidate", 0) == 0 || line.rfind("a=ssrc", 0) == 0 ||
            line.rfind("a=end-of-candidates", 0) == 0)
            continue;
        if (line == "a=sendonly") line = "a=recvonly";
        if (line.rfind("a=setup:", 0) == 0) line = "a=setup:" + setup;
        if (line.rfind("a=ice-ufrag:", 0) == 0) line = "a=ice-ufrag:" + ufrag;
        if (line.rfind("a=ice-pwd:", 0) == 0) line = "a=ice-pwd:" + pwd;
        if (line.rfind("a=fingerprint:", 0) == 0)
            line = "a=fingerprint:" + transport::to_string(fingerprint);
        answer << line << "\r\n";
    }
    return answer.str();
}

// ---- the server ----

ServerProcess::ServerProcess(const std::string& binary, const std::string& extra_config) {
    char directory[] = "/tmp/rollcall-peer-XXXXXX";
    if (!::mkdtemp(directory)) throw std::runtime_error("mkdtemp failed");
    data_dir_ = directory;
    const std::string config = data_dir_ + "/rollcall.toml";
    std::ofstream(config) << "[server]\ninsecure_dev = true\n" << extra_config;
    const std::string log = data_dir_ + "/server.log";
    pid_ = ::fork();
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // a killed test or bench leaves no server behind
        const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(out, 1);
        ::dup2(out, 2);
        ::execl(binary.c_str(), binary.c_str(), "--dev", "--port", "0", "--data-dir",
                data_dir_.c_str(), "--config", config.c_str(), "--log-level", "warn", nullptr);
        ::_exit(127);
    }
    const std::regex listening(R"(listening on https?://127\.0\.0\.1:(\d+))");
    for (int i = 0; i < 300 && port_ == 0; ++i) {
        std::smatch match;
        const std::string text = read_file(log);
        if (std::regex_search(text, match, listening)) {
            port_ = static_cast<std::uint16_t>(std::stoi(match[1]));
            break;
        }
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (port_ == 0) throw std::runtime_error("the server did not start:\n" + read_file(log));
    room::Grants admin;
    admin.room = "*";
    admin.room_admin = admin.room_list = true;
    admin_token_ = mint("", admin);
}

ServerProcess::~ServerProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        int status = 0;
        for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (::waitpid(pid_, &status, WNOHANG) == 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
        }
    }
    std::error_code ec;
    // ROLLCALL_SERVER_LOG=<file> keeps the server's log (a benchmark or test gone wrong).
    if (const char* keep = std::getenv("ROLLCALL_SERVER_LOG"))
        std::filesystem::copy_file(data_dir_ + "/server.log", keep,
                                   std::filesystem::copy_options::overwrite_existing, ec);
    std::filesystem::remove_all(data_dir_, ec);
}

double ServerProcess::metric(const std::string& name) const {
    const std::string text = get("/metrics");
    std::smatch match;
    const std::regex line("(^|\n)" + name + R"( ([0-9.e+-]+))");
    if (!std::regex_search(text, match, line)) return -1;
    return std::stod(match[2]);
}

ProcessSample sample_process(int pid) {
    ProcessSample sample;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmRSS:", 0) == 0) sample.rss_kb = std::stol(line.substr(6));
        if (line.rfind("Threads:", 0) == 0) sample.threads = std::stol(line.substr(8));
    }
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++sample.fds;
    return sample;
}

std::string dev_token(const std::string& identity, const std::string& room) {
    room::Grants grants;
    grants.room = room;
    grants.room_join = grants.can_publish = grants.can_subscribe = true;
    return mint(identity, grants);
}

// ---- a participant ----

struct TestParticipant::Leg final : transport::WebRtcTransport::Listener {
    Leg(TestParticipant& participant, Loop& loop,
        std::shared_ptr<const transport::DtlsIdentity> identity)
        : owner(participant),
          transport(loop.context(), std::move(identity), transport::LocalNetwork({"127.0.0.1"}),
                    *this) {}

    void on_transport_candidate(const transport::SdpCandidate&) override {}
    void on_transport_connected() override { connected = true; }
    void on_transport_failed(std::string_view reason) override {
        // After leave the server closes DTLS: expected.
        if (!owner.leaving_) owner.problems_.push_back("transport failed: " + std::string(reason));
    }
    void on_rtp(transport::RtpPacket& packet) override {
        Received& r = owner.received_[packet.ssrc()];
        ++r.packets;
        r.bytes += packet.bytes().size();
        r.last_sequence = packet.sequence();
        ++owner.packets_received_;
        if (owner.options_.sink) owner.options_.sink->on_media(packet, transport.arrival());
    }
    void on_rtcp(std::span<const std::uint8_t> compound) override {
        if (owner.options_.source && &transport == &owner.publisher_->transport)
            owner.options_.source->on_rtcp(compound);
    }

    TestParticipant& owner;
    transport::WebRtcTransport transport;
    bool connected = false;
};

TestParticipant::TestParticipant(Loop& loop, const ServerProcess& server, std::string identity,
                                 std::string room, PeerOptions options)
    : loop_(loop),
      identity_(std::move(identity)),
      room_(std::move(room)),
      options_(options),
      token_(dev_token(identity_, room_)),
      socket_(std::make_unique<SignalingSocket>(loop, server.port())),
      audio_ssrc_(sfu::random_ssrc()),
      video_ssrc_(sfu::random_ssrc()) {
    if (socket_->closed()) problems_.push_back("signaling: " + socket_->error());
}

TestParticipant::~TestParticipant() {
    publisher_.reset();
    subscriber_.reset();
}

bool TestParticipant::publisher_connected() const {
    return publisher_ && publisher_->connected;
}

std::optional<transport::SrtpProfile> TestParticipant::subscriber_profile() const {
    return subscriber_ ? subscriber_->transport.srtp_profile() : std::nullopt;
}

bool TestParticipant::subscriber_connected() const {
    return subscriber_ && subscriber_->connected;
}

TestParticipant::Received TestParticipant::received(std::uint32_t ssrc) const {
    auto it = received_.find(ssrc);
    return it == received_.end() ? Received{} : it->second;
}

std::vector<TestParticipant::OfferedTrack> TestParticipant::offered() const {
    return offered_detail_;
}

bool TestParticipant::send_subscriber_rtcp(std::span<const std::uint8_t> compound) {
    return subscriber_ && subscriber_->transport.send_rtcp(compound);
}

std::size_t TestParticipant::offered_tracks() const {
    return offered_.size();
}

std::size_t TestParticipant::receiving_tracks(std::uint64_t at_least) const {
    std::size_t n = 0;
    for (const auto& [ssrc, track] : offered_) {
        auto it = received_.find(ssrc);
        if (it != received_.end() && it->second.packets >= at_least) ++n;
    }
    return n;
}

void TestParticipant::join() {
    socket_->send({{"type", "join"}, {"token", token_}});
}

void TestParticipant::publish() {
    publisher_ = std::make_unique<Leg>(*this, loop_, transport::DtlsIdentity::generate());
    transport::WebRtcTransport& t = publisher_->transport;
    if (std::string error = t.prepare_offer(); !error.empty()) {
        problems_.push_back("prepare_offer: " + error);
        return;
    }
    const std::string sdp = publisher_offer(
        t, t.local_fingerprint(), options_.audio ? std::optional(audio_ssrc_) : std::nullopt,
        options_.video ? std::optional(video_ssrc_) : std::nullopt, identity_);
    socket_->send({{"type", "publish"}, {"sdp", sdp}, {"id", next_id_++}});
}

void TestParticipant::leave() {
    leaving_ = true;
    socket_->send({{"type", "leave"}, {"id", next_id_++}});
}

void TestParticipant::step(Clock::time_point now) {
    while (auto message = socket_->take()) on_message(*message);
    if (publisher_connected()) send_media(now);
}

void TestParticipant::on_message(const nlohmann::json& message) {
    const std::string type = message.value("type", "");
    if (type == "joined") {
        joined_ = true;
    } else if (type == "answer") {
        on_answer(message);
    } else if (type == "subscribe_offer") {
        on_subscribe_offer(message);
    } else if (type == "left") {
        left_ = true;
    } else if (type == "error" || type == "kicked" || type == "roll_call") {
        problems_.push_back(message.dump());
    }
}

void TestParticipant::on_answer(const nlohmann::json& message) {
    std::string error;
    auto sdp = transport::parse_sdp(message.value("sdp", ""), error, {});
    auto parameters = sdp ? transport_parameters(*sdp) : std::nullopt;
    if (!publisher_ || !parameters) {
        problems_.push_back("unusable answer: " + error);
        return;
    }
    if (std::string failed = publisher_->transport.set_remote(*parameters); !failed.empty())
        problems_.push_back("set_remote: " + failed);
    answered_ = true;
}

void TestParticipant::on_subscribe_offer(const nlohmann::json& message) {
    const std::string text = message.value("sdp", "");
    std::string error;
    auto sdp = transport::parse_sdp(text, error, {});
    auto parameters = sdp ? transport_parameters(*sdp) : std::nullopt;
    if (!parameters) {
        problems_.push_back("unusable subscription offer: " + error);
        return;
    }
    // Which SSRC carries which track, and every SSRC the server may send.
    std::map<std::string, std::string> track_of_mid;
    for (const auto& entry : message.value("tracks", nlohmann::json::array())) {
        if (entry.contains("track") && entry["track"].is_string())
            track_of_mid[entry.value("mid", "")] = entry["track"].get<std::string>();
    }
    offered_.clear();
    offered_detail_.clear();
    for (const transport::SdpMedia& m : sdp->media) {
        parameters->ssrcs.insert(m.ssrcs.begin(), m.ssrcs.end());
        auto track = track_of_mid.find(m.mid);
        if (track == track_of_mid.end() || m.ssrcs.empty()) continue;
        OfferedTrack offered{track->second, m.kind_name, m.ssrcs.front(), 0};
        for (const transport::SdpSsrcGroup& group : m.ssrc_groups) {
            if (group.semantics == "FID" && group.ssrcs.size() == 2) {
                offered.ssrc = group.ssrcs[0];
                offered.rtx_ssrc = group.ssrcs[1];
            }
        }
        offered_[offered.ssrc] = offered.track;
        offered_detail_.push_back(std::move(offered));
    }
    if (!subscriber_) {
        subscriber_ = std::make_unique<Leg>(*this, loop_, transport::DtlsIdentity::generate());
        if (std::string failed = subscriber_->transport.start(*parameters); !failed.empty()) {
            problems_.push_back("subscriber start: " + failed);
            return;
        }
        // A sink measures delay: the kernel's receive time, not when the loop got round to it.
        if (options_.sink) subscriber_->transport.set_arrival_stamps(true);
    } else {
        subscriber_->transport.set_allowed_ssrcs(parameters->ssrcs);
        if (parameters->ice_ufrag != subscriber_remote_ufrag_) {
            // The server restarted ICE: this side restarts too (new credentials of its own).
            ++subscriber_restarts_;
            if (std::string failed = subscriber_->transport.restart_ice(
                    parameters->ice_ufrag, parameters->ice_pwd, parameters->candidates);
                !failed.empty()) {
                problems_.push_back("subscriber ICE restart: " + failed);
                return;
            }
        }
    }
    subscriber_remote_ufrag_ = parameters->ice_ufrag;
    const transport::WebRtcTransport& t = subscriber_->transport;
    const std::string answer = mirror_subscriber_offer(text, t.local_ufrag(), t.local_pwd(),
                                                       t.local_fingerprint(), t.local_setup());
    socket_->send({{"type", "subscribe_answer"},
                   {"sdp", answer},
                   {"version", message.value("version", 0)},
                   {"id", next_id_++}});
}

void TestParticipant::restart_subscriber_ice() {
    socket_->send({{"type", "restart_ice"}, {"target", "subscriber"}, {"id", next_id_++}});
}

void TestParticipant::send_media(Clock::time_point now) {
    transport::WebRtcTransport& t = publisher_->transport;
    if (options_.source) {
        options_.source->pump(t, now);
        return;
    }
    const auto elapsed = [&](Clock::time_point at) {
        return static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(at - started_).count());
    };
    if (options_.audio && now >= next_audio_) {
        const auto timestamp = static_cast<std::uint32_t>(elapsed(now) * 48 / 1000);
        t.send_rtp(rtp_packet(111, false, audio_sequence_++, timestamp, audio_ssrc_, 100));
        next_audio_ = now + options_.audio_interval;
    }
    if (options_.video && now >= next_video_) {
        const auto timestamp = static_cast<std::uint32_t>(elapsed(now) * 90 / 1000);
        auto packet = rtp_packet(96, true, static_cast<std::uint16_t>(video_sequence_++), timestamp,
                                 video_ssrc_, options_.video_payload);
        packet[12] = 0x10;  // VP8 descriptor: start of a partition, no extensions
        packet[13] = 0x00;  // VP8 payload header: a key frame
        t.send_rtp(packet);
        next_video_ = now + options_.video_interval;
    }
}

bool run_until(Loop& loop, const std::vector<TestParticipant*>& peers,
               const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    for (;;) {
        const auto now = Clock::now();
        for (TestParticipant* peer : peers) peer->step(now);
        if (done()) return true;
        if (now > deadline) return false;
        loop.run_for(std::chrono::milliseconds(2));
    }
}

std::string soak_cycle(Loop& loop, const ServerProcess& server, TestParticipant& resident,
                       const std::string& room, int index) {
    TestParticipant newcomer(loop, server, "newcomer-" + std::to_string(index), room);
    const std::vector<TestParticipant*> both{&resident, &newcomer};
    const auto stage = [&](const char* what, const std::function<bool()>& done) -> std::string {
        if (run_until(loop, both, done) && newcomer.problems().empty()) return {};
        std::string out = std::string("cycle ") + std::to_string(index) + ": " + what +
                          " (newcomer: subscriber " +
                          (newcomer.subscriber_connected() ? "connected" : "not connected") +
                          ", receives " + std::to_string(newcomer.receiving_tracks()) + " of " +
                          std::to_string(newcomer.offered_tracks()) + "; resident receives " +
                          std::to_string(resident.receiving_tracks()) + " of " +
                          std::to_string(resident.offered_tracks()) + ")";
        for (const auto& p : resident.problems()) out += "; resident: " + p;
        for (const auto& p : newcomer.problems()) out += "; " + p;
        return out;
    };
    newcomer.join();
    if (auto e = stage("join", [&] { return newcomer.joined(); }); !e.empty()) return e;
    newcomer.publish();
    if (auto e = stage("publish", [&] { return newcomer.publisher_connected(); }); !e.empty())
        return e;
    if (auto e = stage("media both ways",
                       [&] {
                           return newcomer.subscriber_connected() &&
                                  newcomer.offered_tracks() == 2 &&
                                  newcomer.receiving_tracks() == 2 &&
                                  resident.offered_tracks() == 2 &&
                                  resident.receiving_tracks() == 2;
                       });
        !e.empty())
        return e;
    newcomer.leave();
    if (auto e = stage("leave", [&] { return newcomer.left(); }); !e.empty()) return e;
    if (!run_until(loop, both, [&] { return resident.offered_tracks() == 0; }))
        return "cycle " + std::to_string(index) + ": the resident still receives the newcomer";
    return {};
}

}  // namespace rollcall::testpeer
