// RFC 7983 demultiplexing of arbitrary datagrams, and the check of an answer to our consent
// check (the transaction id taken from the datagram itself, so the attribute walk is reached).
#include <cstdint>
#include <span>

#include "transport/PacketDemux.hpp"
#include "transport/StunCheck.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> datagram(data, size);
    (void)rollcall::transport::PacketDemux::classify(datagram);
    if (const auto id = rollcall::transport::binding_success_id(datagram))
        (void)rollcall::transport::is_binding_success(datagram, *id, "peerPasswordOf22CharsOrMore");
    return 0;
}
