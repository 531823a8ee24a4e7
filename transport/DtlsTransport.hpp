#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "transport/Sdp.hpp"
#include "transport/SrtpSession.hpp"

using SSL = struct ssl_st;
using SSL_CTX = struct ssl_ctx_st;
using BIO = struct bio_st;
struct x509_st;
struct x509_store_ctx_st;

namespace rollcall::transport {

// The server's DTLS identity: an ECDSA P-256 certificate, its sha-256 fingerprint for the
// SDP, and the SSL_CTX every transport is made from (DTLS 1.2 only, use_srtp with
// AEAD_AES_128_GCM before AES_CM_128_HMAC_SHA1_80). One per process.
class DtlsIdentity {
  public:
    static std::shared_ptr<const DtlsIdentity> generate();
    ~DtlsIdentity();
    DtlsIdentity(const DtlsIdentity&) = delete;
    DtlsIdentity& operator=(const DtlsIdentity&) = delete;

    const SdpFingerprint& fingerprint() const noexcept { return fingerprint_; }
    SSL_CTX* context() const noexcept { return context_; }

  private:
    DtlsIdentity() = default;
    SSL_CTX* context_ = nullptr;
    SdpFingerprint fingerprint_;
};

enum class DtlsRole : std::uint8_t { client, server };
enum class DtlsState : std::uint8_t { idle, connecting, connected, failed, closed };

struct DtlsKeys {
    bool srtp = true;  // false: a data-only connection negotiated no SRTP profile
    SrtpProfile profile = SrtpProfile::aead_aes_128_gcm;
    std::vector<std::uint8_t> local_key_salt;
    std::vector<std::uint8_t> remote_key_salt;
};

// One DTLS association over memory BIOs: datagrams in through receive(), out through the
// listener. The peer's certificate must match the fingerprint its participant signaled;
// anything else fails the handshake with a bad_certificate alert (fail closed).
class DtlsTransport {
  public:
    class Listener {
      public:
        virtual ~Listener() = default;
        virtual void on_dtls_send(std::span<const std::uint8_t> datagram) = 0;
        virtual void on_dtls_connected(const DtlsKeys& keys) = 0;
        virtual void on_dtls_failed(std::string_view reason) = 0;
        virtual void on_dtls_closed() = 0;
        // Application data (an SCTP packet) the peer sent after the handshake.
        virtual void on_dtls_data(std::span<const std::uint8_t> /*data*/) {}
    };

    DtlsTransport(std::shared_ptr<const DtlsIdentity> identity, Listener& listener);
    ~DtlsTransport();
    DtlsTransport(const DtlsTransport&) = delete;
    DtlsTransport& operator=(const DtlsTransport&) = delete;

    // The fingerprint the peer signaled. False (and nothing set) for an unsupported algorithm
    // or a malformed value; start() refuses to run without one.
    bool set_remote_fingerprint(const SdpFingerprint& fingerprint);
    void start(DtlsRole role);
    // A data-only connection: the handshake may complete without use_srtp (no keys then).
    void allow_without_srtp() noexcept { srtp_optional_ = true; }
    // A datagram from the peer. After the handshake every record in it is read at once
    // (application data goes to the listener), so nothing piles up; a
    // datagram that is not a well-formed run of at most kMaxRecordsPerDatagram records is
    // dropped before OpenSSL sees it.
    void receive(std::span<const std::uint8_t> datagram);
    // Application data to the peer (one record), once connected; false otherwise.
    bool send(std::span<const std::uint8_t> data);
    // Bytes the peer sent that are not processed yet (OpenSSL's input buffer): stays 0
    // between datagrams once connected.
    std::size_t buffered() const;
    std::uint64_t datagrams_dropped() const noexcept { return datagrams_dropped_; }

    static constexpr std::size_t kMaxRecordsPerDatagram = 32;
    // Time until OpenSSL wants on_timeout() for a retransmission, while handshaking.
    std::optional<std::chrono::milliseconds> next_timeout() const;
    void on_timeout();
    // Sends close_notify.
    void close();

    DtlsState state() const noexcept { return state_; }
    // Negotiated details, once connected ("DTLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256").
    std::string protocol_version() const;
    std::string cipher() const;
    // The fingerprint of the peer's verified certificate, in the signaled algorithm, once
    // connected; empty before.
    const std::string& peer_fingerprint() const noexcept { return peer_fingerprint_; }
    // The fingerprint of whatever certificate the peer presented, matching or not (the
    // evidence when the handshake is refused); empty if none was presented.
    const std::string& presented_fingerprint() const noexcept { return presented_fingerprint_; }
    const SdpFingerprint& expected_fingerprint() const noexcept { return expected_; }

    // OpenSSL's certificate check: accepts exactly the signaled fingerprint.
    static int verify_callback(int preverify_ok, ::x509_store_ctx_st* store);

  private:
    void advance_handshake();
    void read_records();
    void flush();
    void fail(std::string reason);
    bool export_keys();

    std::shared_ptr<const DtlsIdentity> identity_;
    Listener& listener_;
    SSL* ssl_ = nullptr;
    BIO* incoming_ = nullptr;  // owned by ssl_
    BIO* outgoing_ = nullptr;  // owned by ssl_
    DtlsRole role_ = DtlsRole::server;
    DtlsState state_ = DtlsState::idle;
    SdpFingerprint expected_;
    std::string peer_fingerprint_;
    std::string presented_fingerprint_;
    std::uint64_t datagrams_dropped_ = 0;
    bool srtp_optional_ = false;
};

// The number of DTLS records in `datagram` (RFC 6347 §4.1: 13-byte header, 16-bit length),
// or nullopt when it is not a whole number of well-formed records.
std::optional<std::size_t> dtls_record_count(std::span<const std::uint8_t> datagram) noexcept;

// "AB:CD:..." of a DER certificate's digest with `algorithm` ("sha-256"), or "" if unknown.
std::string certificate_fingerprint(::x509_st* certificate, std::string_view algorithm);

}  // namespace rollcall::transport
