#include "sfu/PacketCache.hpp"

#include <cstring>

namespace rollcall::sfu {

PacketCache::PacketCache(std::size_t capacity) : slots_(capacity == 0 ? 1 : capacity) {}

void PacketCache::store(std::uint16_t sequence, std::span<const std::uint8_t> packet) noexcept {
    if (packet.size() > kMaxPacket) return;
    Slot& slot = slots_[sequence % slots_.size()];
    slot.used = true;
    slot.sequence = sequence;
    slot.size = static_cast<std::uint16_t>(packet.size());
    std::memcpy(slot.bytes.data(), packet.data(), packet.size());
}

std::optional<std::span<const std::uint8_t>> PacketCache::find(
    std::uint16_t sequence) const noexcept {
    const Slot& slot = slots_[sequence % slots_.size()];
    if (!slot.used || slot.sequence != sequence) return std::nullopt;
    return std::span<const std::uint8_t>(slot.bytes.data(), slot.size);
}

void PacketCache::clear() noexcept {
    for (Slot& slot : slots_) slot.used = false;
}

}  // namespace rollcall::sfu
