#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace rollcall::sfu {

// Serial number arithmetic (RFC 1982) for RTP sequence numbers and timestamps.
inline bool seq_newer(std::uint16_t a, std::uint16_t b) noexcept {
    return a != b && static_cast<std::uint16_t>(a - b) < 0x8000;
}

// What a subscriber sees of one track: one SSRC, a sequence that never jumps back or
// leaves holes the subscriber would NACK for nothing, and timestamps that keep advancing,
// whatever happens upstream (the publisher restarts, the source changes, a pause).
// Loss upstream stays visible as the same gap downstream, so NACKs map back exactly.
// Packets the server does not forward (a sender's padding-only probes) are skipped: what
// follows moves down to close the hole, and the mapping remembers where (the last
// kStretches changes), so NACKs still find the right packet.
class RtpRewriter {
  public:
    using Clock = std::chrono::steady_clock;

    RtpRewriter(std::uint32_t output_ssrc, std::uint32_t clock_rate) noexcept
        : output_ssrc_(output_ssrc), clock_rate_(clock_rate) {}

    struct Output {
        std::uint32_t ssrc;
        std::uint16_t sequence;
        std::uint32_t timestamp;
    };

    // The rewritten header fields, or nullopt for a packet to drop (older than a switch).
    std::optional<Output> rewrite(std::uint32_t ssrc, std::uint16_t sequence,
                                  std::uint32_t timestamp, Clock::time_point now) noexcept;

    // An upstream packet that will not be forwarded. Only one newer than everything seen
    // closes its hole; a late one leaves it (the subscriber sees a loss).
    void skip(std::uint16_t sequence) noexcept;

    // The next packet starts a new upstream stretch (resume after a pause, a new publisher
    // on the same track): it continues right after what was sent last.
    void restart() noexcept { anchored_ = false; }

    // The upstream sequence number behind an output one (for NACKs), or nullopt.
    std::optional<std::uint16_t> input_sequence(std::uint16_t output_sequence) const noexcept;

    // The output timestamp of an upstream one in the current stretch (for RTX and SRs).
    std::optional<std::uint32_t> output_timestamp(std::uint32_t input_timestamp) const noexcept {
        if (!anchored_) return std::nullopt;
        return input_timestamp + timestamp_offset_;
    }

    std::uint32_t output_ssrc() const noexcept { return output_ssrc_; }

    static constexpr std::size_t kStretches = 16;

  private:
    // From `input_start` on (until the next stretch), output = input + offset.
    struct Stretch {
        std::uint16_t input_start = 0;
        std::uint16_t offset = 0;
    };
    const Stretch& newest() const noexcept {
        return stretches_[(first_ + count_ - 1) % kStretches];
    }
    const Stretch& stretch(std::size_t age) const noexcept {  // 0: the newest
        return stretches_[(first_ + count_ - 1 - age) % kStretches];
    }
    std::optional<std::uint16_t> offset_for(std::uint16_t input) const noexcept;

    std::uint32_t output_ssrc_;
    std::uint32_t clock_rate_;
    bool anchored_ = false;
    bool sent_any_ = false;
    std::uint32_t input_ssrc_ = 0;
    // Packets before the oldest stretch belong to an earlier anchor and are dropped.
    std::array<Stretch, kStretches> stretches_{};
    std::size_t first_ = 0;
    std::size_t count_ = 0;
    std::uint16_t highest_input_ = 0;
    std::uint32_t timestamp_offset_ = 0;
    std::uint16_t last_sequence_ = 0;   // highest output sequence sent
    std::uint32_t last_timestamp_ = 0;  // output timestamp of that packet
    Clock::time_point last_sent_{};
};

}  // namespace rollcall::sfu
