#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rollcall::signaling {

// RFC 4648 §5 base64url without padding, as JWS uses it (RFC 7515 §2).
// Decoding is strict: no padding, no whitespace, no other alphabet, and the unused low
// bits of the last character must be zero, so every byte string has one encoding.
std::string base64url_encode(std::span<const std::uint8_t> bytes);
std::string base64url_encode(std::string_view text);
std::optional<std::vector<std::uint8_t>> base64url_decode(std::string_view text);

}  // namespace rollcall::signaling
