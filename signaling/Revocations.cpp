#include "signaling/Revocations.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>

namespace rollcall::signaling {

namespace {

// Drops the entry that ends soonest (expired ones first, as they end soonest of all).
template <typename Map>
void make_room(Map& entries, std::size_t limit) {
    while (entries.size() >= limit) {
        auto soonest =
            std::min_element(entries.begin(), entries.end(),
                             [](const auto& a, const auto& b) { return a.second < b.second; });
        entries.erase(soonest);
    }
}

}  // namespace

std::string Revocations::digest(std::string_view token) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int length = 0;
    EVP_Digest(token.data(), token.size(), md.data(), &length, EVP_sha256(), nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 0xF];
    }
    return out;
}

void Revocations::revoke(const std::string& digest, std::int64_t expires_unix) {
    if (!credentials_.contains(digest)) make_room(credentials_, kMaxCredentials);
    credentials_[digest] = expires_unix;
}

bool Revocations::revoked(const std::string& digest, std::int64_t now_unix) {
    auto it = credentials_.find(digest);
    if (it == credentials_.end()) return false;
    if (it->second > now_unix) return true;
    credentials_.erase(it);  // expired: the token is refused for that anyway
    return false;
}

void Revocations::ban(const std::string& room, const std::string& identity,
                      std::int64_t until_unix) {
    const auto key = std::make_pair(room, identity);
    if (!bans_.contains(key)) make_room(bans_, kMaxBans);
    bans_[key] = std::max(bans_[key], until_unix);
}

std::optional<std::int64_t> Revocations::banned_until(const std::string& room,
                                                      const std::string& identity,
                                                      std::int64_t now_unix) {
    auto it = bans_.find({room, identity});
    if (it == bans_.end()) return std::nullopt;
    if (it->second > now_unix) return it->second;
    bans_.erase(it);
    return std::nullopt;
}

}  // namespace rollcall::signaling
