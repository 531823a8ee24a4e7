#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rollcall::transport {

// Where an IP address lives, for deciding which peer candidates the server may probe.
enum class AddressScope { loopback, private_network, link_local, public_internet, unusable };

// IPv4 or IPv6 text; `unusable` for unspecified, multicast, broadcast and anything that does
// not parse (mDNS names included).
AddressScope address_scope(std::string_view address) noexcept;
std::string_view to_string(AddressScope scope) noexcept;
// "loopback", "private", "link_local", "public" (the `[media] candidate_scopes` names).
std::optional<AddressScope> parse_candidate_scope(std::string_view name) noexcept;

// The server's side of ICE: the addresses it gathers on (its only candidates), and the scopes
// of peer candidates it may send checks to. Empty `candidate_scopes`: public, plus the scopes
// of its own addresses.
struct LocalNetwork {
    std::vector<std::string> addresses;
    std::vector<AddressScope> candidate_scopes;

    LocalNetwork() = default;
    LocalNetwork(std::vector<std::string> local, std::vector<AddressScope> scopes = {})
        : addresses(std::move(local)), candidate_scopes(std::move(scopes)) {}
};

// Whether the server may send ICE checks to a peer candidate at `address`: public addresses
// always; loopback, private and link-local ones only when one of the server's own media
// addresses is in that scope (a loopback dev server keeps working, a public one never probes
// a private network on a participant's say-so); unusable ones never.
bool candidate_address_allowed(std::string_view address,
                               const std::vector<std::string>& local_addresses) noexcept;
// The same, unless `network` names its scopes: then exactly those (never unusable ones).
bool candidate_address_allowed(std::string_view address, const LocalNetwork& network) noexcept;

}  // namespace rollcall::transport
