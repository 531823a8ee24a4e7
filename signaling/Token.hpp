#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "room/Grants.hpp"

namespace rollcall::signaling {

// Access tokens in LiveKit's claim layout (a JWT): iss = API key or issuer, sub = identity,
// optional name and nbf, required exp, and the `video` grant object.
struct TokenClaims {
    std::string algorithm;  // "HS256" or "ES256"
    std::string issuer;
    std::string identity;  // may be empty for admin-only tokens; join requires it
    std::string name;
    std::int64_t not_before = 0;  // 0 when absent
    std::int64_t expires_at = 0;
    room::Grants grants;
};

enum class TokenError {
    none,
    too_large,
    malformed,              // not three base64url parts, bad JSON, wrong claim types
    unsupported_algorithm,  // alg not in the allow-list, or not the one the issuer's key is for
    unknown_issuer,
    invalid_signature,
    expired,
    not_yet_valid,
    missing_claim,         // exp, iss or the video grant absent
    hidden_not_supported,  // rollcall never admits hidden participants
};

// The signaling error code for a token failure, e.g. "token_expired".
std::string_view error_code(TokenError error) noexcept;

struct TokenResult {
    TokenError error = TokenError::none;
    std::string detail;  // safe to show and log: never contains the token
    TokenClaims claims;
    bool ok() const noexcept { return error == TokenError::none; }
};

struct TokenKeys {
    std::map<std::string, std::string, std::less<>> hmac_secrets;  // API key -> secret (HS256)
    std::map<std::string, std::string, std::less<>>
        ec_public_keys;  // issuer -> PEM P-256 key (ES256)
};

// Verifies tokens strictly: algorithm allow-list bound to the issuer's key type (no alg
// confusion, never "none"), signature over OpenSSL EVP, exp required, small clock leeway.
class TokenVerifier {
  public:
    struct Options {
        std::chrono::seconds leeway{5};
        std::size_t max_token_bytes = 4096;
    };

    // Throws std::invalid_argument for a public key that is not a P-256 EC key.
    TokenVerifier(const TokenKeys& keys, Options options);
    ~TokenVerifier();
    TokenVerifier(const TokenVerifier&) = delete;
    TokenVerifier& operator=(const TokenVerifier&) = delete;

    TokenResult verify(std::string_view token, std::int64_t now_unix) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Signs HS256 tokens (the `rollcall token` command and the dev token endpoint).
std::string mint_hs256_token(std::string_view api_key, std::string_view secret,
                             const TokenClaims& claims);

}  // namespace rollcall::signaling
