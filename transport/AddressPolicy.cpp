#include "transport/AddressPolicy.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

namespace rollcall::transport {

namespace {

AddressScope v4_scope(std::uint32_t a) noexcept {
    const auto in = [a](std::uint32_t network, int bits) {
        const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
        return (a & mask) == network;
    };
    if (a == 0 || a == 0xFFFFFFFFu || in(0xE0000000u, 4) || in(0x00000000u, 8))
        return AddressScope::unusable;
    if (in(0x7F000000u, 8)) return AddressScope::loopback;
    if (in(0xA9FE0000u, 16)) return AddressScope::link_local;
    if (in(0x0A000000u, 8) || in(0xAC100000u, 12) || in(0xC0A80000u, 16) || in(0x64400000u, 10)) {
        return AddressScope::private_network;  // RFC 1918, and RFC 6598 shared address space
    }
    return AddressScope::public_internet;
}

}  // namespace

AddressScope address_scope(std::string_view text) noexcept {
    if (text.empty() || text.size() > 45) return AddressScope::unusable;
    const std::string address(text);
    std::array<std::uint8_t, 16> bytes{};
    if (inet_pton(AF_INET, address.c_str(), bytes.data()) == 1) {
        return v4_scope((std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
                        (std::uint32_t{bytes[2]} << 8) | bytes[3]);
    }
    if (inet_pton(AF_INET6, address.c_str(), bytes.data()) != 1) return AddressScope::unusable;
    const bool zero_prefix =
        std::all_of(bytes.begin(), bytes.begin() + 10, [](std::uint8_t b) { return b == 0; });
    if (zero_prefix && bytes[10] == 0xFF && bytes[11] == 0xFF) {  // IPv4-mapped
        return v4_scope((std::uint32_t{bytes[12]} << 24) | (std::uint32_t{bytes[13]} << 16) |
                        (std::uint32_t{bytes[14]} << 8) | bytes[15]);
    }
    const bool all_zero = zero_prefix && std::all_of(bytes.begin() + 10, bytes.end() - 1,
                                                     [](std::uint8_t b) { return b == 0; });
    if (all_zero && bytes[15] == 1) return AddressScope::loopback;
    if (all_zero && bytes[15] == 0) return AddressScope::unusable;
    if (bytes[0] == 0xFF) return AddressScope::unusable;  // multicast
    if (bytes[0] == 0xFE && (bytes[1] & 0xC0) == 0x80)
        return AddressScope::link_local;                                  // fe80::/10
    if ((bytes[0] & 0xFE) == 0xFC) return AddressScope::private_network;  // fc00::/7
    return AddressScope::public_internet;
}

std::string_view to_string(AddressScope scope) noexcept {
    switch (scope) {
        case AddressScope::loopback:
            return "loopback";
        case AddressScope::private_network:
            return "private";
        case AddressScope::link_local:
            return "link-local";
        case AddressScope::public_internet:
            return "public";
        case AddressScope::unusable:
            return "unusable";
    }
    return "unusable";
}

bool candidate_address_allowed(std::string_view address,
                               const std::vector<std::string>& local_addresses) noexcept {
    const AddressScope scope = address_scope(address);
    if (scope == AddressScope::public_internet) return true;
    if (scope == AddressScope::unusable) return false;
    for (const std::string& local : local_addresses) {
        if (address_scope(local) == scope) return true;
    }
    return false;
}

bool candidate_address_allowed(std::string_view address, const LocalNetwork& network) noexcept {
    if (network.candidate_scopes.empty())
        return candidate_address_allowed(address, network.addresses);
    const AddressScope scope = address_scope(address);
    if (scope == AddressScope::unusable) return false;
    for (AddressScope allowed : network.candidate_scopes) {
        if (allowed == scope) return true;
    }
    return false;
}

std::optional<AddressScope> parse_candidate_scope(std::string_view name) noexcept {
    if (name == "loopback") return AddressScope::loopback;
    if (name == "private") return AddressScope::private_network;
    if (name == "link_local") return AddressScope::link_local;
    if (name == "public") return AddressScope::public_internet;
    return std::nullopt;
}

}  // namespace rollcall::transport
