#include "transport/StunCheck.hpp"

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "transport/ByteOrder.hpp"

namespace rollcall::transport {

namespace {
constexpr std::uint16_t kBindingRequest = 0x0001;
constexpr std::uint16_t kBindingSuccess = 0x0101;
constexpr std::uint32_t kMagicCookie = 0x2112A442;
constexpr std::uint16_t kUsername = 0x0006;
constexpr std::uint16_t kMessageIntegrity = 0x0008;
constexpr std::uint16_t kPriority = 0x0024;
constexpr std::uint16_t kFingerprint = 0x8028;
constexpr std::uint16_t kIceControlled = 0x8029;
constexpr std::uint16_t kIceControlling = 0x802A;
constexpr std::uint32_t kFingerprintXor = 0x5354554e;
constexpr std::size_t kHeader = 20;
constexpr std::size_t kIntegrityAttribute = 4 + 20;
constexpr std::size_t kFingerprintAttribute = 4 + 4;
constexpr std::size_t kMaxMessage = 548;  // what we accept as an answer; ours are far smaller

std::uint32_t crc32(std::span<const std::uint8_t> bytes) {
    std::uint32_t crc = 0xFFFFFFFFu;
    for (std::uint8_t byte : bytes) {
        crc ^= byte;
        for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

void put16(std::vector<std::uint8_t>& out, std::uint16_t value) {
    out.push_back(static_cast<std::uint8_t>(value >> 8));
    out.push_back(static_cast<std::uint8_t>(value));
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t value) {
    put16(out, static_cast<std::uint16_t>(value >> 16));
    put16(out, static_cast<std::uint16_t>(value));
}

void attribute(std::vector<std::uint8_t>& out, std::uint16_t type,
               std::span<const std::uint8_t> value) {
    put16(out, type);
    put16(out, static_cast<std::uint16_t>(value.size()));
    out.insert(out.end(), value.begin(), value.end());
    while (out.size() % 4 != 0) out.push_back(0);
}

// The header's length field as it must read when the message ends `end` bytes in.
void set_length(std::span<std::uint8_t> message, std::size_t end) {
    store_u16(message.data() + 2, static_cast<std::uint16_t>(end - kHeader));
}

std::array<std::uint8_t, 20> hmac_sha1(std::string_view key, std::span<const std::uint8_t> data) {
    std::array<std::uint8_t, 20> mac{};
    unsigned length = 0;
    HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), mac.data(),
         &length);
    return mac;
}
// After MESSAGE-INTEGRITY (ending at `at`) comes nothing, or a correct FINGERPRINT that ends
// the message.
bool fingerprint_ends(std::span<const std::uint8_t> message, std::size_t at) {
    if (at == message.size()) return true;
    if (at + kFingerprintAttribute != message.size() ||
        load_u16(message.data() + at) != kFingerprint || load_u16(message.data() + at + 2) != 4)
        return false;
    return load_u32(message.data() + at + 4) == (crc32(message.first(at)) ^ kFingerprintXor);
}
}  // namespace

std::vector<std::uint8_t> write_binding_request(const StunTransactionId& id,
                                                const ConsentCheck& check) {
    std::vector<std::uint8_t> out;
    out.reserve(kHeader + 4 + check.username.size() + 3 + 8 + 12 + kIntegrityAttribute +
                kFingerprintAttribute);
    put16(out, kBindingRequest);
    put16(out, 0);
    put32(out, kMagicCookie);
    out.insert(out.end(), id.begin(), id.end());
    attribute(out, kUsername,
              std::span(reinterpret_cast<const std::uint8_t*>(check.username.data()),
                        check.username.size()));
    std::array<std::uint8_t, 4> priority{};
    store_u32(priority.data(), check.priority);
    attribute(out, kPriority, priority);
    std::array<std::uint8_t, 8> tie{};
    store_u32(tie.data(), static_cast<std::uint32_t>(check.tie_breaker >> 32));
    store_u32(tie.data() + 4, static_cast<std::uint32_t>(check.tie_breaker));
    attribute(out, check.controlling ? kIceControlling : kIceControlled, tie);
    // MESSAGE-INTEGRITY covers everything before it, the length counting it in (RFC 8489 §14.5).
    set_length(out, out.size() + kIntegrityAttribute);
    const auto mac = hmac_sha1(check.password, out);
    attribute(out, kMessageIntegrity, mac);
    set_length(out, out.size() + kFingerprintAttribute);
    std::array<std::uint8_t, 4> fingerprint{};
    store_u32(fingerprint.data(), crc32(out) ^ kFingerprintXor);
    attribute(out, kFingerprint, fingerprint);
    return out;
}

std::optional<StunTransactionId> binding_success_id(std::span<const std::uint8_t> datagram) {
    if (datagram.size() < kHeader || datagram.size() > kMaxMessage) return std::nullopt;
    if (load_u16(datagram.data()) != kBindingSuccess ||
        load_u32(datagram.data() + 4) != kMagicCookie ||
        kHeader + load_u16(datagram.data() + 2) != datagram.size())
        return std::nullopt;
    StunTransactionId id{};
    std::copy_n(datagram.begin() + 8, id.size(), id.begin());
    return id;
}

bool is_binding_success(std::span<const std::uint8_t> datagram, const StunTransactionId& id,
                        std::string_view password) {
    const auto found = binding_success_id(datagram);
    if (!found || *found != id) return false;
    // Walk the attributes to MESSAGE-INTEGRITY; only FINGERPRINT may follow it.
    std::size_t at = kHeader;
    while (at + 4 <= datagram.size()) {
        const std::uint16_t type = load_u16(datagram.data() + at);
        const std::size_t length = load_u16(datagram.data() + at + 2);
        const std::size_t padded = (length + 3) & ~std::size_t{3};
        if (at + 4 + padded > datagram.size()) return false;
        if (type == kMessageIntegrity) {
            if (length != 20) return false;
            std::vector<std::uint8_t> covered(datagram.begin(), datagram.begin() + at);
            set_length(covered, at + kIntegrityAttribute);
            const auto mac = hmac_sha1(password, covered);
            if (CRYPTO_memcmp(mac.data(), datagram.data() + at + 4, mac.size()) != 0) return false;
            return fingerprint_ends(datagram, at + kIntegrityAttribute);
        }
        at += 4 + padded;
    }
    return false;  // no integrity: not an answer from the peer
}

}  // namespace rollcall::transport
