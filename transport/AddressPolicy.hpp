#pragma once

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

// Whether the server may send ICE checks to a peer candidate at `address`: public addresses
// always; loopback, private and link-local ones only when one of the server's own media
// addresses is in that scope (a loopback dev server keeps working, a public one never probes
// a private network on a participant's say-so); unusable ones never.
bool candidate_address_allowed(std::string_view address,
                               const std::vector<std::string>& local_addresses) noexcept;

}  // namespace rollcall::transport
