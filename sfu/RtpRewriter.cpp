#include "sfu/RtpRewriter.hpp"

namespace rollcall::sfu {

std::optional<RtpRewriter::Output> RtpRewriter::rewrite(std::uint32_t ssrc, std::uint16_t sequence,
                                                        std::uint32_t timestamp,
                                                        Clock::time_point now) noexcept {
    if (anchored_ && ssrc != input_ssrc_) anchored_ = false;  // a new upstream SSRC: re-anchor
    if (!anchored_) {
        input_ssrc_ = ssrc;
        first_input_sequence_ = sequence;
        if (!sent_any_) {
            // The first packet ever: keep upstream numbering, only the SSRC changes.
            sequence_offset_ = 0;
            timestamp_offset_ = 0;
        } else {
            // Continue one after the last sequence sent, and advance the timestamp by the
            // wall-clock time since then (at least one tick), so players neither stall nor jump.
            const auto elapsed =
                std::chrono::duration_cast<std::chrono::microseconds>(now - last_sent_).count();
            const std::uint64_t ticks =
                elapsed > 0 ? static_cast<std::uint64_t>(elapsed) * clock_rate_ / 1'000'000 : 0;
            const std::uint32_t next_timestamp =
                last_timestamp_ + static_cast<std::uint32_t>(ticks > 0 ? ticks : 1);
            sequence_offset_ = static_cast<std::uint16_t>(last_sequence_ + 1 - sequence);
            timestamp_offset_ = next_timestamp - timestamp;
        }
        anchored_ = true;
    } else if (seq_newer(first_input_sequence_, sequence)) {
        return std::nullopt;  // late packet from before the anchor: its number is taken
    }
    Output out{output_ssrc_, static_cast<std::uint16_t>(sequence + sequence_offset_),
               timestamp + timestamp_offset_};
    if (!sent_any_ || seq_newer(out.sequence, last_sequence_)) {
        last_sequence_ = out.sequence;
        last_timestamp_ = out.timestamp;
        last_sent_ = now;
    }
    sent_any_ = true;
    return out;
}

std::optional<std::uint16_t> RtpRewriter::input_sequence(
    std::uint16_t output_sequence) const noexcept {
    if (!anchored_) return std::nullopt;
    const auto input = static_cast<std::uint16_t>(output_sequence - sequence_offset_);
    if (seq_newer(first_input_sequence_, input)) return std::nullopt;  // before the current stretch
    return input;
}

}  // namespace rollcall::sfu
