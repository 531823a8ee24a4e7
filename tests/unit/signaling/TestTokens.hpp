#pragma once

#include <cstdint>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

namespace rollcall::test {

inline constexpr const char* kKey = "testkey";
inline constexpr const char* kSecret = "0123456789abcdef0123456789abcdef-test";
inline constexpr const char* kEsIssuer = "issuer.example";

inline std::int64_t now_unix() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

// A well-formed payload: identity alice, room r1, join/publish/subscribe, an hour left.
nlohmann::json good_payload(std::int64_t now = now_unix());

// Assembles "<b64(header)>.<b64(payload)>." and signs it as the header says, with the given
// secret (HS256) or the test ES256 key; "none" or anything else leaves the signature empty.
std::string sign(const nlohmann::json& header, const nlohmann::json& payload,
                 const std::string& secret = kSecret);
std::string hs256(const nlohmann::json& payload, const std::string& secret = kSecret);
std::string es256(const nlohmann::json& payload);

// The PEM public key matching the test ES256 key (a fixed key generated once per run).
const std::string& es256_public_pem();
// A different P-256 key's public PEM, for wrong-key tests.
std::string other_es256_public_pem();

}  // namespace rollcall::test
