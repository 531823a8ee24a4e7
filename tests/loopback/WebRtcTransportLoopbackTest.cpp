// Two real WebRtcTransports (libnice ICE over UDP on 127.0.0.1, OpenSSL DTLS, libsrtp2)
// talking to each other: the offering side is what the SFU will be toward subscribers, the
// answering side what it is toward publishers. Runs inside a loopback-only namespace.
#include <arpa/inet.h>
#include <fcntl.h>
#include <glib.h>
#include <gtest/gtest.h>
#include <malloc.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <ctime>
#include <functional>
#include <thread>
#include <vector>

#include "transport/RtcpPacket.hpp"
#include "transport/WebRtcTransport.hpp"

namespace rollcall::transport {
namespace {

struct Peer : WebRtcTransport::Listener {
    std::vector<SdpCandidate> candidates;
    bool connected = false;
    std::string failure;
    std::vector<std::vector<std::uint8_t>> rtp;
    std::vector<std::vector<std::uint8_t>> rtcp;
    std::vector<std::string> unverified_paths;
    const WebRtcTransport* transport = nullptr;  // when set, each packet's arrival() is kept
    std::vector<std::chrono::steady_clock::time_point> arrivals;

    void on_transport_candidate(const SdpCandidate& c) override { candidates.push_back(c); }
    void on_transport_connected() override { connected = true; }
    void on_transport_failed(std::string_view reason) override { failure = std::string(reason); }
    void on_rtp(RtpPacket& packet) override {
        rtp.emplace_back(packet.bytes().begin(), packet.bytes().end());
        if (transport) arrivals.push_back(transport->arrival());
    }
    void on_rtcp(std::span<const std::uint8_t> c) override {
        rtcp.emplace_back(c.begin(), c.end());
    }
    void on_transport_unverified_path(const std::string&, const std::string& unverified) override {
        unverified_paths.push_back(unverified);
    }
    std::vector<std::string> reused_by;
    void on_transport_credential_reuse(const std::string&, const std::string& other) override {
        reused_by.push_back(other);
    }
};

// A NAT in front of a client, on 127.0.0.1: the client sends to `front`; the NAT forwards
// from its current mapping (one of two sockets) to the server and back. rebind() moves the
// client to the other mapping and forgets the old one, as a NAT that rebinds does.
// forge(true) makes it a client that forges its source address: its media and checks leave
// from 127.0.0.5, a host that answers nothing and only counts what it gets, while its answers
// to the server's checks keep leaving from the real mapping.
class Nat {
  public:
    Nat() {
        front_ = open_socket();
        for (int& s : mappings_) s = open_socket();
        forged_ = open_socket("127.0.0.5");
    }
    ~Nat() {
        ::close(front_);
        for (int s : mappings_) ::close(s);
        ::close(forged_);
    }
    void forge(bool on) { forging_ = on; }
    std::string forged_address() const { return "127.0.0.5:" + std::to_string(port_of(forged_)); }
    std::size_t forged_stun_received() const { return forged_stun_; }
    std::size_t forged_other_received() const { return forged_other_; }
    void set_server(const std::string& address, std::uint16_t port) {
        server_.sin_family = AF_INET;
        server_.sin_port = htons(port);
        ::inet_pton(AF_INET, address.c_str(), &server_.sin_addr);
    }
    std::uint16_t front_port() const { return port_of(front_); }
    std::string mapped_address() const {
        return "127.0.0.1:" + std::to_string(port_of(mappings_[current_]));
    }
    void rebind() { current_ = 1 - current_; }

    void pump() {
        std::array<std::uint8_t, 2048> buffer{};
        sockaddr_in from{};
        socklen_t length = sizeof(from);
        for (ssize_t n; (n = ::recvfrom(front_, buffer.data(), buffer.size(), 0,
                                        reinterpret_cast<sockaddr*>(&from), &length)) > 0;
             length = sizeof(from)) {
            client_ = from;
            const bool stun_answer = buffer[0] == 0x01;
            ::sendto(forging_ && !stun_answer ? forged_ : mappings_[current_], buffer.data(),
                     static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&server_),
                     sizeof(server_));
        }
        for (ssize_t n; (n = ::recv(forged_, buffer.data(), buffer.size(), 0)) > 0;)
            ++(buffer[0] < 4 ? forged_stun_ : forged_other_);
        for (int i = 0; i < 2; ++i) {
            for (ssize_t n; (n = ::recv(mappings_[i], buffer.data(), buffer.size(), 0)) > 0;) {
                if (i != current_) continue;  // the old mapping is gone
                ::sendto(front_, buffer.data(), static_cast<std::size_t>(n), 0,
                         reinterpret_cast<sockaddr*>(&client_), sizeof(client_));
            }
        }
    }

  private:
    static int open_socket(const char* address = "127.0.0.1") {
        const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        sockaddr_in any{};
        any.sin_family = AF_INET;
        ::inet_pton(AF_INET, address, &any.sin_addr);
        ::bind(s, reinterpret_cast<sockaddr*>(&any), sizeof(any));
        return s;
    }
    static std::uint16_t port_of(int s) {
        sockaddr_in bound{};
        socklen_t length = sizeof(bound);
        ::getsockname(s, reinterpret_cast<sockaddr*>(&bound), &length);
        return ntohs(bound.sin_port);
    }

    int front_ = -1;
    std::array<int, 2> mappings_{-1, -1};
    int current_ = 0;
    int forged_ = -1;
    bool forging_ = false;
    std::size_t forged_stun_ = 0;
    std::size_t forged_other_ = 0;
    sockaddr_in server_{};
    sockaddr_in client_{};
};

std::vector<std::uint8_t> rtp_packet(std::uint32_t ssrc, std::uint16_t sequence,
                                     std::uint8_t fill) {
    std::vector<std::uint8_t> p(12 + 200, fill);
    p[0] = 0x80;
    p[1] = 96;
    p[2] = static_cast<std::uint8_t>(sequence >> 8);
    p[3] = static_cast<std::uint8_t>(sequence);
    p[8] = static_cast<std::uint8_t>(ssrc >> 24);
    p[9] = static_cast<std::uint8_t>(ssrc >> 16);
    p[10] = static_cast<std::uint8_t>(ssrc >> 8);
    p[11] = static_cast<std::uint8_t>(ssrc);
    return p;
}

// Linux turns receive stamping on for the whole machine lazily, from a work queue, when a
// socket first asks: datagrams that arrive before that carry no stamp, and are stamped when
// they are read. This socket asks, and proves stamping is on (a datagram to itself, read 5 ms
// later, carries the time it came) before a test sends anything it measures; it keeps it on
// while it lives.
class KernelStampsOn {
  public:
    KernelStampsOn() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)) {
        const int on = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
        sockaddr_in self{};
        self.sin_family = AF_INET;
        self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof(self);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&self), sizeof(self));
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&self), &length);
        for (int attempt = 0; attempt < 100 && !stamped_; ++attempt) {
            const char byte = 0;
            ::sendto(fd_, &byte, 1, 0, reinterpret_cast<sockaddr*>(&self), sizeof(self));
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            timespec read{};
            ::clock_gettime(CLOCK_REALTIME, &read);
            char data = 0;
            alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(timespec))> control{};
            iovec vector{&data, 1};
            msghdr message{};
            message.msg_iov = &vector;
            message.msg_iovlen = 1;
            message.msg_control = control.data();
            message.msg_controllen = control.size();
            if (::recvmsg(fd_, &message, 0) != 1) continue;
            for (cmsghdr* c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
                timespec came{};
                std::memcpy(&came, CMSG_DATA(c), sizeof(came));
                const std::int64_t age_ns =
                    (read.tv_sec - came.tv_sec) * 1'000'000'000LL + (read.tv_nsec - came.tv_nsec);
                stamped_ = age_ns >= 2'000'000;  // not stamped as it was read
            }
        }
    }
    ~KernelStampsOn() { ::close(fd_); }
    KernelStampsOn(const KernelStampsOn&) = delete;
    KernelStampsOn& operator=(const KernelStampsOn&) = delete;
    bool stamped() const noexcept { return stamped_; }

  private:
    int fd_;
    bool stamped_ = false;
};

class WebRtcTransportLoopback : public ::testing::Test {
  protected:
    WebRtcTransportLoopback() : context_(g_main_context_new()) {}
    ~WebRtcTransportLoopback() override {
        offerer_.reset();
        answerer_.reset();
        while (g_main_context_iteration(context_, FALSE)) {
        }
        g_main_context_unref(context_);
    }

    // Runs the loop until `done` or the deadline; bounded.
    bool run_until(const std::function<bool()>& done,
                   std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            g_main_context_iteration(context_, FALSE);
            if (nat_) nat_->pump();
            g_usleep(1000);
        }
        return true;
    }

    static RemoteTransportParameters parameters_of(const WebRtcTransport& t,
                                                   const std::string& setup,
                                                   std::set<std::uint32_t> ssrcs,
                                                   const SdpFingerprint* fingerprint = nullptr) {
        RemoteTransportParameters p;
        p.ice_ufrag = t.local_ufrag();
        p.ice_pwd = t.local_pwd();
        p.fingerprint = fingerprint ? *fingerprint : t.local_fingerprint();
        p.setup = setup;
        p.candidates = t.local_candidates();
        p.ssrcs = std::move(ssrcs);
        return p;
    }

    // The offerer gathers and offers; the answerer starts from the offer; the answer returns.
    void connect(const SdpFingerprint* forged = nullptr) {
        offerer_ = std::make_unique<WebRtcTransport>(
            context_, offerer_identity_, std::vector<std::string>{"127.0.0.1"}, offerer_peer_);
        answerer_ = std::make_unique<WebRtcTransport>(
            context_, answerer_identity_, std::vector<std::string>{"127.0.0.1"}, answerer_peer_);
        ASSERT_EQ(offerer_->prepare_offer(), "");
        EXPECT_STREQ(offerer_->local_setup(), "actpass");
        ASSERT_FALSE(offerer_->local_candidates().empty());
        ASSERT_EQ(answerer_->start(parameters_of(*offerer_, "actpass", {kOffererSsrc}, forged)),
                  "");
        EXPECT_STREQ(answerer_->local_setup(), "passive");
        ASSERT_EQ(offerer_->set_remote(
                      parameters_of(*answerer_, answerer_->local_setup(), {kAnswererSsrc})),
                  "");
    }

    // The offerer (the client) reaches the answerer only through a NAT.
    void connect_through_nat() {
        nat_ = std::make_unique<Nat>();
        offerer_ = std::make_unique<WebRtcTransport>(
            context_, offerer_identity_, std::vector<std::string>{"127.0.0.1"}, offerer_peer_);
        answerer_ = std::make_unique<WebRtcTransport>(
            context_, answerer_identity_, std::vector<std::string>{"127.0.0.1"}, answerer_peer_);
        ASSERT_EQ(offerer_->prepare_offer(), "");
        RemoteTransportParameters offer = parameters_of(*offerer_, "actpass", {kOffererSsrc});
        // The answerer learns the client's (mapped) address from its checks.
        offer.candidates.clear();
        ASSERT_EQ(answerer_->start(offer), "");
        RemoteTransportParameters answer =
            parameters_of(*answerer_, answerer_->local_setup(), {kAnswererSsrc});
        ASSERT_FALSE(answer.candidates.empty());
        nat_->set_server(answer.candidates[0].address, answer.candidates[0].port);
        answer.candidates.resize(1);
        answer.candidates[0].port = nat_->front_port();  // the client talks to the NAT
        ASSERT_EQ(offerer_->set_remote(answer), "");
        ASSERT_TRUE(run_until([&] { return offerer_peer_.connected && answerer_peer_.connected; }))
            << "offerer: " << offerer_peer_.failure << " answerer: " << answerer_peer_.failure;
        EXPECT_EQ(answerer_->remote_address(), nat_->mapped_address());
    }

    static constexpr std::uint32_t kOffererSsrc = 0x11111111;
    static constexpr std::uint32_t kAnswererSsrc = 0x22222222;
    GMainContext* context_;
    std::shared_ptr<const DtlsIdentity> offerer_identity_ = DtlsIdentity::generate();
    std::shared_ptr<const DtlsIdentity> answerer_identity_ = DtlsIdentity::generate();
    Peer offerer_peer_, answerer_peer_;
    std::unique_ptr<WebRtcTransport> offerer_, answerer_;
    std::unique_ptr<Nat> nat_;
};

TEST_F(WebRtcTransportLoopback, ConnectsAndCarriesSrtpBothWays) {
    connect();
    ASSERT_TRUE(run_until([&] { return offerer_peer_.connected && answerer_peer_.connected; }))
        << "offerer: " << offerer_peer_.failure << " answerer: " << answerer_peer_.failure;
    EXPECT_EQ(offerer_->dtls().protocol_version(), "DTLSv1.2");
    EXPECT_EQ(offerer_->srtp_profile(), SrtpProfile::aead_aes_128_gcm);
    EXPECT_EQ(answerer_->remote_address()->rfind("127.0.0.1:", 0), 0u);

    ASSERT_TRUE(offerer_->send_rtp(rtp_packet(kOffererSsrc, 1, 0xab)));
    ASSERT_TRUE(answerer_->send_rtp(rtp_packet(kAnswererSsrc, 1, 0xcd)));
    const auto pli = write_pli(kAnswererSsrc, kOffererSsrc);
    ASSERT_TRUE(answerer_->send_rtcp(pli));
    ASSERT_TRUE(run_until([&] {
        return !answerer_peer_.rtp.empty() && !offerer_peer_.rtp.empty() &&
               !offerer_peer_.rtcp.empty();
    }));
    EXPECT_EQ(answerer_peer_.rtp[0], rtp_packet(kOffererSsrc, 1, 0xab));
    EXPECT_EQ(offerer_peer_.rtp[0], rtp_packet(kAnswererSsrc, 1, 0xcd));
    EXPECT_EQ(offerer_peer_.rtcp[0], std::vector<std::uint8_t>(pli.begin(), pli.end()));
}

TEST_F(WebRtcTransportLoopback, ArrivalStampsAreWhenEachPacketCameNotWhenItWasRead) {
    connect();
    ASSERT_TRUE(run_until([&] { return offerer_peer_.connected && answerer_peer_.connected; }));
    const KernelStampsOn stamps;
    ASSERT_TRUE(stamps.stamped());
    answerer_->set_arrival_stamps(true);
    answerer_peer_.transport = answerer_.get();
    // Sent 10 ms apart while the receiving loop does not run (a worker that runs late), then
    // read at once: the stamps still show the spacing, and none is in the future.
    constexpr int kPackets = 5;
    for (std::uint16_t i = 0; i < kPackets; ++i) {
        ASSERT_TRUE(offerer_->send_rtp(rtp_packet(kOffererSsrc, 100 + i, 0x10)));
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const auto read_from = std::chrono::steady_clock::now();
    ASSERT_TRUE(run_until([&] { return answerer_peer_.rtp.size() == kPackets; }));
    ASSERT_EQ(answerer_peer_.arrivals.size(), std::size_t{kPackets});
    for (std::size_t i = 1; i < kPackets; ++i) {
        EXPECT_GE(answerer_peer_.arrivals[i] - answerer_peer_.arrivals[i - 1],
                  std::chrono::milliseconds(8))
            << "packet " << i;
    }
    EXPECT_LE(answerer_peer_.arrivals.back(), read_from);
}

TEST_F(WebRtcTransportLoopback, DropsSsrcsTheOfferDidNotSignalAndRefusesToResend) {
    connect();
    ASSERT_TRUE(run_until([&] { return offerer_peer_.connected && answerer_peer_.connected; }));
    ASSERT_TRUE(offerer_->send_rtp(rtp_packet(0x99999999, 1, 0x01)));  // never signaled
    ASSERT_TRUE(offerer_->send_rtp(rtp_packet(kOffererSsrc, 2, 0x02)));
    EXPECT_FALSE(
        offerer_->send_rtp(rtp_packet(kOffererSsrc, 2, 0x02)));  // same index: SRTP refuses
    ASSERT_TRUE(run_until([&] { return !answerer_peer_.rtp.empty(); }));
    run_until([] { return false; }, std::chrono::milliseconds(200));
    ASSERT_EQ(answerer_peer_.rtp.size(), 1u);
    EXPECT_EQ(answerer_peer_.rtp[0][3], 2);
    EXPECT_EQ(answerer_->counters().dropped_unknown_ssrc, 1u);
}

// Authenticated SRTCP from ever new sender SSRCs (the peer holds the keys): libsrtp would keep
// a stream for each. Only the signaled SSRCs and a few receiver-only ones get one.
TEST_F(WebRtcTransportLoopback, SrtcpFromFreshSsrcsCreatesBoundedState) {
    connect();
    ASSERT_TRUE(run_until([&] { return offerer_peer_.connected && answerer_peer_.connected; }));
    const std::size_t signaled = answerer_->srtp_ssrc_count();
    for (std::uint32_t i = 0; i < 10000; ++i) {
        const auto pli = write_pli(0x50000000 + i, kAnswererSsrc);
        ASSERT_TRUE(offerer_->send_rtcp(pli));
        if (i % 50 == 49) run_until([] { return false; }, std::chrono::milliseconds(2));
    }
    // Loopback UDP may drop some of a burst; nearly all must have arrived and been judged.
    run_until(
        [&] {
            const auto& c = answerer_->counters();
            return c.rtcp_received + c.dropped_unknown_ssrc >= 10000;
        },
        std::chrono::seconds(5));
    const auto& counted = answerer_->counters();
    EXPECT_GE(counted.rtcp_received + counted.dropped_unknown_ssrc, 9000u)
        << "received " << counted.rtcp_received << ", refused " << counted.dropped_unknown_ssrc;
    EXPECT_EQ(answerer_->counters().rtcp_received, WebRtcTransport::kMaxReceiverOnlySsrcs);
    EXPECT_EQ(answerer_->srtp_ssrc_count(), signaled + WebRtcTransport::kMaxReceiverOnlySsrcs);
    // The signaled stream is undisturbed.
    ASSERT_TRUE(offerer_->send_rtp(rtp_packet(kOffererSsrc, 7, 0x07)));
    ASSERT_TRUE(run_until([&] { return !answerer_peer_.rtp.empty(); }));
    const auto pli = write_pli(kOffererSsrc, kAnswererSsrc);
    const auto before = answerer_->counters().rtcp_received;
    ASSERT_TRUE(offerer_->send_rtcp(pli));
    ASSERT_TRUE(run_until([&] { return answerer_->counters().rtcp_received > before; }));
}

// A subscriber connection outlives many tracks, each sent on a new SSRC; libsrtp keeps a
// stream per SSRC until told otherwise. Ending a track must free its stream.
TEST_F(WebRtcTransportLoopback, StreamsOfSsrcsNoLongerSentAreFreed) {
    connect();
    ASSERT_TRUE(run_until([&] { return offerer_peer_.connected && answerer_peer_.connected; }));
    const auto heap = [] { return static_cast<long>(mallinfo2().uordblks); };
    auto cycle = [&](std::uint32_t first, int count) {
        for (int i = 0; i < count; ++i) {
            const auto ssrc = first + static_cast<std::uint32_t>(i);
            ASSERT_TRUE(answerer_->send_rtp(rtp_packet(ssrc, 1, 0x33)));
            answerer_->stop_sending(ssrc);
        }
    };
    cycle(0x70000000, 100);  // warm up the allocator
    const long before = heap();
    cycle(0x71000000, 2000);
    const long grown = heap() - before;
    EXPECT_LT(grown, 64 * 1024) << "libsrtp kept " << grown / 2000 << " bytes per ended SSRC";
}

TEST_F(WebRtcTransportLoopback, AForgedFingerprintFailsClosed) {
    auto stranger = DtlsIdentity::generate();
    connect(&stranger->fingerprint());  // the answerer is told the wrong fingerprint
    ASSERT_TRUE(run_until([&] { return !answerer_peer_.failure.empty(); }));
    EXPECT_NE(answerer_peer_.failure.find("DTLS"), std::string::npos);
    EXPECT_FALSE(answerer_peer_.connected);
    EXPECT_FALSE(answerer_->connected());
    EXPECT_FALSE(answerer_->send_rtp(rtp_packet(kAnswererSsrc, 1, 0)));
}

// The answerer (the SFU toward a publisher) sits behind nothing; the offerer reaches it only
// through a NAT, which rebinds mid-call. The answerer's media path must follow the client to
// its new mapping on the first authenticated packet from there, and report nothing.
TEST_F(WebRtcTransportLoopback, MediaFollowsTheClientAcrossANatRebindingOnceItAuthenticates) {
    ASSERT_NO_FATAL_FAILURE(connect_through_nat());
    nat_->rebind();
    std::uint16_t sequence = 1;
    // The client keeps sending. libnice passes on data only from addresses ICE has validated,
    // so the new mapping counts once the client's next consent check has been answered
    // (a few seconds); its first SRTP packet after that authenticates it.
    ASSERT_TRUE(run_until([&] {
        offerer_->send_rtp(rtp_packet(kOffererSsrc, sequence++, 0xab));
        return answerer_->remote_address() == nat_->mapped_address();
    })) << "the answerer still sends to "
        << answerer_->remote_address().value_or("nowhere");
    offerer_peer_.rtp.clear();
    ASSERT_TRUE(answerer_->send_rtp(rtp_packet(kAnswererSsrc, 1, 0xcd)));
    ASSERT_TRUE(run_until([&] { return !offerer_peer_.rtp.empty(); }))
        << "nothing reached the client after the rebinding";
    EXPECT_EQ(offerer_peer_.rtp[0], rtp_packet(kAnswererSsrc, 1, 0xcd));
    run_until([] { return false; },
              std::chrono::milliseconds(IceAgent::kUnverifiedPathReportMs + 300));
    EXPECT_TRUE(answerer_peer_.unverified_paths.empty()) << answerer_peer_.unverified_paths[0];
    // The client's new mapping authenticated at once: a rebinding, not someone else's checks.
    EXPECT_TRUE(answerer_peer_.reused_by.empty()) << answerer_peer_.reused_by[0];
    EXPECT_TRUE(answerer_peer_.failure.empty()) << answerer_peer_.failure;
}

// The client holds the keys and forges its source address: its SRTP, SRTCP and checks arrive
// from 127.0.0.5, a host that never answers STUN, while it keeps answering the server's checks
// from its real mapping. Media must never go to 127.0.0.5: the path moves only to an address
// that answered a consent check. A real rebinding, which answers, still takes the path over.
TEST_F(WebRtcTransportLoopback, MediaNeverMovesToAnAddressThatDoesNotAnswerAConsentCheck) {
    ASSERT_NO_FATAL_FAILURE(connect_through_nat());
    const std::string established = nat_->mapped_address();
    ASSERT_EQ(answerer_->remote_address(), established);

    nat_->forge(true);
    // libnice passes data from 127.0.0.5 once a check of the client's came from there.
    std::uint16_t sequence = 1;
    std::size_t forged_seen = 0;
    ASSERT_TRUE(run_until([&] {
        answerer_peer_.rtp.clear();
        offerer_->send_rtp(rtp_packet(kOffererSsrc, sequence++, 0xab));
        offerer_->send_rtcp(write_pli(kOffererSsrc, kAnswererSsrc));
        run_until([] { return false; }, std::chrono::milliseconds(5));
        forged_seen += answerer_peer_.rtp.size();
        return forged_seen >= 20 && nat_->forged_stun_received() > 0;
    })) << "nothing from 127.0.0.5 authenticated, or no check went there";
    // Longer than the consent checks' tries: the silent address is given up on and reported.
    run_until(
        [&] {
            offerer_->send_rtp(rtp_packet(kOffererSsrc, sequence++, 0xab));
            answerer_->send_rtp(rtp_packet(kAnswererSsrc, sequence, 0xcd));
            return !answerer_peer_.unverified_paths.empty();
        },
        std::chrono::seconds(5));
    EXPECT_EQ(answerer_->remote_address(), established);
    EXPECT_EQ(nat_->forged_other_received(), 0u) << "media went to the address that never answered";
    ASSERT_EQ(answerer_peer_.unverified_paths.size(), 1u);
    EXPECT_EQ(answerer_peer_.unverified_paths[0], nat_->forged_address());
    offerer_peer_.rtp.clear();
    ASSERT_TRUE(answerer_->send_rtp(rtp_packet(kAnswererSsrc, 60000, 0xcd)));
    ASSERT_TRUE(run_until([&] { return !offerer_peer_.rtp.empty(); }))
        << "the established path lost the media";
    EXPECT_EQ(nat_->forged_other_received(), 0u) << "media went to the address that never answered";
    EXPECT_GE(nat_->forged_stun_received(), 3u);  // the consent checks it never answered

    // Now a real rebinding: the new mapping answers the server's check and takes the path.
    nat_->forge(false);
    nat_->rebind();
    ASSERT_TRUE(run_until([&] {
        offerer_->send_rtp(rtp_packet(kOffererSsrc, sequence++, 0xab));
        return answerer_->remote_address() == nat_->mapped_address();
    })) << "the answerer still sends to "
        << answerer_->remote_address().value_or("nowhere");
    EXPECT_EQ(nat_->forged_other_received(), 0u);
    EXPECT_TRUE(answerer_peer_.failure.empty()) << answerer_peer_.failure;
}

TEST_F(WebRtcTransportLoopback, RefusesAnAnswerThatSaysActpass) {
    offerer_ = std::make_unique<WebRtcTransport>(
        context_, offerer_identity_, std::vector<std::string>{"127.0.0.1"}, offerer_peer_);
    ASSERT_EQ(offerer_->prepare_offer(), "");
    RemoteTransportParameters bogus = parameters_of(*offerer_, "actpass", {1});
    EXPECT_NE(offerer_->set_remote(bogus), "");
}

}  // namespace
}  // namespace rollcall::transport
