#include "sfu/RtpRewriter.hpp"

namespace rollcall::sfu {

std::optional<RtpRewriter::Output> RtpRewriter::rewrite(std::uint32_t ssrc, std::uint16_t sequence,
                                                        std::uint32_t timestamp,
                                                        Clock::time_point now) noexcept {
    if (anchored_ && ssrc != input_ssrc_) anchored_ = false;  // a new upstream SSRC: re-anchor
    if (!anchored_) {
        input_ssrc_ = ssrc;
        std::uint16_t sequence_offset = 0;
        if (!sent_any_) {
            // The first packet ever: keep upstream numbering, only the SSRC changes.
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
            sequence_offset = static_cast<std::uint16_t>(last_sequence_ + 1 - sequence);
            timestamp_offset_ = next_timestamp - timestamp;
        }
        stretches_[0] = {sequence, sequence_offset};
        first_ = 0;
        count_ = 1;
        highest_input_ = sequence;
        anchored_ = true;
    }
    auto offset = offset_for(sequence);
    if (!offset) return std::nullopt;  // late packet from before the anchor: its number is taken
    if (seq_newer(sequence, highest_input_)) highest_input_ = sequence;
    Output out{output_ssrc_, static_cast<std::uint16_t>(sequence + *offset),
               timestamp + timestamp_offset_};
    if (!sent_any_ || seq_newer(out.sequence, last_sequence_)) {
        last_sequence_ = out.sequence;
        last_timestamp_ = out.timestamp;
        last_sent_ = now;
    }
    sent_any_ = true;
    return out;
}

void RtpRewriter::skip(std::uint16_t sequence) noexcept {
    if (!anchored_ || !seq_newer(sequence, highest_input_)) return;
    highest_input_ = sequence;
    const auto next = static_cast<std::uint16_t>(sequence + 1);
    const auto offset = static_cast<std::uint16_t>(newest().offset - 1);
    Stretch& last = stretches_[(first_ + count_ - 1) % kStretches];
    if (last.input_start == sequence && count_ > 1) {
        last = {next, offset};  // a run of skipped packets: one stretch
        return;
    }
    if (count_ == kStretches) {
        first_ = (first_ + 1) % kStretches;  // the oldest is forgotten
        --count_;
    }
    stretches_[(first_ + count_) % kStretches] = {next, offset};
    ++count_;
}

std::optional<std::uint16_t> RtpRewriter::offset_for(std::uint16_t input) const noexcept {
    for (std::size_t age = 0; age < count_; ++age) {
        const Stretch& s = stretch(age);
        if (!seq_newer(s.input_start, input)) return s.offset;
    }
    return std::nullopt;
}

std::optional<std::uint16_t> RtpRewriter::input_sequence(
    std::uint16_t output_sequence) const noexcept {
    if (!anchored_) return std::nullopt;
    for (std::size_t age = 0; age < count_; ++age) {
        const Stretch& s = stretch(age);
        const auto input = static_cast<std::uint16_t>(output_sequence - s.offset);
        if (seq_newer(s.input_start, input)) continue;  // before this stretch
        if (age > 0 && !seq_newer(stretch(age - 1).input_start, input)) continue;  // in a later one
        return input;
    }
    return std::nullopt;
}

}  // namespace rollcall::sfu
