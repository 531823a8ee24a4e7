#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace rollcall::signaling {

// "Kicked means gone": the credentials of sessions an administrator removed are refused
// until they expire, and an identity may be banned from a room for a while. Only a digest of
// a token is kept, never the token. Bounded: past the limits, the entries that end soonest
// go first. Signaling thread only.
class Revocations {
  public:
    static constexpr std::size_t kMaxCredentials = 10000;
    static constexpr std::size_t kMaxBans = 10000;

    // SHA-256 of the token, hex.
    static std::string digest(std::string_view token);

    void revoke(const std::string& digest, std::int64_t expires_unix);
    bool revoked(const std::string& digest, std::int64_t now_unix);
    void ban(const std::string& room, const std::string& identity, std::int64_t until_unix);
    // Until when `identity` is banned from `room`, if it is now.
    std::optional<std::int64_t> banned_until(const std::string& room, const std::string& identity,
                                             std::int64_t now_unix);
    std::size_t size() const noexcept { return credentials_.size() + bans_.size(); }

  private:
    std::map<std::string, std::int64_t> credentials_;                   // digest → exp
    std::map<std::pair<std::string, std::string>, std::int64_t> bans_;  // (room, identity) → until
};

}  // namespace rollcall::signaling
