#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "transport/Sdp.hpp"

using GMainContext = struct _GMainContext;
using NiceAgent = struct _NiceAgent;

namespace rollcall::transport {

enum class IceState : std::uint8_t { idle, checking, connected, failed, closed };

// Full ICE (RFC 8445) for one bundled, rtcp-muxed component, on libnice. Lives on one
// worker's GMainContext and is only touched from that thread. Gathers host candidates on
// the configured addresses only, keeps consent freshness on (RFC 7675), and trickles.
class IceAgent {
public:
    class Listener {
    public:
        virtual ~Listener() = default;
        virtual void on_ice_candidate(const SdpCandidate& candidate) = 0;
        virtual void on_ice_state(IceState state) = 0;
        virtual void on_ice_data(std::span<const std::uint8_t> datagram) = 0;
    };

    IceAgent(GMainContext* context, std::vector<std::string> local_addresses, Listener& listener);
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
    // New local credentials and fresh checks (RFC 8445 §9).
    bool restart();
    void close();

    IceState state() const noexcept { return state_; }
    // "address:port" of the selected pair's remote end, once connected.
    std::optional<std::string> selected_remote() const;

private:
    static void on_candidate(NiceAgent* agent, void* candidate, void* self);
    static void on_state_changed(NiceAgent* agent, unsigned stream, unsigned component, unsigned state, void* self);
    static void on_receive(NiceAgent* agent, unsigned stream, unsigned component, unsigned length, char* data, void* self);
    void read_credentials();

    GMainContext* context_;
    std::vector<std::string> local_addresses_;
    Listener& listener_;
    NiceAgent* agent_ = nullptr;
    unsigned stream_ = 0;
    IceState state_ = IceState::idle;
    std::string local_ufrag_;
    std::string local_pwd_;
    std::vector<SdpCandidate> local_candidates_;
    std::size_t remote_candidates_ = 0;
};

std::string_view to_string(IceState state) noexcept;

}  // namespace rollcall::transport
