#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "transport/DtlsTransport.hpp"
#include "transport/IceAgent.hpp"
#include "transport/MainLoop.hpp"
#include "transport/RtpPacket.hpp"
#include "transport/SctpAssociation.hpp"
#include "transport/Sdp.hpp"
#include "transport/SrtpSession.hpp"

namespace rollcall::transport {

// What the peer signaled for its end of the transport.
struct RemoteTransportParameters {
    std::string ice_ufrag;
    std::string ice_pwd;
    SdpFingerprint fingerprint;
    std::string setup;  // the peer's a=setup: actpass, active or passive
    std::vector<SdpCandidate> candidates;
    std::set<std::uint32_t> ssrcs;  // the only SSRCs whose SRTP is accepted
    // The description has a data-channel section: with no SSRCs it is a data-only
    // connection, and DTLS may complete without use_srtp (browsers leave it out then).
    bool data = false;
};

struct TransportCounters {
    std::uint64_t rtp_received = 0;
    std::uint64_t rtcp_received = 0;
    std::uint64_t rtp_sent = 0;
    std::uint64_t rtcp_sent = 0;
    std::uint64_t dropped_before_dtls = 0;
    std::uint64_t dropped_unknown_ssrc = 0;
    std::uint64_t dropped_auth = 0;
    std::uint64_t dropped_replay = 0;
    std::uint64_t dropped_malformed = 0;
};

// One peer's WebRTC transport: ICE (libnice), then DTLS bound to the signaled fingerprint,
// then SRTP. Datagrams are sorted once at the entry (RFC 7983); media is accepted only
// after DTLS completes and only for negotiated SSRCs. Single-threaded: the worker's.
class WebRtcTransport final : IceAgent::Listener,
                              DtlsTransport::Listener,
                              SctpAssociation::Listener {
  public:
    static constexpr std::size_t kMaxPacket = 1500;
    // When ICE fails on its selected pair, the media path counts as alive if it authenticated
    // within kPathAliveMs, and the transport fails once it has been silent kConsentTimeoutMs.
    static constexpr unsigned kPathAliveMs = 10000;
    static constexpr unsigned kConsentTimeoutMs = 30000;  // RFC 7675 §5.1

    class Listener {
      public:
        virtual ~Listener() = default;
        virtual void on_transport_candidate(const SdpCandidate& candidate) = 0;
        virtual void on_transport_connected() = 0;
        virtual void on_transport_failed(std::string_view reason) = 0;
        // Decrypted media; the packet may be rewritten in place.
        virtual void on_rtp(RtpPacket& packet) = 0;
        virtual void on_rtcp(std::span<const std::uint8_t> compound) = 0;
        // A packet that authenticated on an SSRC the description did not name, while some
        // may still be learned (set_allowed_ssrcs): true takes the SSRC on (a simulcast
        // layer the rid extension names) and on_rtp follows; false drops it.
        virtual bool on_rtp_new_ssrc(const RtpPacket& /*packet*/) { return false; }
        // ICE moved to `unverified` but nothing authenticated from there: media stays on
        // `established` (see IceAgent). Evidence for roll call; nothing to do by default.
        virtual void on_transport_unverified_path(const std::string& /*established*/,
                                                  const std::string& /*unverified*/) {}
        // Someone else sent checks with this transport's ICE credentials (see IceAgent).
        virtual void on_transport_credential_reuse(const std::string& /*established*/,
                                                   const std::string& /*other*/) {}
    };

    WebRtcTransport(GMainContext* context, std::shared_ptr<const DtlsIdentity> identity,
                    LocalNetwork network, Listener& listener);
    ~WebRtcTransport() override;
    WebRtcTransport(const WebRtcTransport&) = delete;
    WebRtcTransport& operator=(const WebRtcTransport&) = delete;

    // Answerer: the peer offered. Starts ICE (controlled) and applies its parameters.
    // Returns an error or "".
    std::string start(const RemoteTransportParameters& remote);
    // Offerer, in two steps: gather (controlling) so an offer can be written with
    // local_ufrag() etc. and a=setup:actpass, then apply the peer's answer.
    std::string prepare_offer();
    std::string set_remote(const RemoteTransportParameters& remote);
    bool add_remote_candidate(const SdpCandidate& candidate);
    // A renegotiation changed the peer's tracks: only these SSRCs are accepted from now on.
    // The SRTP state of SSRCs no longer accepted is dropped.
    // `learnable`: how many more SSRCs may be learned from authenticated packets (streams
    // the description names by rid only); each must be claimed by on_rtp_new_ssrc.
    void set_allowed_ssrcs(std::set<std::uint32_t> ssrcs, std::size_t learnable = 0);
    // We no longer send on `ssrc` (a consumer ended): its SRTP state is dropped. SSRCs are
    // never reused on a connection, so no SRTP index is ever repeated.
    void stop_sending(std::uint32_t ssrc) noexcept {
        if (srtp_) srtp_->forget_outbound(ssrc);
    }
    // ICE restart (RFC 8445 §9): new local credentials, the peer's new ones, fresh checks.
    // DTLS and SRTP carry on over whatever pair the new checks select.
    std::string restart_ice(const std::string& ufrag, const std::string& pwd,
                            const std::vector<SdpCandidate>& candidates);
    // The two halves, for a restart the server offers: new local credentials now (for the
    // offer), the peer's when its answer comes.
    std::string restart_local_ice();
    std::string set_remote_ice(const std::string& ufrag, const std::string& pwd,
                               const std::vector<SdpCandidate>& candidates);
    void close();

    const std::string& local_ufrag() const { return ice_.local_ufrag(); }
    const std::string& local_pwd() const { return ice_.local_pwd(); }
    const std::vector<SdpCandidate>& local_candidates() const { return ice_.local_candidates(); }
    const SdpFingerprint& local_fingerprint() const { return identity_->fingerprint(); }
    // Our a=setup: actpass in an offer; in an answer passive (DTLS server, so our SRTP
    // preference wins) unless the peer insists on being passive itself.
    const char* local_setup() const {
        if (offering_ && !remote_set_) return "actpass";
        return role_ == DtlsRole::server ? "passive" : "active";
    }

    // Data channels (the description had a data section): an SCTP association over the
    // DTLS transport, connecting once DTLS is up; its channels report to `listener`. Once.
    void enable_data(const SctpOptions& options, SctpAssociation::Listener& listener);
    // Ends the association (an ABORT) and forgets it; a later enable_data starts a new one.
    // Not from inside the association's own callbacks.
    void close_data() {
        if (!sctp_) return;
        sctp_->close();
        sctp_.reset();
    }
    SctpAssociation* data() noexcept { return sctp_.get(); }
    const SctpAssociation* data() const noexcept { return sctp_.get(); }

    bool send_rtp(std::span<const std::uint8_t> packet);
    // The same with a transport-wide sequence number (one-byte extension `id`) added to a
    // packet that has no header extension yet (one that has goes as it is).
    bool send_rtp(std::span<const std::uint8_t> packet, std::uint8_t id, std::uint16_t sequence);
    bool send_rtcp(std::span<const std::uint8_t> packet);
    GMainContext* context() const noexcept { return context_; }

    // DTLS is up and, unless the connection carries only data, SRTP is keyed.
    bool connected() const noexcept { return srtp_ != nullptr || data_only_connected_; }
    const DtlsTransport& dtls() const noexcept { return dtls_; }
    std::optional<SrtpProfile> srtp_profile() const;
    // For a fan-out's look-ahead (sfu::ConsumerDownstream): the lines of this object
    // send_rtp reads, and (once those are in) the SRTP session's and the media path's.
    std::array<const void*, 4> send_lines() const noexcept {
        const auto ice = ice_.send_lines();
        return {ice[0], ice[1], &srtp_, &counters_};
    }
    void prefetch_send() const noexcept {
        __builtin_prefetch(srtp_.get());
        ice_.prefetch_send();
    }
    const TransportCounters& counters() const noexcept { return counters_; }
    // The SSRCs whose SRTP or SRTCP state this transport may hold: what was signaled, plus
    // up to kMaxReceiverOnlySsrcs that only send RTCP.
    std::size_t srtp_ssrc_count() const noexcept {
        return allowed_ssrcs_.size() + rtcp_only_ssrcs_.size();
    }
    static constexpr std::size_t kMaxReceiverOnlySsrcs = 4;
    // Where media goes: the authenticated path (IceAgent pins it).
    std::optional<std::string> remote_address() const { return ice_.remote_address(); }
    // Kernel receive times for what arrives (IceAgent::set_arrival_stamps); arrival() is the
    // packet being delivered's, valid inside Listener::on_rtp / on_rtp_new_ssrc.
    void set_arrival_stamps(bool on) noexcept { ice_.set_arrival_stamps(on); }
    std::chrono::steady_clock::time_point arrival() const noexcept { return ice_.arrival(); }

  private:
    // IceAgent::Listener
    void on_ice_candidate(const SdpCandidate& candidate) override;
    void on_ice_state(IceState state) override;
    void on_ice_data(std::span<const std::uint8_t> datagram) override;
    void on_ice_unverified_path(const std::string& established,
                                const std::string& unverified) override;
    void on_ice_credential_reuse(const std::string& established,
                                 const std::string& other) override {
        listener_.on_transport_credential_reuse(established, other);
    }
    // DtlsTransport::Listener
    void on_dtls_send(std::span<const std::uint8_t> datagram) override;
    void on_dtls_connected(const DtlsKeys& keys) override;
    void on_dtls_failed(std::string_view reason) override;
    void on_dtls_closed() override;
    void on_dtls_data(std::span<const std::uint8_t> data) override;
    // SctpAssociation::Listener: packets go out over DTLS; the rest to data_listener_.
    void on_sctp_packet(std::span<const std::uint8_t> packet) override;
    void on_sctp_state(SctpState state) override { data_listener_->on_sctp_state(state); }
    void on_channel_open(const DataChannel& channel) override {
        data_listener_->on_channel_open(channel);
    }
    void on_channel_message(const DataChannel& channel, bool binary,
                            std::span<const std::uint8_t> message) override {
        data_listener_->on_channel_message(channel, binary, message);
    }
    void on_channel_closed(std::uint16_t stream) override {
        data_listener_->on_channel_closed(stream);
    }
    void on_message_refused(std::uint16_t stream, std::size_t size, std::string_view why) override {
        data_listener_->on_message_refused(stream, size, why);
    }

    // Decrypts into receive_buffer_, counting every drop; the plain size, or nullopt.
    std::optional<std::size_t> unprotect(std::span<const std::uint8_t> datagram, bool rtcp);
    void receive_rtp(std::span<const std::uint8_t> datagram);
    void receive_rtcp(std::span<const std::uint8_t> datagram);
    void schedule_dtls_timer();
    void watch_media_path();
    void fail(std::string_view reason);

    GMainContext* context_;
    std::shared_ptr<const DtlsIdentity> identity_;
    Listener& listener_;
    IceAgent ice_;
    DtlsTransport dtls_;
    std::unique_ptr<SrtpSession> srtp_;
    std::unique_ptr<SctpAssociation> sctp_;
    SctpAssociation::Listener* data_listener_ = nullptr;
    DtlsRole role_ = DtlsRole::server;
    std::set<std::uint32_t> allowed_ssrcs_;
    // Sender SSRCs of SRTCP beyond the signaled ones (a receiver's own reports), first come,
    // at most kMaxReceiverOnlySsrcs: libsrtp keeps a stream for each.
    std::set<std::uint32_t> rtcp_only_ssrcs_;
    std::size_t learnable_ssrcs_ = 0;
    TransportCounters counters_;
    GlibTimer dtls_timer_;
    GlibTimer path_watch_;  // ICE failed but the media path is alive: watching it
    GlibTimer handshake_deadline_;
    bool failed_ = false;
    bool offering_ = false;
    bool remote_set_ = false;
    bool data_only_connected_ = false;
    std::array<std::uint8_t, kMaxPacket + SrtpSession::kMaxTrailer + 16> receive_buffer_{};
    // Where a packet is protected on its way out: the thread's, not the transport's, so a
    // packet fanned out to many transports is written into one buffer kept in cache (and each
    // transport is 1.6 KB smaller). Used only within one send call.
    using SendBuffer = std::array<std::uint8_t, kMaxPacket + SrtpSession::kMaxTrailer + 16>;
    static SendBuffer& send_buffer() noexcept {
        thread_local SendBuffer buffer{};
        return buffer;
    }
};

}  // namespace rollcall::transport
