#include "transport/WebRtcTransport.hpp"

#include <glib.h>

#include <cstring>

#include "transport/ByteOrder.hpp"
#include "transport/Census.hpp"
#include "transport/MainLoop.hpp"
#include "transport/MediaTally.hpp"
#include "transport/PacketDemux.hpp"

namespace rollcall::transport {

namespace {

void drop(DropReason reason, std::uint64_t& counter) noexcept {
    ++counter;
    media_tally().drop(reason);
}

bool sent(bool ok) noexcept {
    if (!ok) media_tally().drop(DropReason::send_failed);
    return ok;
}

constexpr guint kHandshakeTimeoutMs = 10000;

}  // namespace

WebRtcTransport::WebRtcTransport(GMainContext* context,
                                 std::shared_ptr<const DtlsIdentity> identity, LocalNetwork network,
                                 Listener& listener)
    : context_(context),
      identity_(std::move(identity)),
      listener_(listener),
      ice_(context, std::move(network), *this),
      dtls_(identity_, *this) {
    census().transports.fetch_add(1, std::memory_order_relaxed);
}

WebRtcTransport::~WebRtcTransport() {
    census().transports.fetch_sub(1, std::memory_order_relaxed);
    path_watch_.cancel();
    dtls_timer_.cancel();
    handshake_deadline_.cancel();
    ice_.close();
}

std::string WebRtcTransport::start(const RemoteTransportParameters& remote) {
    if (!ice_.start(/*controlling=*/false))
        return "ICE could not start on the configured addresses";
    return set_remote(remote);
}

std::string WebRtcTransport::prepare_offer() {
    offering_ = true;
    if (!ice_.start(/*controlling=*/true)) return "ICE could not start on the configured addresses";
    return {};
}

std::string WebRtcTransport::set_remote(const RemoteTransportParameters& remote) {
    if (remote_set_) return "the remote parameters are set already";
    if (!dtls_.set_remote_fingerprint(remote.fingerprint))
        return "the DTLS fingerprint is missing or malformed";
    // RFC 8842 §5.3: "actpass" (an offer) lets us choose, and we take the DTLS server side so
    // our SRTP profile preference (GCM first) decides. "active" makes us the server too;
    // "passive" makes us the client. An answer may not say actpass to our offer.
    if (remote.setup == "active" || (remote.setup == "actpass" && !offering_))
        role_ = DtlsRole::server;
    else if (remote.setup == "passive")
        role_ = DtlsRole::client;
    else
        return "a=setup must be actpass (in an offer), active or passive";
    if (remote.ssrcs.empty() && !offering_ && !remote.data) return "no SSRCs were signaled";
    if (remote.ssrcs.empty() && remote.data) dtls_.allow_without_srtp();
    allowed_ssrcs_ = remote.ssrcs;
    if (!ice_.set_remote_credentials(remote.ice_ufrag, remote.ice_pwd))
        return "bad ICE credentials";
    for (const auto& candidate : remote.candidates) ice_.add_remote_candidate(candidate);
    remote_set_ = true;
    handshake_deadline_.start(context_, std::chrono::milliseconds(kHandshakeTimeoutMs), [this] {
        if (connected()) return false;
        if (dtls_.state() == DtlsState::connecting)
            ++media_tally().dtls_failures[static_cast<std::size_t>(DtlsFailure::timeout)];
        fail("ICE and DTLS did not complete within 10 s");
        return false;
    });
    return {};
}

bool WebRtcTransport::add_remote_candidate(const SdpCandidate& candidate) {
    return ice_.add_remote_candidate(candidate);
}

std::string WebRtcTransport::restart_ice(const std::string& ufrag, const std::string& pwd,
                                         const std::vector<SdpCandidate>& candidates) {
    if (std::string error = restart_local_ice(); !error.empty()) return error;
    return set_remote_ice(ufrag, pwd, candidates);
}

std::string WebRtcTransport::restart_local_ice() {
    if (failed_) return "the transport has failed";
    if (!ice_.restart()) return "ICE could not restart";
    ++media_tally().ice_restarts;
    return {};
}

std::string WebRtcTransport::set_remote_ice(const std::string& ufrag, const std::string& pwd,
                                            const std::vector<SdpCandidate>& candidates) {
    if (failed_) return "the transport has failed";
    if (!ice_.set_remote_credentials(ufrag, pwd)) return "bad ICE credentials";
    for (const auto& candidate : candidates) ice_.add_remote_candidate(candidate);
    return {};
}

void WebRtcTransport::close() {
    path_watch_.cancel();
    dtls_timer_.cancel();
    handshake_deadline_.cancel();
    if (sctp_) sctp_->close();  // an ABORT, then close_notify, sent while ICE still can
    dtls_.close();
    ice_.close();
    srtp_.reset();
}

void WebRtcTransport::on_ice_candidate(const SdpCandidate& candidate) {
    listener_.on_transport_candidate(candidate);
}

void WebRtcTransport::on_ice_state(IceState state) {
    if (state == IceState::failed) {
        // ICE gave up on its selected pair. That may be a pair someone holding leaked ICE
        // credentials nominated and then abandoned, while the peer on the media path is fine:
        // then the path's own authenticated traffic stands in for consent (RFC 7675's purpose:
        // the peer there wants our packets), and the transport fails only once that is silent.
        if (connected() && ice_.authenticated_within(std::chrono::milliseconds(kPathAliveMs))) {
            watch_media_path();
            return;
        }
        if (connected()) ++media_tally().consent_failures;
        fail(connected() ? "ICE consent expired" : "ICE connectivity checks failed");
        return;
    }
    if (state == IceState::connected) path_watch_.cancel();
    // DTLS only after ICE has validated the pair: no ClientHello race.
    if (state == IceState::connected && dtls_.state() == DtlsState::idle) {
        dtls_.start(role_);
        schedule_dtls_timer();
    }
}

void WebRtcTransport::on_ice_unverified_path(const std::string& established,
                                             const std::string& unverified) {
    // ICE's consent checks now go to that other address and vouch for nothing we send to.
    watch_media_path();
    listener_.on_transport_unverified_path(established, unverified);
}

void WebRtcTransport::watch_media_path() {
    if (path_watch_.active()) return;
    path_watch_.start(context_, std::chrono::seconds(1), [this] {
        if (ice_.authenticated_within(std::chrono::milliseconds(kConsentTimeoutMs))) return true;
        ++media_tally().consent_failures;
        fail("ICE consent expired and nothing authenticated from the media path for 30 s");
        return false;
    });
}

void WebRtcTransport::on_ice_data(std::span<const std::uint8_t> datagram) {
    switch (PacketDemux::classify(datagram)) {
        case PacketKind::dtls:
            if (dtls_.state() == DtlsState::idle) {
                drop(DropReason::before_dtls,
                     counters_.dropped_before_dtls);  // ICE not validated yet: the peer retransmits
                return;
            }
            dtls_.receive(datagram);
            schedule_dtls_timer();
            return;
        case PacketKind::rtp:
            receive_rtp(datagram);
            return;
        case PacketKind::rtcp:
            receive_rtcp(datagram);
            return;
        default:
            drop(DropReason::malformed, counters_.dropped_malformed);
            return;
    }
}

std::optional<std::size_t> WebRtcTransport::unprotect(std::span<const std::uint8_t> datagram,
                                                      bool rtcp) {
    if (!srtp_) {
        drop(DropReason::before_dtls,
             counters_.dropped_before_dtls);  // plain RTP/RTCP is never forwarded
        return std::nullopt;
    }
    if (datagram.size() > kMaxPacket + SrtpSession::kMaxTrailer) {
        drop(DropReason::malformed, counters_.dropped_malformed);
        return std::nullopt;
    }
    // The SSRC is in the clear: refuse unnegotiated ones before libsrtp keeps state for
    // them. SRTCP may also come from a few SSRCs that only report (a receiver's own).
    if (datagram.size() < (rtcp ? 8u : 12u)) {
        drop(DropReason::malformed, counters_.dropped_malformed);
        return std::nullopt;
    }
    const std::uint32_t ssrc = load_u32(datagram.data() + (rtcp ? 4 : 8));
    const bool known = allowed_ssrcs_.contains(ssrc) || (rtcp && rtcp_only_ssrcs_.contains(ssrc));
    const bool may_learn =
        rtcp ? rtcp_only_ssrcs_.size() < kMaxReceiverOnlySsrcs : learnable_ssrcs_ > 0;
    if (!known && !may_learn) {
        drop(DropReason::unknown_ssrc, counters_.dropped_unknown_ssrc);
        return std::nullopt;
    }
    std::memcpy(receive_buffer_.data(), datagram.data(), datagram.size());
    std::size_t size = datagram.size();
    const SrtpResult result = rtcp ? srtp_->unprotect_rtcp(receive_buffer_.data(), size)
                                   : srtp_->unprotect_rtp(receive_buffer_.data(), size);
    switch (result) {
        case SrtpResult::ok:
            if (!known && rtcp) rtcp_only_ssrcs_.insert(ssrc);
            ice_.authenticated();  // its source is the media path now
            return size;
        case SrtpResult::replayed:
            drop(DropReason::srtp_replay, counters_.dropped_replay);
            return std::nullopt;
        case SrtpResult::auth_failed:
            drop(DropReason::srtp_auth, counters_.dropped_auth);
            return std::nullopt;
        default:
            drop(DropReason::malformed, counters_.dropped_malformed);
            return std::nullopt;
    }
}

void WebRtcTransport::receive_rtp(std::span<const std::uint8_t> datagram) {
    auto size = unprotect(datagram, /*rtcp=*/false);
    if (!size) return;
    auto packet = RtpPacket::parse(std::span<std::uint8_t>(receive_buffer_.data(), *size));
    if (!packet) {
        drop(DropReason::malformed, counters_.dropped_malformed);
        return;
    }
    if (!allowed_ssrcs_.contains(packet->ssrc())) {
        // Authenticated, on an SSRC the description left to be learned: the listener says
        // whether it is one of its streams; if not, libsrtp forgets the stream it made.
        if (!listener_.on_rtp_new_ssrc(*packet)) {
            srtp_->forget_inbound(packet->ssrc());
            drop(DropReason::unknown_ssrc, counters_.dropped_unknown_ssrc);
            return;
        }
        allowed_ssrcs_.insert(packet->ssrc());
        --learnable_ssrcs_;
    }
    ++counters_.rtp_received;
    listener_.on_rtp(*packet);
}

void WebRtcTransport::receive_rtcp(std::span<const std::uint8_t> datagram) {
    auto size = unprotect(datagram, /*rtcp=*/true);
    if (!size) return;
    ++counters_.rtcp_received;
    ++media_tally().rtcp_packets_in;
    listener_.on_rtcp(std::span<const std::uint8_t>(receive_buffer_.data(), *size));
}

void WebRtcTransport::set_allowed_ssrcs(std::set<std::uint32_t> ssrcs, std::size_t learnable) {
    learnable_ssrcs_ = learnable;
    if (srtp_) {
        for (std::uint32_t gone : allowed_ssrcs_)
            if (!ssrcs.contains(gone)) srtp_->forget_inbound(gone);
    }
    allowed_ssrcs_ = std::move(ssrcs);
}

bool WebRtcTransport::send_rtp(std::span<const std::uint8_t> packet) {
    if (!srtp_ || packet.size() > kMaxPacket || packet.size() < 12) return false;
    SendBuffer& buffer = send_buffer();
    std::memcpy(buffer.data(), packet.data(), packet.size());
    std::size_t size = packet.size();
    if (srtp_->protect_rtp(buffer.data(), size, buffer.size()) != SrtpResult::ok) return false;
    ++counters_.rtp_sent;
    return sent(ice_.send(std::span<const std::uint8_t>(buffer.data(), size)));
}

bool WebRtcTransport::send_rtp(std::span<const std::uint8_t> packet, std::uint8_t id,
                               std::uint16_t sequence) {
    constexpr std::size_t kAdded = 8;  // 0xBEDE, one word: [id|len] seq seq pad
    if (packet.size() < 12 || (packet[0] & 0x10) != 0 || id == 0 || id > 14)
        return send_rtp(packet);
    const std::size_t header = 12 + 4 * std::size_t{packet[0] & 0x0fu};
    if (!srtp_ || packet.size() < header || packet.size() + kAdded > kMaxPacket) return false;
    SendBuffer& buffer = send_buffer();
    std::uint8_t* out = buffer.data();
    std::memcpy(out, packet.data(), header);
    out[0] = static_cast<std::uint8_t>(out[0] | 0x10);
    const std::uint8_t extension[kAdded] = {0xBE,
                                            0xDE,
                                            0x00,
                                            0x01,
                                            static_cast<std::uint8_t>((id << 4) | 1),
                                            static_cast<std::uint8_t>(sequence >> 8),
                                            static_cast<std::uint8_t>(sequence),
                                            0x00};
    std::memcpy(out + header, extension, kAdded);
    std::memcpy(out + header + kAdded, packet.data() + header, packet.size() - header);
    std::size_t size = packet.size() + kAdded;
    if (srtp_->protect_rtp(out, size, buffer.size()) != SrtpResult::ok) return false;
    ++counters_.rtp_sent;
    return sent(ice_.send(std::span<const std::uint8_t>(out, size)));
}

bool WebRtcTransport::send_rtcp(std::span<const std::uint8_t> packet) {
    if (!srtp_ || packet.size() > kMaxPacket || packet.size() < 8) return false;
    SendBuffer& buffer = send_buffer();
    std::memcpy(buffer.data(), packet.data(), packet.size());
    std::size_t size = packet.size();
    if (srtp_->protect_rtcp(buffer.data(), size, buffer.size()) != SrtpResult::ok) return false;
    ++counters_.rtcp_sent;
    ++media_tally().rtcp_packets_out;
    return sent(ice_.send(std::span<const std::uint8_t>(buffer.data(), size)));
}

void WebRtcTransport::on_dtls_send(std::span<const std::uint8_t> datagram) {
    ice_.send(datagram);
}

void WebRtcTransport::on_dtls_connected(const DtlsKeys& keys) {
    dtls_timer_.cancel();
    handshake_deadline_.cancel();
    if (keys.srtp)
        srtp_ = SrtpSession::create(keys.profile, keys.local_key_salt, keys.remote_key_salt);
    data_only_connected_ = !keys.srtp;
    if (!srtp_ && keys.srtp) {
        fail("cannot create the SRTP session");
        return;
    }
    ice_.authenticated();  // the handshake's last flight came from the peer's media path
    ++media_tally().dtls_handshakes;
    listener_.on_transport_connected();
    if (sctp_) sctp_->connect();
}

void WebRtcTransport::enable_data(const SctpOptions& options, SctpAssociation::Listener& listener) {
    if (sctp_) return;
    data_listener_ = &listener;
    SctpAssociation::Listener& self = *this;
    sctp_ = std::make_unique<SctpAssociation>(context_, self, options, role_ == DtlsRole::client);
    if (connected()) sctp_->connect();
}

void WebRtcTransport::on_dtls_data(std::span<const std::uint8_t> data) {
    if (sctp_) sctp_->receive(data);
}

void WebRtcTransport::on_sctp_packet(std::span<const std::uint8_t> packet) {
    (void)sent(dtls_.send(packet));
}

void WebRtcTransport::on_dtls_failed(std::string_view reason) {
    DtlsFailure cause = DtlsFailure::protocol;
    if (!dtls_.presented_fingerprint().empty() && dtls_.peer_fingerprint().empty())
        cause = DtlsFailure::fingerprint_mismatch;
    else if (reason.find("retransmission limit") != std::string_view::npos)
        cause = DtlsFailure::timeout;
    ++media_tally().dtls_failures[static_cast<std::size_t>(cause)];
    fail(std::string("DTLS: ") + std::string(reason));
}

void WebRtcTransport::on_dtls_closed() {
    srtp_.reset();
    fail("the peer closed DTLS");
}

std::optional<SrtpProfile> WebRtcTransport::srtp_profile() const {
    if (!srtp_) return std::nullopt;
    return srtp_->profile();
}

void WebRtcTransport::schedule_dtls_timer() {
    dtls_timer_.cancel();
    auto timeout = dtls_.next_timeout();
    if (!timeout) return;
    dtls_timer_.start(context_, std::max(*timeout, std::chrono::milliseconds(1)), [this] {
        dtls_.on_timeout();
        schedule_dtls_timer();  // replaces this one
        return false;
    });
}

void WebRtcTransport::fail(std::string_view reason) {
    if (failed_) return;
    failed_ = true;
    srtp_.reset();
    listener_.on_transport_failed(reason);
}

}  // namespace rollcall::transport
