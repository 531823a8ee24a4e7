#include "sfu/PacketCache.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace rollcall::sfu {

PacketCache::PacketCache(Sizing sizing)
    : sizing_(sizing), slots_(std::max<std::size_t>(sizing.initial, 1)) {}

void PacketCache::store(std::uint16_t sequence, std::span<const std::uint8_t> packet,
                        Clock::time_point now) noexcept {
    if (packet.size() > kMaxPacket) return;
    Slot* slot = &slots_[sequence % slots_.size()];
    if (slot->used && slot->sequence != sequence && slots_.size() < sizing_.max &&
        now - slot->stored_at < sizing_.retention) {
        grow();
        slot = &slots_[sequence % slots_.size()];
    }
    slot->used = true;
    slot->sequence = sequence;
    slot->size = static_cast<std::uint16_t>(packet.size());
    slot->stored_at = now;
    std::memcpy(slot->bytes.data(), packet.data(), packet.size());
}

void PacketCache::grow() noexcept {
    try {
        std::vector<Slot> larger(std::min(slots_.size() * 2, sizing_.max));
        for (const Slot& slot : slots_) {
            if (!slot.used) continue;
            Slot& to = larger[slot.sequence % larger.size()];
            // Doubling keeps a window of distinct sequence numbers apart; across a wrap the
            // newer packet wins.
            if (!to.used || slot.stored_at >= to.stored_at) to = slot;
        }
        slots_ = std::move(larger);
    } catch (const std::bad_alloc&) {
        sizing_.max = slots_.size();  // stay as we are: older packets get overwritten
    }
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
