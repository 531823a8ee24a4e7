#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace rollcall::sfu {

// Recent packets of one RTP stream, by sequence number, for answering NACKs (RFC 4585
// §6.2.1). Sized to the stream: it starts with `initial` slots and doubles, up to `max`,
// whenever a packet would push out one younger than `retention` (a NACK for it could still
// come); a 30-packet/s low-resolution stream keeps 32 slots (~48 KB), a 2.5 Mbit/s one 256.
// Storing copies the packet; only those few doublings allocate.
class PacketCache {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t kMaxPacket = 1500;

    struct Sizing {
        std::size_t initial = 32;
        std::size_t max = 512;
        std::chrono::milliseconds retention{1000};
    };

    explicit PacketCache(Sizing sizing);
    // A fixed number of slots.
    explicit PacketCache(std::size_t capacity) : PacketCache(Sizing{capacity, capacity}) {}

    // Stores a plain RTP packet received at `now`; packets larger than kMaxPacket are not kept.
    void store(std::uint16_t sequence, std::span<const std::uint8_t> packet,
               Clock::time_point now = {}) noexcept;
    std::size_t capacity() const noexcept { return slots_.size(); }
    // The packet with exactly this sequence number, if still held.
    std::optional<std::span<const std::uint8_t>> find(std::uint16_t sequence) const noexcept;
    void clear() noexcept;

  private:
    struct Slot {
        bool used = false;
        std::uint16_t sequence = 0;
        std::uint16_t size = 0;
        Clock::time_point stored_at;
        std::array<std::uint8_t, kMaxPacket> bytes;
    };
    void grow() noexcept;

    Sizing sizing_;
    std::vector<Slot> slots_;
};

// Keyframe requests toward one publisher stream, paced: subscribers joining together or a
// burst of PLIs become one request per interval (RFC 4585 §3.4 asks for this restraint).
class KeyframeRequestPacer {
  public:
    using Clock = std::chrono::steady_clock;

    explicit KeyframeRequestPacer(
        std::chrono::milliseconds interval = std::chrono::milliseconds(300)) noexcept
        : interval_(interval) {}

    // True when a request should go upstream now.
    bool should_request(Clock::time_point now) noexcept {
        if (last_ && now - *last_ < interval_) {
            ++suppressed_;
            return false;
        }
        last_ = now;
        ++sent_;
        return true;
    }
    // The FIR sequence number for the next FIR (RFC 5104 §4.3.1.1).
    std::uint8_t next_fir_sequence() noexcept { return fir_sequence_++; }

    std::uint64_t sent() const noexcept { return sent_; }
    std::uint64_t suppressed() const noexcept { return suppressed_; }

  private:
    std::chrono::milliseconds interval_;
    std::optional<Clock::time_point> last_;
    std::uint8_t fir_sequence_ = 0;
    std::uint64_t sent_ = 0;
    std::uint64_t suppressed_ = 0;
};

}  // namespace rollcall::sfu
