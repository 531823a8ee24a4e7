#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace rollcall::sfu {

// The last `capacity` packets of one RTP stream, by sequence number, for answering NACKs
// (RFC 4585 §6.2.1). Slots are allocated once: storing a packet copies it, never allocates.
class PacketCache {
  public:
    static constexpr std::size_t kMaxPacket = 1500;

    explicit PacketCache(std::size_t capacity = 512);

    // Stores a plain RTP packet; packets larger than kMaxPacket are not kept.
    void store(std::uint16_t sequence, std::span<const std::uint8_t> packet) noexcept;
    // The packet with exactly this sequence number, if still held.
    std::optional<std::span<const std::uint8_t>> find(std::uint16_t sequence) const noexcept;
    void clear() noexcept;

  private:
    struct Slot {
        bool used = false;
        std::uint16_t sequence = 0;
        std::uint16_t size = 0;
        std::array<std::uint8_t, kMaxPacket> bytes;
    };
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
