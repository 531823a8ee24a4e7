#include "signaling/TestTokens.hpp"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <memory>
#include <stdexcept>
#include <vector>

#include "signaling/Base64Url.hpp"

namespace rollcall::test {

namespace {

EVP_PKEY* test_key() {
    static EVP_PKEY* key = EVP_EC_gen("P-256");
    return key;
}

std::string public_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_PUBKEY(bio.get(), key);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

std::string es256_signature(const std::string& input) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    std::size_t der_len = 0;
    EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, test_key());
    EVP_DigestSign(ctx.get(), nullptr, &der_len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    std::vector<unsigned char> der(der_len);
    EVP_DigestSign(ctx.get(), der.data(), &der_len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    const unsigned char* p = der.data();
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)), &ECDSA_SIG_free);
    std::uint8_t raw[64] = {};
    BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), raw, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), raw + 32, 32);
    return signaling::base64url_encode(std::span<const std::uint8_t>(raw, 64));
}

}  // namespace

nlohmann::json good_payload(std::int64_t now) {
    return {{"iss", kKey},
            {"sub", "alice"},
            {"name", "Alice"},
            {"nbf", now - 10},
            {"exp", now + 3600},
            {"video",
             {{"room", "r1"}, {"roomJoin", true}, {"canPublish", true}, {"canSubscribe", true}}}};
}

std::string sign(const nlohmann::json& header, const nlohmann::json& payload,
                 const std::string& secret) {
    const std::string input = signaling::base64url_encode(header.dump()) + "." +
                              signaling::base64url_encode(payload.dump());
    const std::string alg = header.value("alg", "");
    if (alg == "HS256") {
        unsigned char mac[32];
        unsigned int len = 0;
        HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
        return input + "." + signaling::base64url_encode(std::span<const std::uint8_t>(mac, len));
    }
    if (alg == "ES256") return input + "." + es256_signature(input);
    return input + ".";
}

std::string hs256(const nlohmann::json& payload, const std::string& secret) {
    return sign({{"alg", "HS256"}, {"typ", "JWT"}}, payload, secret);
}

std::string es256(const nlohmann::json& payload) {
    return sign({{"alg", "ES256"}, {"typ", "JWT"}}, payload);
}

const std::string& es256_public_pem() {
    static const std::string pem = public_pem(test_key());
    return pem;
}

std::string other_es256_public_pem() {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> other(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    return public_pem(other.get());
}

}  // namespace rollcall::test
