#include "transport/DtlsTransport.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <stdexcept>

#include "transport/MediaTally.hpp"

namespace rollcall::transport {

namespace {

constexpr int kMtu = 1200;
constexpr const char* kSrtpProfiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";
constexpr const char* kCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA";

int ex_data_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

const EVP_MD* digest_for(std::string_view algorithm) {
    if (algorithm == "sha-256") return EVP_sha256();
    if (algorithm == "sha-384") return EVP_sha384();
    if (algorithm == "sha-512") return EVP_sha512();
    return nullptr;  // sha-1 and others are refused
}

// DTLS cookies are not needed: ICE has already proven the peer's address before DTLS runs.
}  // namespace

std::string certificate_fingerprint(X509* certificate, std::string_view algorithm) {
    const EVP_MD* md = digest_for(algorithm);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!md || !certificate || X509_digest(certificate, md, digest, &length) != 1) return {};
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(length * 3);
    for (unsigned int i = 0; i < length; ++i) {
        if (i) out.push_back(':');
        out.push_back(kHex[digest[i] >> 4]);
        out.push_back(kHex[digest[i] & 15]);
    }
    return out;
}

std::shared_ptr<const DtlsIdentity> DtlsIdentity::generate() {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
    if (!key || !cert) throw std::runtime_error("cannot create the DTLS key");
    X509_set_version(cert.get(), 2);
    std::uint64_t serial = 0;
    RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof(serial));
    ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), serial >> 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -86400);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30L * 86400);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("rollcall"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0)
        throw std::runtime_error("cannot sign the DTLS certificate");

    std::shared_ptr<DtlsIdentity> identity(new DtlsIdentity());
    SSL_CTX* ctx = SSL_CTX_new(DTLS_method());
    if (!ctx) throw std::runtime_error("cannot create the DTLS context");
    identity->context_ = ctx;
    SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
    if (SSL_CTX_use_certificate(ctx, cert.get()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1 ||
        SSL_CTX_set_cipher_list(ctx, kCiphers) != 1 ||
        SSL_CTX_set_tlsext_use_srtp(ctx, kSrtpProfiles) != 0) {  // 0 is success here
        throw std::runtime_error("cannot configure the DTLS context");
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_max_cert_list(ctx, 16 * 1024);  // bounds the peer's certificate chain
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       &DtlsTransport::verify_callback);
    identity->fingerprint_ = {"sha-256", certificate_fingerprint(cert.get(), "sha-256")};
    return identity;
}

DtlsIdentity::~DtlsIdentity() {
    if (context_) SSL_CTX_free(context_);
}

DtlsTransport::DtlsTransport(std::shared_ptr<const DtlsIdentity> identity, Listener& listener)
    : identity_(std::move(identity)), listener_(listener) {}

DtlsTransport::~DtlsTransport() {
    if (ssl_) SSL_free(ssl_);
}

bool DtlsTransport::set_remote_fingerprint(const SdpFingerprint& fingerprint) {
    const EVP_MD* md = digest_for(fingerprint.algorithm);
    if (!md || fingerprint.value.size() != static_cast<std::size_t>(EVP_MD_get_size(md)) * 3 - 1)
        return false;
    expected_ = fingerprint;
    return true;
}

int DtlsTransport::verify_callback(int, X509_STORE_CTX* store) {
    // Certificates in WebRTC are self-signed: trust comes from the signaled fingerprint.
    SSL* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* self = ssl ? static_cast<DtlsTransport*>(SSL_get_ex_data(ssl, ex_data_index())) : nullptr;
    if (!self) return 0;
    if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;  // only the leaf is bound
    X509* leaf = X509_STORE_CTX_get_current_cert(store);
    const std::string actual = certificate_fingerprint(leaf, self->expected_.algorithm);
    self->presented_fingerprint_ = actual;  // evidence, whether it matches or not
    if (actual.empty() || actual != self->expected_.value) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);  // alert bad_certificate
        return 0;
    }
    self->peer_fingerprint_ = actual;
    return 1;
}

void DtlsTransport::start(DtlsRole role) {
    if (state_ != DtlsState::idle) return;
    if (expected_.value.empty()) {
        fail("no remote fingerprint was signaled");
        return;
    }
    role_ = role;
    ssl_ = SSL_new(identity_->context());
    incoming_ = BIO_new(BIO_s_mem());
    outgoing_ = BIO_new(BIO_s_mem());
    if (!ssl_ || !incoming_ || !outgoing_) {
        fail("cannot allocate the DTLS session");
        return;
    }
    BIO_set_mem_eof_return(incoming_, -1);
    BIO_set_mem_eof_return(outgoing_, -1);
    SSL_set_bio(ssl_, incoming_, outgoing_);
    SSL_set_ex_data(ssl_, ex_data_index(), this);
    SSL_set_mtu(ssl_, kMtu);
    DTLS_set_link_mtu(ssl_, kMtu);
    if (role == DtlsRole::client)
        SSL_set_connect_state(ssl_);
    else
        SSL_set_accept_state(ssl_);
    state_ = DtlsState::connecting;
    advance_handshake();
}

std::optional<std::size_t> dtls_record_count(std::span<const std::uint8_t> datagram) noexcept {
    constexpr std::size_t kHeader = 13;
    std::size_t count = 0;
    std::size_t at = 0;
    while (at < datagram.size()) {
        if (datagram.size() - at < kHeader) return std::nullopt;
        const std::uint8_t type = datagram[at];
        if (type < 20 || type > 25 || datagram[at + 1] != 0xfe) return std::nullopt;
        const std::size_t length = (std::size_t{datagram[at + 11]} << 8) | datagram[at + 12];
        if (datagram.size() - at - kHeader < length) return std::nullopt;
        at += kHeader + length;
        ++count;
    }
    return count;
}

void DtlsTransport::receive(std::span<const std::uint8_t> datagram) {
    if (!ssl_ || (state_ != DtlsState::connecting && state_ != DtlsState::connected)) return;
    if (datagram.empty() || datagram.size() > 16384) return;
    if (state_ == DtlsState::connecting) {
        BIO_write(incoming_, datagram.data(), static_cast<int>(datagram.size()));
        advance_handshake();
        return;
    }
    // After the handshake: SCTP packets of data channels, and alerts (close_notify); media
    // does not ride in DTLS. Records are checked before OpenSSL parses them, all read now.
    const auto records = dtls_record_count(datagram);
    if (!records || *records == 0 || *records > kMaxRecordsPerDatagram) {
        ++datagrams_dropped_;
        media_tally().drop(DropReason::dtls_records);
        return;
    }
    BIO_write(incoming_, datagram.data(), static_cast<int>(datagram.size()));
    read_records();
}

void DtlsTransport::read_records() {
    unsigned char data[16384];
    for (std::size_t i = 0; i <= kMaxRecordsPerDatagram; ++i) {
        const int read = SSL_read(ssl_, data, sizeof(data));
        if (read > 0) {
            listener_.on_dtls_data({data, static_cast<std::size_t>(read)});
            if (state_ != DtlsState::connected) return;  // the listener closed or failed it
            continue;
        }
        const int error = SSL_get_error(ssl_, read);
        if (error == SSL_ERROR_ZERO_RETURN || (SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN)) {
            state_ = DtlsState::closed;
            flush();
            listener_.on_dtls_closed();
            return;
        }
        if (error != SSL_ERROR_WANT_READ) {
            fail("DTLS error after the handshake");
            return;
        }
        break;
    }
    // Whatever OpenSSL did not take (a record it could not read) does not wait for the next one.
    if (BIO_ctrl_pending(incoming_) > 0) (void)BIO_reset(incoming_);
    flush();
}

bool DtlsTransport::send(std::span<const std::uint8_t> data) {
    if (!ssl_ || state_ != DtlsState::connected || data.empty() || data.size() > 16384)
        return false;
    const int written = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
    flush();
    return written == static_cast<int>(data.size());
}

std::size_t DtlsTransport::buffered() const {
    if (!ssl_) return 0;
    return BIO_ctrl_pending(incoming_) + static_cast<std::size_t>(SSL_pending(ssl_));
}

void DtlsTransport::advance_handshake() {
    const int result = SSL_do_handshake(ssl_);
    flush();
    if (result == 1) {
        if (peer_fingerprint_.empty()) {
            // Defense in depth: the callback must have seen and matched a certificate.
            fail("the peer presented no certificate");
            return;
        }
        if (!export_keys()) return;
        return;
    }
    const int error = SSL_get_error(ssl_, result);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
    const unsigned long code = ERR_get_error();
    char text[256] = "handshake failed";
    if (code) ERR_error_string_n(code, text, sizeof(text));
    ERR_clear_error();
    fail(text);
}

bool DtlsTransport::export_keys() {
    const SRTP_PROTECTION_PROFILE* selected = SSL_get_selected_srtp_profile(ssl_);
    if (!selected && srtp_optional_) {
        state_ = DtlsState::connected;
        DtlsKeys keys;
        keys.srtp = false;
        listener_.on_dtls_connected(keys);
        return true;
    }
    if (!selected) {
        fail("no SRTP profile was negotiated (use_srtp missing)");
        return false;
    }
    SrtpProfile profile;
    if (selected->id == SRTP_AEAD_AES_128_GCM)
        profile = SrtpProfile::aead_aes_128_gcm;
    else if (selected->id == SRTP_AES128_CM_SHA1_80)
        profile = SrtpProfile::aes_cm_128_hmac_sha1_80;
    else {
        fail("an SRTP profile rollcall did not offer was selected");
        return false;
    }
    const std::size_t key = srtp_key_length(profile);
    const std::size_t salt = srtp_salt_length(profile);
    // RFC 5764 §4.2: client key | server key | client salt | server salt.
    std::vector<std::uint8_t> material(2 * (key + salt));
    static constexpr char kLabel[] = "EXTRACTOR-dtls_srtp";
    if (SSL_export_keying_material(ssl_, material.data(), material.size(), kLabel,
                                   sizeof(kLabel) - 1, nullptr, 0, 0) != 1) {
        fail("cannot export the SRTP keying material");
        return false;
    }
    std::vector<std::uint8_t> client(material.begin(), material.begin() + static_cast<long>(key));
    std::vector<std::uint8_t> server(material.begin() + static_cast<long>(key),
                                     material.begin() + static_cast<long>(2 * key));
    client.insert(client.end(), material.begin() + static_cast<long>(2 * key),
                  material.begin() + static_cast<long>(2 * key + salt));
    server.insert(server.end(), material.begin() + static_cast<long>(2 * key + salt),
                  material.end());
    state_ = DtlsState::connected;
    DtlsKeys keys{true, profile, role_ == DtlsRole::client ? client : server,
                  role_ == DtlsRole::client ? server : client};
    listener_.on_dtls_connected(keys);
    return true;
}

void DtlsTransport::flush() {
    // Each BIO_read of a memory BIO written by DTLS returns one record flight datagram.
    unsigned char datagram[16384];
    while (BIO_ctrl_pending(outgoing_) > 0) {
        const int n = BIO_read(outgoing_, datagram, sizeof(datagram));
        if (n <= 0) break;
        listener_.on_dtls_send(
            std::span<const std::uint8_t>(datagram, static_cast<std::size_t>(n)));
    }
}

std::optional<std::chrono::milliseconds> DtlsTransport::next_timeout() const {
    if (!ssl_ || state_ != DtlsState::connecting) return std::nullopt;
    timeval tv{};
    if (DTLSv1_get_timeout(ssl_, &tv) != 1) return std::nullopt;
    return std::chrono::milliseconds(tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

void DtlsTransport::on_timeout() {
    if (!ssl_ || state_ != DtlsState::connecting) return;
    if (DTLSv1_handle_timeout(ssl_) < 0) {
        fail("DTLS retransmission limit reached");
        return;
    }
    flush();
}

void DtlsTransport::close() {
    if (!ssl_ || state_ == DtlsState::closed || state_ == DtlsState::failed) return;
    if (state_ == DtlsState::connected) {
        SSL_shutdown(ssl_);  // close_notify
        flush();
    }
    state_ = DtlsState::closed;
}

void DtlsTransport::fail(std::string reason) {
    if (state_ == DtlsState::failed) return;
    state_ = DtlsState::failed;
    if (ssl_) flush();  // the alert, if OpenSSL queued one
    listener_.on_dtls_failed(reason);
}

std::string DtlsTransport::protocol_version() const {
    return ssl_ ? SSL_get_version(ssl_) : "";
}
std::string DtlsTransport::cipher() const {
    return ssl_ ? SSL_get_cipher_name(ssl_) : "";
}

}  // namespace rollcall::transport
