#include "transport/IceAgent.hpp"

#include <gio/gio.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <nice/agent.h>
#include <openssl/rand.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <array>

#include "transport/AddressPolicy.hpp"
#include "transport/Census.hpp"
#include "transport/MainLoop.hpp"
#include "transport/SocketPoller.hpp"
#include "transport/StunCheck.hpp"

namespace rollcall::transport {

namespace {
constexpr unsigned kComponent = 1;  // rtcp-mux and BUNDLE: one component, one stream
constexpr std::size_t kMaxRemoteCandidates = 32;
constexpr guint kReceiveBatch = 8;
constexpr std::size_t kReceiveBuffer = 2048;            // libnice wants at least 1280 (STUN)
constexpr int kReceiveRounds = 4;                       // then the next main-loop turn: fairness
constexpr std::int64_t kMaxStampAgeNs = 1'000'000'000;  // older: a clock step, not a queue
constexpr std::size_t kMaxReportedPaths = 8;
constexpr std::size_t kMaxVerifiedPaths = 8;
// Consent checks (RFC 7675) to an address the media path would move to: a few at a time, a
// few tries each; an answer stands for the RFC's 30 s; one that never came holds for a while.
constexpr std::size_t kMaxProbes = 4;
constexpr int kProbeAttempts = 5;
constexpr unsigned kProbeIntervalMs = 200;
constexpr std::int64_t kConsentLifetimeUs = 30'000'000;
constexpr std::int64_t kRefusedHoldUs = 5'000'000;
constexpr std::size_t kMaxRemembered = 8;
constexpr std::uint32_t kProbePriority = (110u << 24) | (65535u << 8) | 255u;  // prflx, comp. 1

std::string to_string(const NiceAddress& address) {
    char text[NICE_ADDRESS_STRING_LEN];
    nice_address_to_string(&address, text);
    return std::string(text) + ":" + std::to_string(nice_address_get_port(&address));
}

bool is_ipv6(const NiceAddress& address) {
    return address.s.addr.sa_family == AF_INET6;
}

// When the datagram just read from `fd` reached the host, on the steady clock: its kernel
// receive time (wall clock) moved back by how long ago that was; `now` if there is none.
std::chrono::steady_clock::time_point kernel_arrival(int fd,
                                                     std::chrono::steady_clock::time_point now) {
    timespec stamp{};
    timespec wall{};
    if (::ioctl(fd, SIOCGSTAMPNS, &stamp) != 0 || ::clock_gettime(CLOCK_REALTIME, &wall) != 0)
        return now;
    const std::int64_t age =
        (wall.tv_sec - stamp.tv_sec) * 1'000'000'000 + (wall.tv_nsec - stamp.tv_nsec);
    if (age < 0 || age > kMaxStampAgeNs) return now;
    return now - std::chrono::nanoseconds(age);
}

// One worker thread receives for all its agents, one datagram batch at a time.
thread_local std::array<std::array<std::uint8_t, kReceiveBuffer>, kReceiveBatch> receive_buffers;
}  // namespace

struct IceAgent::Probe {
    NiceAddress to{};
    StunTransactionId id{};
    int sent = 0;
};

struct IceAgent::Paths {
    // What every send reads first, together (the first cache lines; prefetch_send()).
    bool pinned_set = false;
    int fd = -1;  // the media path's descriptor: media goes out with a plain sendto
    socklen_t destination_length = 0;
    sockaddr_storage destination{};
    NiceAddress from{};  // source of the datagram being delivered
    bool delivering = false;
    NiceAddress pinned{};       // the media path's remote end
    GSocket* socket = nullptr;  // our socket on the media path (a reference)
    bool diverted = false;      // ICE selected a pair elsewhere, one that never authenticated
    std::int64_t authenticated_at_us =
        0;                              // g_get_monotonic_time() of the last authenticated datagram
    bool restarting = false;            // a signaled ICE restart: the next change is expected
    std::vector<NiceAddress> verified;  // addresses that authenticated, newest last (bounded)
    std::vector<std::string> reported;
    // Peer-reflexive sources seen while connected, and when they are due to be judged.
    std::vector<std::pair<NiceAddress, std::int64_t>> strangers;
    std::vector<std::string> reused;  // reported as credential reuse (bounded)
    // Consent checks in flight, addresses that answered one and ones that never did, with
    // when (bounded).
    std::vector<Probe> probes;
    std::vector<std::pair<NiceAddress, std::int64_t>> consented;
    std::vector<std::pair<NiceAddress, std::int64_t>> refused;
    std::string remote_ufrag;
    std::string remote_pwd;
    std::uint64_t tie_breaker = 0;

    bool was_verified(const NiceAddress& address) const {
        return std::any_of(verified.begin(), verified.end(),
                           [&](const NiceAddress& v) { return nice_address_equal(&v, &address); });
    }
    // Whether `address` is in `list` with a time after `since`.
    static bool listed(const std::vector<std::pair<NiceAddress, std::int64_t>>& list,
                       const NiceAddress& address, std::int64_t since) {
        return std::any_of(list.begin(), list.end(), [&](const auto& entry) {
            return entry.second > since && nice_address_equal(&entry.first, &address);
        });
    }
    static void remember(std::vector<std::pair<NiceAddress, std::int64_t>>& list,
                         const NiceAddress& address, std::int64_t when) {
        std::erase_if(list, [&](const auto& e) { return nice_address_equal(&e.first, &address); });
        if (list.size() >= kMaxRemembered) list.erase(list.begin());
        list.emplace_back(address, when);
    }

    ~Paths() { release(); }
    void release() {
        if (socket) g_object_unref(socket);
        socket = nullptr;
        fd = -1;
        destination_length = 0;
    }
};

IceAgent::IceAgent(GMainContext* context, LocalNetwork network, Listener& listener)
    : context_(context),
      network_(std::move(network)),
      listener_(listener),
      paths_(std::make_unique<Paths>()) {
    RAND_bytes(reinterpret_cast<unsigned char*>(&paths_->tie_breaker), sizeof(std::uint64_t));
}

IceAgent::~IceAgent() {
    close();
}

bool IceAgent::start(bool controlling) {
    if (agent_) return false;
    // RFC 7675 consent freshness is off in libnice unless asked for.
    agent_ = nice_agent_new_full(context_, NICE_COMPATIBILITY_RFC5245,
                                 static_cast<NiceAgentOption>(NICE_AGENT_OPTION_CONSENT_FRESHNESS |
                                                              NICE_AGENT_OPTION_ICE_TRICKLE));
    if (!agent_) return false;
    census().ice_agents.fetch_add(1, std::memory_order_relaxed);
    g_object_set(agent_, "controlling-mode", controlling ? TRUE : FALSE, "ice-tcp", FALSE, "upnp",
                 FALSE, "keepalive-conncheck", TRUE, nullptr);
    // Check pacing Ta: 5 ms, RFC 8445's floor, rather than libnice's 20. One bundled component
    // has few pairs, so this costs little, and the answer's credentials usually arrive just
    // after the peer's first check: the triggered check that answers it waits one Ta.
    g_object_set(agent_, "stun-pacing-timer", guint{kCheckPacingMs}, nullptr);
    int added = 0;
    for (const std::string& text : network_.addresses) {
        NiceAddress address;
        nice_address_init(&address);
        if (nice_address_set_from_string(&address, text.c_str()) &&
            nice_agent_add_local_address(agent_, &address))
            ++added;
    }
    if (added == 0) return false;
    stream_ = nice_agent_add_stream(agent_, 1);
    if (stream_ == 0) return false;
    nice_agent_set_stream_name(agent_, stream_, "application");
    g_signal_connect(agent_, "new-candidate-full", G_CALLBACK(&IceAgent::on_candidate), this);
    g_signal_connect(agent_, "component-state-changed", G_CALLBACK(&IceAgent::on_state_changed),
                     this);
    g_signal_connect(agent_, "new-remote-candidate-full",
                     G_CALLBACK(&IceAgent::on_remote_candidate), this);
    g_signal_connect(agent_, "new-selected-pair-full", G_CALLBACK(&IceAgent::on_selected_pair),
                     this);
    if (!nice_agent_gather_candidates(agent_, stream_)) return false;
    read_credentials();
    // We receive with nice_agent_recv_messages_nonblocking rather than attach_recv: only it
    // tells us where each datagram came from, and the media path depends on that.
    return watch_sockets();
}

bool IceAgent::watch_sockets() {
    poller_ = SocketPoller::for_context(context_);
    if (!poller_) return false;
    GPtrArray* sockets = nice_agent_get_sockets(agent_, stream_, kComponent);
    if (!sockets) return false;
    for (guint i = 0; i < sockets->len; ++i) {
        // libnice holds the socket until the agent goes, after close() has removed the watch.
        auto* socket = static_cast<GSocket*>(g_ptr_array_index(sockets, i));
        if (g_socket_get_family(socket) == G_SOCKET_FAMILY_IPV4) {
            // Don't fragment (the path MTU itself is not tracked: PROBE). A WebRTC datagram
            // is at most ~1.3 KB, and the kernel skips choosing an IP ID for every packet.
            const int probe = IP_PMTUDISC_PROBE;
            ::setsockopt(g_socket_get_fd(socket), IPPROTO_IP, IP_MTU_DISCOVER, &probe,
                         sizeof(probe));
        }
        if (const auto token =
                poller_->add(g_socket_get_fd(socket), [this, socket] { receive_ready(socket); }))
            socket_watches_.push_back(token);
    }
    g_ptr_array_unref(sockets);
    return !socket_watches_.empty();
}

void IceAgent::receive_ready(GSocket* socket) {
    // Stamped arrivals need one datagram per read: the kernel keeps the last one's time.
    const int rounds = arrival_stamps_ ? kReceiveRounds * int{kReceiveBatch} : kReceiveRounds;
    for (int round = 0; round < rounds && agent_; ++round) {
        // While consent checks are out, their answers are taken off the socket before libnice,
        // which would drop them as strangers: one datagram at a time, the next one peeked.
        const guint batch =
            paths_->probes.empty() && !nice_failed_ && !arrival_stamps_ ? kReceiveBatch : 1;
        if (batch == 1) take_probe_answers(socket);
        if (nice_failed_) drop_stun_responses(socket);
        std::array<GInputVector, kReceiveBatch> vectors{};
        std::array<NiceAddress, kReceiveBatch> from{};
        std::array<NiceInputMessage, kReceiveBatch> messages{};
        for (guint i = 0; i < batch; ++i) {
            vectors[i] = {receive_buffers[i].data(), receive_buffers[i].size()};
            messages[i] = {&vectors[i], 1, &from[i], 0};
        }
        GError* error = nullptr;
        // STUN is consumed inside; only DTLS, SRTP and the like come out.
        const gint received = nice_agent_recv_messages_nonblocking(
            agent_, stream_, kComponent, messages.data(), batch, nullptr, &error);
        if (error) g_error_free(error);
        if (received <= 0) return;
        arrival_ = std::chrono::steady_clock::now();
        if (arrival_stamps_) arrival_ = kernel_arrival(g_socket_get_fd(socket), arrival_);
        for (gint i = 0; i < received && state_ != IceState::closed; ++i) {
            paths_->from = from[i];
            paths_->delivering = true;
            listener_.on_ice_data(
                std::span<const std::uint8_t>(receive_buffers[i].data(), messages[i].length));
            paths_->delivering = false;
        }
        if (received < static_cast<gint>(batch)) return;
    }
}

void IceAgent::set_arrival_stamps(bool on) noexcept {
    if (on && !arrival_stamps_ && agent_ && stream_ != 0) {
        // The kernel stamps only what arrives after a socket first asked for a stamp (the
        // answer now is nothing). Not SO_TIMESTAMPNS: that sends stamps to control messages
        // libnice never reads, and leaves the socket's last stamp unset.
        if (GPtrArray* sockets = nice_agent_get_sockets(agent_, stream_, kComponent)) {
            for (guint i = 0; i < sockets->len; ++i) {
                timespec stamp{};
                ::ioctl(g_socket_get_fd(static_cast<GSocket*>(g_ptr_array_index(sockets, i))),
                        SIOCGSTAMPNS, &stamp);
            }
            g_ptr_array_unref(sockets);
        }
    }
    arrival_stamps_ = on;
}

void IceAgent::take_probe_answers(GSocket* socket) {
    Paths& paths = *paths_;
    const int fd = g_socket_get_fd(socket);
    std::array<std::uint8_t, kReceiveBuffer>& buffer = receive_buffers[0];
    for (std::size_t i = 0; i < kReceiveBatch && !paths.probes.empty(); ++i) {
        sockaddr_storage source{};
        socklen_t length = sizeof(source);
        const ssize_t peeked = ::recvfrom(fd, buffer.data(), buffer.size(), MSG_PEEK | MSG_DONTWAIT,
                                          reinterpret_cast<sockaddr*>(&source), &length);
        if (peeked <= 0) return;
        const auto datagram = std::span<const std::uint8_t>(buffer.data(), std::size_t(peeked));
        const auto id = binding_success_id(datagram);
        auto probe = std::find_if(paths.probes.begin(), paths.probes.end(),
                                  [&](const Probe& p) { return id && p.id == *id; });
        if (probe == paths.probes.end()) return;  // libnice's
        ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
        NiceAddress answered;
        nice_address_init(&answered);
        nice_address_set_from_sockaddr(&answered, reinterpret_cast<const sockaddr*>(&source));
        if (!nice_address_equal(&answered, &probe->to) ||
            !is_binding_success(datagram, probe->id, paths.remote_pwd))
            continue;  // forged or from elsewhere: the check stays open
        const NiceAddress to = probe->to;
        paths.probes.erase(probe);
        Paths::remember(paths.consented, to, g_get_monotonic_time());
        move_path(to);
    }
}

void IceAgent::drop_stun_responses(GSocket* socket) {
    const int fd = g_socket_get_fd(socket);
    for (std::size_t i = 0; i < kReceiveBatch; ++i) {
        std::array<std::uint8_t, 2> type{};
        if (::recv(fd, type.data(), type.size(), MSG_PEEK | MSG_DONTWAIT) != 2) return;
        // STUN (RFC 7983: first byte 0..3) of the response classes (RFC 8489 §5: C1 set).
        if (type[0] > 3 || (type[0] & 0x01) == 0) return;
        ::recv(fd, type.data(), type.size(), MSG_DONTWAIT);  // the whole datagram goes
    }
}

void IceAgent::authenticated() {
    Paths& paths = *paths_;
    if (!agent_ || !paths.delivering) return;
    if (paths.pinned_set && nice_address_equal(&paths.pinned, &paths.from)) {
        paths.authenticated_at_us = g_get_monotonic_time();
        paths.restarting = false;
        return;
    }
    // A new address. The peer holds the keys but may forge its source address, so media moves
    // there only once the address has answered a check of ours (RFC 7675 consent): libnice's,
    // when it selected the pair, or ours.
    if (has_consented(paths.from)) {
        move_path(paths.from);
        return;
    }
    probe(paths.from);
}

bool IceAgent::has_consented(const NiceAddress& address) const {
    NiceCandidate* local = nullptr;
    NiceCandidate* remote = nullptr;
    if (nice_agent_get_selected_pair(agent_, stream_, kComponent, &local, &remote) && remote &&
        nice_address_equal(&remote->addr, &address))
        return true;
    return Paths::listed(paths_->consented, address, g_get_monotonic_time() - kConsentLifetimeUs);
}

GSocket* IceAgent::socket_toward(const NiceAddress& address) const {
    // The selected pair's socket when it leads there, else one of the address family (all
    // ours are host candidates, so either reaches the peer). A new reference.
    NiceCandidate* local = nullptr;
    NiceCandidate* remote = nullptr;
    if (nice_agent_get_selected_pair(agent_, stream_, kComponent, &local, &remote) && remote &&
        nice_address_equal(&remote->addr, &address)) {
        if (GSocket* socket = nice_agent_get_selected_socket(agent_, stream_, kComponent))
            return socket;
    }
    GSocket* socket = nullptr;
    GPtrArray* sockets = nice_agent_get_sockets(agent_, stream_, kComponent);
    for (guint i = 0; sockets && i < sockets->len && !socket; ++i) {
        auto* candidate = static_cast<GSocket*>(g_ptr_array_index(sockets, i));
        const bool v6 = g_socket_get_family(candidate) == G_SOCKET_FAMILY_IPV6;
        if (v6 == is_ipv6(address)) socket = static_cast<GSocket*>(g_object_ref(candidate));
    }
    if (sockets) g_ptr_array_unref(sockets);
    return socket;
}

void IceAgent::move_path(const NiceAddress& address) {
    Paths& paths = *paths_;
    GSocket* socket = socket_toward(address);
    if (!socket) return;  // nothing to send on: the old path stays
    paths.release();
    paths.socket = socket;
    paths.fd = g_socket_get_fd(socket);
    nice_address_copy_to_sockaddr(&address, reinterpret_cast<sockaddr*>(&paths.destination));
    paths.destination_length = is_ipv6(address) ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    paths.pinned = address;
    paths.pinned_set = true;
    paths.authenticated_at_us = g_get_monotonic_time();
    if (!paths.was_verified(address)) {
        if (paths.verified.size() >= kMaxVerifiedPaths)
            paths.verified.erase(paths.verified.begin());
        paths.verified.push_back(address);
    }
    paths.restarting = false;
    selected_pair_changed();
}

void IceAgent::probe(const NiceAddress& address) {
    Paths& paths = *paths_;
    const std::int64_t now = g_get_monotonic_time();
    const bool probing = std::any_of(paths.probes.begin(), paths.probes.end(), [&](const auto& p) {
        return nice_address_equal(&p.to, &address);
    });
    if (probing || paths.probes.size() >= kMaxProbes || paths.remote_pwd.empty() ||
        Paths::listed(paths.refused, address, now - kRefusedHoldUs))
        return;
    Probe probe;
    probe.to = address;
    if (RAND_bytes(probe.id.data(), static_cast<int>(probe.id.size())) != 1) return;
    paths.probes.push_back(probe);
    send_probe(paths.probes.back());
    if (!probe_timer_.active()) {
        probe_timer_.start(context_, std::chrono::milliseconds(kProbeIntervalMs),
                           [this] { return retry_probes(); });
    }
}

void IceAgent::send_probe(Probe& probe) {
    Paths& paths = *paths_;
    GSocket* socket = socket_toward(probe.to);
    if (!socket) return;
    gboolean controlling = FALSE;
    g_object_get(agent_, "controlling-mode", &controlling, nullptr);
    const auto request = write_binding_request(
        probe.id, ConsentCheck{paths.remote_ufrag + ":" + local_ufrag_, paths.remote_pwd,
                               controlling != FALSE, paths.tie_breaker, kProbePriority});
    sockaddr_storage native{};
    nice_address_copy_to_sockaddr(&probe.to, reinterpret_cast<sockaddr*>(&native));
    GSocketAddress* destination = g_socket_address_new_from_native(
        &native, is_ipv6(probe.to) ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
    g_socket_send_to(socket, destination, reinterpret_cast<const gchar*>(request.data()),
                     request.size(), nullptr, nullptr);
    g_object_unref(destination);
    g_object_unref(socket);
    ++probe.sent;
}

bool IceAgent::retry_probes() {
    Paths& paths = *paths_;
    if (!agent_) return false;
    for (auto it = paths.probes.begin(); it != paths.probes.end();) {
        if (it->sent < kProbeAttempts) {
            send_probe(*it);
            ++it;
            continue;
        }
        // Authenticated media came from there, and it never answered: a forged source address,
        // most likely. Media stays where it is.
        const NiceAddress silent = it->to;
        it = paths.probes.erase(it);
        Paths::remember(paths.refused, silent, g_get_monotonic_time());
        report_path(to_string(silent));
    }
    return !paths.probes.empty();
}

void IceAgent::on_selected_pair(NiceAgent*, unsigned, unsigned, void*, void*, void* self_ptr) {
    static_cast<IceAgent*>(self_ptr)->selected_pair_changed();
}

void IceAgent::selected_pair_changed() {
    Paths& paths = *paths_;
    if (!agent_ || !paths.pinned_set) return;
    NiceCandidate* local = nullptr;
    NiceCandidate* remote = nullptr;
    paths.diverted = nice_agent_get_selected_pair(agent_, stream_, kComponent, &local, &remote) &&
                     remote && !nice_address_equal(&remote->addr, &paths.pinned);
    unverified_timer_.cancel();
    // A pair back to an address that authenticated before (the client's previous NAT mapping,
    // say) is no stranger; media still goes where the newest authenticated packet came from.
    if (!paths.diverted || paths.restarting || paths.was_verified(remote->addr)) return;
    unverified_timer_.start(context_, std::chrono::milliseconds(kUnverifiedPathReportMs), [this] {
        report_unverified_path();
        return false;
    });
}

void IceAgent::report_unverified_path() {
    Paths& paths = *paths_;
    NiceCandidate* local = nullptr;
    NiceCandidate* remote = nullptr;
    if (!agent_ || !paths.diverted ||
        !nice_agent_get_selected_pair(agent_, stream_, kComponent, &local, &remote) || !remote ||
        paths.was_verified(remote->addr)) {
        return;
    }
    report_path(to_string(remote->addr));
}

void IceAgent::report_path(const std::string& unverified) {
    Paths& paths = *paths_;
    if (!paths.pinned_set ||
        std::find(paths.reported.begin(), paths.reported.end(), unverified) != paths.reported.end())
        return;
    if (paths.reported.size() >= kMaxReportedPaths)
        return;  // a flood of addresses: the first ones tell the story
    paths.reported.push_back(unverified);
    listener_.on_ice_unverified_path(to_string(paths.pinned), unverified);
}

void IceAgent::on_remote_candidate(NiceAgent*, void* candidate, void* self_ptr) {
    auto* self = static_cast<IceAgent*>(self_ptr);
    auto* nice = static_cast<NiceCandidate*>(candidate);
    Paths& paths = *self->paths_;
    // Only a check from an address the peer never signaled, once the path is established.
    if (self->state_ != IceState::connected || !paths.pinned_set || paths.restarting) return;
    if (nice->type != NICE_CANDIDATE_TYPE_PEER_REFLEXIVE || paths.was_verified(nice->addr)) return;
    if (nice_address_equal(&nice->addr, &paths.pinned) ||
        paths.strangers.size() >= kMaxReportedPaths)
        return;
    paths.strangers.emplace_back(nice->addr,
                                 g_get_monotonic_time() + kCredentialReuseReportMs * 1000);
    if (!self->stranger_timer_.active()) {
        self->stranger_timer_.start(self->context_, std::chrono::milliseconds(50),
                                    [self] { return self->report_strangers(); });
    }
}

bool IceAgent::report_strangers() {
    Paths& paths = *paths_;
    if (!agent_) return false;
    const std::int64_t now = g_get_monotonic_time();
    GSList* remotes = nice_agent_get_remote_candidates(agent_, stream_, kComponent);
    for (auto it = paths.strangers.begin(); it != paths.strangers.end();) {
        if (it->second > now) {
            ++it;
            continue;
        }
        const NiceAddress address = it->first;
        it = paths.strangers.erase(it);
        // Authenticated media came from it (a NAT rebinding), or the peer signaled it since.
        bool known = paths.was_verified(address);
        for (GSList* i = remotes; i && !known; i = i->next) {
            auto* c = static_cast<NiceCandidate*>(i->data);
            known = c->type != NICE_CANDIDATE_TYPE_PEER_REFLEXIVE &&
                    nice_address_equal(&c->addr, &address);
        }
        const std::string text = to_string(address);
        if (known ||
            std::find(paths.reused.begin(), paths.reused.end(), text) != paths.reused.end() ||
            paths.reused.size() >= kMaxReportedPaths) {
            continue;
        }
        paths.reused.push_back(text);
        listener_.on_ice_credential_reuse(to_string(paths.pinned), text);
    }
    g_slist_free_full(remotes, reinterpret_cast<GDestroyNotify>(&nice_candidate_free));
    return !paths.strangers.empty();
}

void IceAgent::read_credentials() {
    gchar* ufrag = nullptr;
    gchar* pwd = nullptr;
    if (nice_agent_get_local_credentials(agent_, stream_, &ufrag, &pwd)) {
        local_ufrag_ = ufrag;
        local_pwd_ = pwd;
    }
    g_free(ufrag);
    g_free(pwd);
}

void IceAgent::on_candidate(NiceAgent* agent, void* candidate, void* self_ptr) {
    auto* self = static_cast<IceAgent*>(self_ptr);
    auto* nice_candidate = static_cast<NiceCandidate*>(candidate);
    gchar* line = nice_agent_generate_local_candidate_sdp(agent, nice_candidate);
    if (!line) return;
    std::string_view text(line);
    if (text.starts_with("a=")) text.remove_prefix(2);
    auto parsed = parse_candidate(text);
    g_free(line);
    if (!parsed) return;
    self->local_candidates_.push_back(*parsed);
    self->listener_.on_ice_candidate(*parsed);
}

void IceAgent::on_state_changed(NiceAgent*, unsigned, unsigned, unsigned state, void* self_ptr) {
    auto* self = static_cast<IceAgent*>(self_ptr);
    self->nice_failed_ = state == NICE_COMPONENT_STATE_FAILED;
    IceState next = self->state_;
    switch (static_cast<NiceComponentState>(state)) {
        case NICE_COMPONENT_STATE_CONNECTING:
            next = IceState::checking;
            break;
        case NICE_COMPONENT_STATE_CONNECTED:
        case NICE_COMPONENT_STATE_READY:
            next = IceState::connected;
            break;
        case NICE_COMPONENT_STATE_FAILED:
            next = IceState::failed;
            break;
        default:
            return;
    }
    if (next == self->state_) return;
    self->state_ = next;
    self->listener_.on_ice_state(next);
}

bool IceAgent::set_remote_credentials(const std::string& ufrag, const std::string& pwd) {
    // RFC 8839 §5.4: ufrag 4..256 and pwd 22..256 ice-chars.
    if (!agent_ || ufrag.size() < 4 || ufrag.size() > 256 || pwd.size() < 22 || pwd.size() > 256)
        return false;
    if (!nice_agent_set_remote_credentials(agent_, stream_, ufrag.c_str(), pwd.c_str()))
        return false;
    paths_->remote_ufrag = ufrag;
    paths_->remote_pwd = pwd;
    return true;
}

bool IceAgent::add_remote_candidate(const SdpCandidate& candidate) {
    if (!agent_ || candidate.transport != "udp" || candidate.component != kComponent) return false;
    if (remote_candidates_ >= kMaxRemoteCandidates) return false;
    // Never probe where a participant points us unless the server's own addresses are there.
    if (!candidate_address_allowed(candidate.address, network_)) return false;
    NiceAddress address;
    nice_address_init(&address);
    if (!nice_address_set_from_string(&address, candidate.address.c_str()))
        return false;  // e.g. mDNS names
    NiceCandidateType type = NICE_CANDIDATE_TYPE_HOST;
    if (candidate.type == "srflx")
        type = NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE;
    else if (candidate.type == "prflx")
        type = NICE_CANDIDATE_TYPE_PEER_REFLEXIVE;
    else if (candidate.type == "relay")
        type = NICE_CANDIDATE_TYPE_RELAYED;
    NiceCandidate* nice = nice_candidate_new(type);
    nice->stream_id = stream_;
    nice->component_id = kComponent;
    nice->transport = NICE_CANDIDATE_TRANSPORT_UDP;
    nice->priority = candidate.priority;
    nice->addr = address;
    nice_address_set_port(&nice->addr, candidate.port);
    g_strlcpy(nice->foundation, candidate.foundation.c_str(), NICE_CANDIDATE_MAX_FOUNDATION);
    GSList* list = g_slist_append(nullptr, nice);
    const int added = nice_agent_set_remote_candidates(agent_, stream_, kComponent, list);
    g_slist_free_full(list, reinterpret_cast<GDestroyNotify>(&nice_candidate_free));
    if (added == 1) ++remote_candidates_;
    return added == 1;
}

bool IceAgent::send(std::span<const std::uint8_t> datagram) {
    if (!agent_) return false;
    // Once a path authenticated, everything goes there, whatever ICE has selected since and
    // whatever state it is in (checking during an ICE restart, or failed on a pair someone
    // else nominated and abandoned). A plain sendto: GIO's wrapper converts the address and
    // checks the socket on every call, a tenth of the cost of forwarding a packet.
    if (paths_->pinned_set) {
        return ::sendto(paths_->fd, datagram.data(), datagram.size(), MSG_DONTWAIT,
                        reinterpret_cast<const sockaddr*>(&paths_->destination),
                        paths_->destination_length) >= 0;
    }
    if (state_ != IceState::connected) return false;
    return nice_agent_send(agent_, stream_, kComponent, static_cast<guint>(datagram.size()),
                           reinterpret_cast<const gchar*>(datagram.data())) >= 0;
}

bool IceAgent::restart() {
    if (!agent_ || !nice_agent_restart_stream(agent_, stream_)) return false;
    remote_candidates_ = 0;  // the restart dropped the peer's candidates
    paths_->restarting = true;
    // Consent given under the old credentials vouches for nothing under the new ones.
    paths_->probes.clear();
    paths_->consented.clear();
    paths_->refused.clear();
    read_credentials();
    state_ = IceState::checking;
    return true;
}

void IceAgent::close() {
    if (!agent_) return;
    state_ = IceState::closed;
    for (const std::uint64_t token : socket_watches_) poller_->remove(token);
    socket_watches_.clear();
    unverified_timer_.cancel();
    stranger_timer_.cancel();
    probe_timer_.cancel();
    paths_->probes.clear();
    paths_->release();
    paths_->pinned_set = false;
    paths_->diverted = false;
    g_signal_handlers_disconnect_by_data(agent_, this);
    nice_agent_remove_stream(agent_, stream_);
    g_object_unref(agent_);
    agent_ = nullptr;
    census().ice_agents.fetch_sub(1, std::memory_order_relaxed);
}

bool IceAgent::authenticated_within(std::chrono::milliseconds window) const {
    if (!agent_ || !paths_->pinned_set) return false;
    return g_get_monotonic_time() - paths_->authenticated_at_us <=
           static_cast<std::int64_t>(window.count()) * 1000;
}

std::optional<std::string> IceAgent::remote_address() const {
    if (!agent_) return std::nullopt;
    if (paths_->pinned_set) return to_string(paths_->pinned);
    NiceCandidate* local = nullptr;
    NiceCandidate* remote = nullptr;
    if (!nice_agent_get_selected_pair(agent_, stream_, kComponent, &local, &remote) || !remote)
        return std::nullopt;
    return to_string(remote->addr);
}

std::string_view to_string(IceState state) noexcept {
    switch (state) {
        case IceState::idle:
            return "new";
        case IceState::checking:
            return "checking";
        case IceState::connected:
            return "connected";
        case IceState::failed:
            return "failed";
        case IceState::closed:
            return "closed";
    }
    return "closed";
}

}  // namespace rollcall::transport
