#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rollcall::transport {

// The one STUN exchange rollcall runs itself rather than through libnice: a consent check
// (RFC 7675) to an address the media path would move to. The request is an ICE connectivity
// check (RFC 8445 §7.1.2) without USE-CANDIDATE; the answer counts only as a Binding success
// response to that transaction whose MESSAGE-INTEGRITY was made with the peer's password.
using StunTransactionId = std::array<std::uint8_t, 12>;

struct ConsentCheck {
    std::string username;  // "<peer's ufrag>:<our ufrag>"
    std::string password;  // the peer's ICE password
    bool controlling = false;
    std::uint64_t tie_breaker = 0;
    std::uint32_t priority = 0;
};

std::vector<std::uint8_t> write_binding_request(const StunTransactionId& id,
                                                const ConsentCheck& check);

// The transaction id of a Binding success response (header only, nothing verified yet).
std::optional<StunTransactionId> binding_success_id(std::span<const std::uint8_t> datagram);

// `datagram` is a well-formed Binding success response to `id`, integrity-protected with
// `password`.
bool is_binding_success(std::span<const std::uint8_t> datagram, const StunTransactionId& id,
                        std::string_view password);

}  // namespace rollcall::transport
