#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "transport/AddressPolicy.hpp"
#include "transport/MainLoop.hpp"
#include "transport/Sdp.hpp"
#include "transport/SocketPoller.hpp"

using GMainContext = struct _GMainContext;
using GSource = struct _GSource;
using GSocket = struct _GSocket;
using NiceAddress = struct _NiceAddress;
using NiceAgent = struct _NiceAgent;

namespace rollcall::transport {

enum class IceState : std::uint8_t { idle, checking, connected, failed, closed };

// Full ICE (RFC 8445) for one bundled, rtcp-muxed component, on libnice. Lives on one
// worker's GMainContext and is only touched from that thread. Gathers host candidates on
// the configured addresses only, keeps consent freshness on (RFC 7675), and trickles.
//
// The media path is pinned (docs/design.md, Security invariants). ICE alone may move the selected
// pair to any address that answers with the right credentials, and credentials leak with the SDP.
// So once the owner says a datagram authenticated (the DTLS handshake finished, SRTP/SRTCP passed),
// its source address becomes the media path, and everything we send goes there even if ICE selects
// another pair, and whatever state ICE is in. Only an authenticated datagram from a new address
// moves the path, and only once that address has consented (RFC 7675): it answered a STUN check
// of ours (libnice's, which selected the pair, or a consent check sent for the purpose), so a
// peer forging its source address cannot aim our media at someone else. A selected pair that
// leads elsewhere and does not authenticate within a few seconds, and an address that
// authenticated but never answered, are reported (on_ice_unverified_path), once per address.
class IceAgent {
  public:
    class Listener {
      public:
        virtual ~Listener() = default;
        virtual void on_ice_candidate(const SdpCandidate& candidate) = 0;
        virtual void on_ice_state(IceState state) = 0;
        virtual void on_ice_data(std::span<const std::uint8_t> datagram) = 0;
        // ICE selected a pair to `unverified` ("address:port") and nothing from it authenticated,
        // or media authenticated from it but it never answered a consent check; media stays on
        // `established`.
        virtual void on_ice_unverified_path(const std::string& established,
                                            const std::string& unverified) = 0;
        // Checks authenticated with our credentials came from `other` ("address:port"), an
        // address the peer never signaled and nothing authenticated from, while connected on
        // `established`: someone else holds the credentials, even if ICE never selects them.
        virtual void on_ice_credential_reuse(const std::string& /*established*/,
                                             const std::string& /*other*/) {}
    };

    // How long a stranger's checks may wait for authenticated media from their address (a
    // NAT rebinding brings it at once) before they are reported as credential reuse.
    static constexpr unsigned kCredentialReuseReportMs = 200;

    static constexpr unsigned kCheckPacingMs = 5;

    // How long a newly selected pair may take to authenticate before it is reported.
    static constexpr unsigned kUnverifiedPathReportMs = 2000;

    IceAgent(GMainContext* context, LocalNetwork network, Listener& listener);
    ~IceAgent();
    IceAgent(const IceAgent&) = delete;
    IceAgent& operator=(const IceAgent&) = delete;

    // Creates the stream and gathers; false when no configured address could be used.
    // `controlling`: true when we offered (the peer answers us); false when the peer offered.
    bool start(bool controlling);
    const std::string& local_ufrag() const noexcept { return local_ufrag_; }
    const std::string& local_pwd() const noexcept { return local_pwd_; }
    const std::vector<SdpCandidate>& local_candidates() const noexcept { return local_candidates_; }

    bool set_remote_credentials(const std::string& ufrag, const std::string& pwd);
    // UDP candidates on IP addresses only; false for anything else.
    bool add_remote_candidate(const SdpCandidate& candidate);
    bool send(std::span<const std::uint8_t> datagram);
    // For a fan-out's look-ahead: the lines of this object send() reads, and (once those are
    // in) the media path's.
    std::array<const void*, 2> send_lines() const noexcept { return {&agent_, &paths_}; }
    void prefetch_send() const noexcept { __builtin_prefetch(paths_.get()); }
    // The datagram being delivered through on_ice_data authenticated: its source is the
    // media path from now on. Only valid inside on_ice_data.
    void authenticated();
    // Whether something authenticated from the media path within `window`: the peer there
    // is alive and wants our traffic (consent, when ICE's own is gone; see WebRtcTransport).
    bool authenticated_within(std::chrono::milliseconds window) const;
    // New local credentials and fresh checks (RFC 8445 §9). The media path stays pinned until
    // something authenticates over the new pair; that change is expected, not reported.
    bool restart();
    void close();

    IceState state() const noexcept { return state_; }

    // When the datagram being delivered through on_ice_data reached the host. With stamps on,
    // the kernel's receive time (SIOCGSTAMPNS, one datagram per read): a congestion-feedback
    // sender needs each packet's own arrival, and a worker thread that ran late would otherwise
    // report a burst arriving at once (Chromium then discards its bandwidth probes). Off: when
    // the read began.
    void set_arrival_stamps(bool on) noexcept;
    std::chrono::steady_clock::time_point arrival() const noexcept { return arrival_; }
    // "address:port" where media goes: the pinned path, else the selected pair's remote end.
    std::optional<std::string> remote_address() const;

  private:
    static void on_candidate(NiceAgent* agent, void* candidate, void* self);
    static void on_state_changed(NiceAgent* agent, unsigned stream, unsigned component,
                                 unsigned state, void* self);
    static void on_selected_pair(NiceAgent* agent, unsigned stream, unsigned component, void* local,
                                 void* remote, void* self);
    static void on_remote_candidate(NiceAgent* agent, void* candidate, void* self);
    // Reports the strangers whose wait is over; true while some still wait.
    bool report_strangers();
    struct Paths;  // libnice-typed path state, kept out of this header
    struct Probe;  // a consent check in flight
    bool watch_sockets();
    void receive_ready(GSocket* socket);
    void take_probe_answers(GSocket* socket);
    // While libnice's component is FAILED, STUN responses never reach it: libnice 0.1.21
    // takes a successful answer to its check then as FAILED → CONNECTED, a transition its own
    // g_assert forbids, which aborts the server (seen when UDP came back after an outage).
    // Requests still reach it (their path leaves FAILED the permitted way, through
    // CONNECTING), and so does an ICE restart.
    void drop_stun_responses(GSocket* socket);
    bool has_consented(const NiceAddress& address) const;
    GSocket* socket_toward(const NiceAddress& address) const;
    void move_path(const NiceAddress& address);
    void probe(const NiceAddress& address);
    void send_probe(Probe& probe);
    bool retry_probes();
    void selected_pair_changed();
    void report_unverified_path();
    void report_path(const std::string& unverified);
    void read_credentials();

    GMainContext* context_;
    LocalNetwork network_;
    Listener& listener_;
    NiceAgent* agent_ = nullptr;
    unsigned stream_ = 0;
    IceState state_ = IceState::idle;
    bool nice_failed_ = false;  // libnice's component is in FAILED
    std::string local_ufrag_;
    std::string local_pwd_;
    std::vector<SdpCandidate> local_candidates_;
    std::size_t remote_candidates_ = 0;
    std::shared_ptr<SocketPoller> poller_;  // the context's: our sockets are on its epoll set
    std::vector<std::uint64_t> socket_watches_;
    bool arrival_stamps_ = false;
    std::chrono::steady_clock::time_point arrival_{};
    GlibTimer unverified_timer_;
    GlibTimer stranger_timer_;
    GlibTimer probe_timer_;
    std::unique_ptr<Paths> paths_;
};

std::string_view to_string(IceState state) noexcept;

}  // namespace rollcall::transport
