// RFC 7983 demultiplexing of arbitrary datagrams.
#include <cstdint>
#include <span>

#include "transport/PacketDemux.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)rollcall::transport::PacketDemux::classify(std::span<const std::uint8_t>(data, size));
    return 0;
}
