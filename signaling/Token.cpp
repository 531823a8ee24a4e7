#include "signaling/Token.hpp"

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "signaling/Base64Url.hpp"

namespace rollcall::signaling {

namespace {

using json = nlohmann::json;

struct PkeyDeleter {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

struct MdCtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct SigDeleter {
    void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};

TokenResult fail(TokenError error, std::string detail) {
    TokenResult result;
    result.error = error;
    result.detail = std::move(detail);
    return result;
}

PkeyPtr load_p256_public_key(const std::string& pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
    if (!bio) throw std::invalid_argument("cannot read issuer public key");
    PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if (!key) throw std::invalid_argument("issuer public key is not a PEM public key");
    if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC) {
        throw std::invalid_argument("issuer public key is not an EC key");
    }
    char group[64] = {};
    std::size_t group_len = 0;
    if (EVP_PKEY_get_utf8_string_param(key.get(), "group", group, sizeof(group), &group_len) != 1 ||
        std::string_view(group, group_len) != "prime256v1") {
        throw std::invalid_argument("issuer public key is not on P-256");
    }
    return key;
}

bool verify_hs256(std::string_view secret, std::string_view signing_input,
                  const std::vector<std::uint8_t>& signature) {
    if (signature.size() != 32) return false;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
              reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
              mac, &mac_len)) {
        return false;
    }
    return mac_len == 32 && CRYPTO_memcmp(mac, signature.data(), 32) == 0;
}

bool verify_es256(EVP_PKEY* key, std::string_view signing_input,
                  const std::vector<std::uint8_t>& signature) {
    // RFC 7518 §3.4: the JWS signature is R || S, 32 bytes each; OpenSSL wants DER.
    if (signature.size() != 64) return false;
    std::unique_ptr<ECDSA_SIG, SigDeleter> sig(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(signature.data(), 32, nullptr);
    BIGNUM* s = BN_bin2bn(signature.data() + 32, 32, nullptr);
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return false;
    }
    unsigned char* der = nullptr;
    const int der_len = i2d_ECDSA_SIG(sig.get(), &der);
    if (der_len <= 0) return false;
    std::unique_ptr<unsigned char, void (*)(unsigned char*)> der_owner(
        der, [](unsigned char* p) { OPENSSL_free(p); });
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1)
        return false;
    return EVP_DigestVerify(ctx.get(), der, static_cast<std::size_t>(der_len),
                            reinterpret_cast<const unsigned char*>(signing_input.data()),
                            signing_input.size()) == 1;
}

std::optional<json> decode_json_object(std::string_view part) {
    auto bytes = base64url_decode(part);
    if (!bytes) return std::nullopt;
    json value = json::parse(bytes->begin(), bytes->end(), nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded() || !value.is_object()) return std::nullopt;
    return value;
}

// A NumericDate (RFC 7519 §2), range-checked before conversion.
std::optional<std::int64_t> numeric_date(const json& value) {
    if (!value.is_number()) return std::nullopt;
    const double seconds = value.get<double>();
    if (!std::isfinite(seconds) || seconds < 0 || seconds > 253402300799.0)
        return std::nullopt;  // year 9999
    return static_cast<std::int64_t>(seconds);
}

bool read_bool(const json& object, const char* key, bool& out) {
    auto it = object.find(key);
    if (it == object.end()) return true;
    if (!it->is_boolean()) return false;
    out = it->get<bool>();
    return true;
}

TokenResult parse_claims(const json& payload, const std::string& algorithm, std::int64_t now,
                         std::int64_t leeway) {
    TokenResult result;
    TokenClaims& claims = result.claims;
    claims.algorithm = algorithm;
    claims.issuer = payload.at("iss").get<std::string>();

    auto exp = payload.find("exp");
    if (exp == payload.end()) return fail(TokenError::missing_claim, "the token has no exp claim");
    auto expires_at = numeric_date(*exp);
    if (!expires_at) return fail(TokenError::malformed, "exp is not a valid NumericDate");
    claims.expires_at = *expires_at;
    if (auto nbf = payload.find("nbf"); nbf != payload.end()) {
        auto not_before = numeric_date(*nbf);
        if (!not_before) return fail(TokenError::malformed, "nbf is not a valid NumericDate");
        claims.not_before = *not_before;
    }
    if (now > claims.expires_at + leeway) return fail(TokenError::expired, "the token has expired");
    if (claims.not_before != 0 && now + leeway < claims.not_before) {
        return fail(TokenError::not_yet_valid, "the token is not valid yet (nbf)");
    }

    if (auto sub = payload.find("sub"); sub != payload.end()) {
        if (!sub->is_string() || !room::is_valid_identity(sub->get_ref<const std::string&>())) {
            return fail(TokenError::malformed, "sub must be a 1..128 byte identity");
        }
        claims.identity = sub->get<std::string>();
    }
    if (auto name = payload.find("name"); name != payload.end()) {
        if (!name->is_string() || name->get_ref<const std::string&>().size() > 128) {
            return fail(TokenError::malformed, "name must be a string of at most 128 bytes");
        }
        claims.name = name->get<std::string>();
    }

    auto video = payload.find("video");
    if (video == payload.end())
        return fail(TokenError::missing_claim, "the token has no video grant");
    if (!video->is_object())
        return fail(TokenError::malformed, "the video grant must be an object");
    room::Grants& grants = claims.grants;
    if (auto room = video->find("room"); room != video->end()) {
        if (!room->is_string()) return fail(TokenError::malformed, "video.room must be a string");
        grants.room = room->get<std::string>();
        if (grants.room.size() > 64) return fail(TokenError::malformed, "video.room is too long");
    }
    if (!read_bool(*video, "roomJoin", grants.room_join) ||
        !read_bool(*video, "canPublish", grants.can_publish) ||
        !read_bool(*video, "canSubscribe", grants.can_subscribe) ||
        !read_bool(*video, "canPublishData", grants.can_publish_data) ||
        !read_bool(*video, "roomAdmin", grants.room_admin) ||
        !read_bool(*video, "roomList", grants.room_list)) {
        return fail(TokenError::malformed, "video grant flags must be booleans");
    }
    bool hidden = false;
    if (!read_bool(*video, "hidden", hidden))
        return fail(TokenError::malformed, "video.hidden must be a boolean");
    if (hidden)
        return fail(TokenError::hidden_not_supported, "rollcall admits no hidden participants");
    return result;
}

}  // namespace

struct TokenVerifier::Impl {
    std::map<std::string, std::string, std::less<>> hmac_secrets;
    std::map<std::string, PkeyPtr, std::less<>> ec_keys;
    Options options;
};

TokenVerifier::TokenVerifier(const TokenKeys& keys, Options options)
    : impl_(std::make_unique<Impl>()) {
    impl_->hmac_secrets = keys.hmac_secrets;
    impl_->options = options;
    for (const auto& [issuer, pem] : keys.ec_public_keys) {
        impl_->ec_keys.emplace(issuer, load_p256_public_key(pem));
    }
}

TokenVerifier::~TokenVerifier() = default;

TokenResult TokenVerifier::verify(std::string_view token, std::int64_t now_unix) const {
    if (token.size() > impl_->options.max_token_bytes) {
        return fail(
            TokenError::too_large,
            "the token exceeds " + std::to_string(impl_->options.max_token_bytes) + " bytes");
    }
    const auto first_dot = token.find('.');
    const auto second_dot =
        first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos ||
        token.find('.', second_dot + 1) != std::string_view::npos) {
        return fail(TokenError::malformed, "a token has three dot-separated parts");
    }
    const std::string_view header_part = token.substr(0, first_dot);
    const std::string_view payload_part = token.substr(first_dot + 1, second_dot - first_dot - 1);
    const std::string_view signature_part = token.substr(second_dot + 1);
    if (header_part.empty() || payload_part.empty())
        return fail(TokenError::malformed, "empty token part");
    if (signature_part.empty())
        return fail(TokenError::unsupported_algorithm, "unsigned tokens are refused");

    auto header = decode_json_object(header_part);
    if (!header) return fail(TokenError::malformed, "the token header is not base64url JSON");
    auto alg = header->find("alg");
    if (alg == header->end() || !alg->is_string())
        return fail(TokenError::malformed, "the token header has no alg");
    const std::string algorithm = alg->get<std::string>();
    if (algorithm != "HS256" && algorithm != "ES256") {
        return fail(TokenError::unsupported_algorithm, "only HS256 and ES256 tokens are accepted");
    }
    if (header->contains("crit"))
        return fail(TokenError::malformed, "critical header parameters are not supported");
    if (auto typ = header->find("typ");
        typ != header->end() && (!typ->is_string() || typ->get<std::string>() != "JWT")) {
        return fail(TokenError::malformed, "typ must be JWT");
    }

    auto payload = decode_json_object(payload_part);
    if (!payload) return fail(TokenError::malformed, "the token payload is not base64url JSON");
    auto signature = base64url_decode(signature_part);
    if (!signature) return fail(TokenError::malformed, "the token signature is not base64url");
    auto iss = payload->find("iss");
    if (iss == payload->end()) return fail(TokenError::missing_claim, "the token has no iss claim");
    if (!iss->is_string()) return fail(TokenError::malformed, "iss must be a string");
    const std::string& issuer = iss->get_ref<const std::string&>();

    // The key is chosen by issuer, and the issuer's key fixes the algorithm: an HS256 token
    // claiming an ES256 issuer is never checked with that public key as an HMAC secret.
    const std::string_view signing_input = token.substr(0, second_dot);
    if (auto secret = impl_->hmac_secrets.find(issuer); secret != impl_->hmac_secrets.end()) {
        if (algorithm != "HS256")
            return fail(TokenError::unsupported_algorithm, "this issuer signs with HS256");
        if (!verify_hs256(secret->second, signing_input, *signature)) {
            return fail(TokenError::invalid_signature, "the token signature does not verify");
        }
    } else if (auto key = impl_->ec_keys.find(issuer); key != impl_->ec_keys.end()) {
        if (algorithm != "ES256")
            return fail(TokenError::unsupported_algorithm, "this issuer signs with ES256");
        if (!verify_es256(key->second.get(), signing_input, *signature)) {
            return fail(TokenError::invalid_signature, "the token signature does not verify");
        }
    } else {
        return fail(TokenError::unknown_issuer, "the token's issuer is not known to this server");
    }
    return parse_claims(*payload, algorithm, now_unix, impl_->options.leeway.count());
}

std::string_view error_code(TokenError error) noexcept {
    switch (error) {
        case TokenError::none:
            return "ok";
        case TokenError::too_large:
            return "token_too_large";
        case TokenError::malformed:
            return "token_malformed";
        case TokenError::unsupported_algorithm:
            return "token_unsupported_algorithm";
        case TokenError::unknown_issuer:
            return "token_unknown_issuer";
        case TokenError::invalid_signature:
            return "token_invalid_signature";
        case TokenError::expired:
            return "token_expired";
        case TokenError::not_yet_valid:
            return "token_not_yet_valid";
        case TokenError::missing_claim:
            return "token_missing_claim";
        case TokenError::hidden_not_supported:
            return "token_hidden_not_supported";
    }
    return "token_invalid";
}

std::string mint_hs256_token(std::string_view api_key, std::string_view secret,
                             const TokenClaims& claims) {
    json video = json::object();
    const room::Grants& g = claims.grants;
    if (!g.room.empty()) video["room"] = g.room;
    if (g.room_join) video["roomJoin"] = true;
    if (g.can_publish) video["canPublish"] = true;
    if (g.can_subscribe) video["canSubscribe"] = true;
    if (g.can_publish_data) video["canPublishData"] = true;
    if (g.room_admin) video["roomAdmin"] = true;
    if (g.room_list) video["roomList"] = true;
    json payload = {{"iss", std::string(api_key)}, {"exp", claims.expires_at}, {"video", video}};
    if (!claims.identity.empty()) payload["sub"] = claims.identity;
    if (!claims.name.empty()) payload["name"] = claims.name;
    if (claims.not_before != 0) payload["nbf"] = claims.not_before;

    const std::string signing_input =
        base64url_encode(std::string_view(R"({"alg":"HS256","typ":"JWT"})")) + "." +
        base64url_encode(payload.dump());
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
              reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
              mac, &mac_len)) {
        throw std::runtime_error("HMAC-SHA256 failed");
    }
    return signing_input + "." + base64url_encode(std::span<const std::uint8_t>(mac, mac_len));
}

}  // namespace rollcall::signaling
