#include "transport/TransportCc.hpp"

#include <algorithm>
#include <array>

#include "transport/ByteOrder.hpp"

namespace rollcall::transport {

namespace {

constexpr std::uint8_t kFmtTransportCc = 15;
constexpr std::size_t kHeaderSize = 20;  // RTCP header, two SSRCs, base, count, reference, count

// Packet status symbols (§3.1.1).
constexpr std::uint8_t kNotReceived = 0;
constexpr std::uint8_t kSmallDelta = 1;  // one byte, 0..63.75 ms
constexpr std::uint8_t kLargeDelta = 2;  // two bytes, signed

constexpr std::size_t kMaxRunLength = 0x1fff;

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
    const std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Round half away from zero, as the deltas are measured.
std::int64_t to_delta_steps(std::int64_t us) noexcept {
    return (us + (us < 0 ? -kTransportCcDeltaUs / 2 : kTransportCcDeltaUs / 2)) /
           kTransportCcDeltaUs;
}

// Greedy chunking: runs of 14 or more one symbol become run-length chunks; otherwise a
// one-bit vector (14 symbols) when no large delta is among them, else a two-bit one (7).
std::vector<std::uint16_t> encode_chunks(std::span<const std::uint8_t> symbols) {
    std::vector<std::uint16_t> chunks;
    std::size_t i = 0;
    while (i < symbols.size()) {
        std::size_t run = 1;
        while (i + run < symbols.size() && run < kMaxRunLength && symbols[i + run] == symbols[i])
            ++run;
        const std::size_t rest = symbols.size() - i;
        if (run >= 14 || run == rest) {
            chunks.push_back(static_cast<std::uint16_t>((symbols[i] << 13) | run));
            i += run;
            continue;
        }
        const std::size_t one_bit = std::min<std::size_t>(14, rest);
        if (std::all_of(symbols.begin() + static_cast<std::ptrdiff_t>(i),
                        symbols.begin() + static_cast<std::ptrdiff_t>(i + one_bit),
                        [](std::uint8_t s) { return s != kLargeDelta; })) {
            std::uint16_t chunk = 0x8000;
            for (std::size_t k = 0; k < one_bit; ++k)
                chunk = static_cast<std::uint16_t>(chunk | (symbols[i + k] << (13 - k)));
            chunks.push_back(chunk);
            i += one_bit;
            continue;
        }
        const std::size_t two_bit = std::min<std::size_t>(7, rest);
        std::uint16_t chunk = 0xc000;
        for (std::size_t k = 0; k < two_bit; ++k)
            chunk = static_cast<std::uint16_t>(chunk | (symbols[i + k] << (12 - 2 * k)));
        chunks.push_back(chunk);
        i += two_bit;
    }
    return chunks;
}

// Appends a chunk's symbols to `symbols`, never beyond `count`; false for a reserved symbol.
bool decode_chunk(std::uint16_t chunk, std::size_t count, std::vector<std::uint8_t>& symbols) {
    if ((chunk & 0x8000) == 0) {  // run length
        const auto symbol = static_cast<std::uint8_t>((chunk >> 13) & 0x03);
        if (symbol == 3) return false;
        const std::size_t run =
            std::min<std::size_t>(chunk & kMaxRunLength, count - symbols.size());
        symbols.insert(symbols.end(), run, symbol);
        return true;
    }
    const bool two_bit = (chunk & 0x4000) != 0;
    const std::size_t n = two_bit ? 7 : 14;
    for (std::size_t k = 0; k < n && symbols.size() < count; ++k) {
        const auto symbol = two_bit ? static_cast<std::uint8_t>((chunk >> (12 - 2 * k)) & 0x03)
                                    : static_cast<std::uint8_t>((chunk >> (13 - k)) & 0x01);
        if (symbol == 3) return false;
        symbols.push_back(symbol);
    }
    return true;
}

}  // namespace

std::optional<std::uint16_t> transport_cc_sequence(std::span<const std::uint8_t> element) noexcept {
    if (element.size() < 2) return std::nullopt;
    return load_u16(element.data());
}

std::optional<TransportCcFeedback> parse_transport_cc(const FeedbackHeader& f) {
    const std::span<const std::uint8_t> fci = f.fci;
    if (fci.size() < 8) return std::nullopt;
    TransportCcFeedback out;
    out.base_sequence = load_u16(fci.data());
    const std::size_t count = load_u16(fci.data() + 2);
    if (count > kMaxTransportCcStatuses) return std::nullopt;
    const std::uint32_t reference = load_u24(fci.data() + 4);
    out.reference_time = (reference & 0x800000) ? static_cast<std::int32_t>(reference | 0xff000000)
                                                : static_cast<std::int32_t>(reference);
    out.feedback_count = fci[7];
    std::size_t at = 8;
    std::vector<std::uint8_t> symbols;
    symbols.reserve(count);
    while (symbols.size() < count) {
        if (at + 2 > fci.size()) return std::nullopt;
        if (!decode_chunk(load_u16(fci.data() + at), count, symbols)) return std::nullopt;
        at += 2;
    }
    out.packets.resize(count);
    std::int64_t time_us = std::int64_t{out.reference_time} * kTransportCcReferenceUs;
    for (std::size_t i = 0; i < count; ++i) {
        TransportCcPacket& packet = out.packets[i];
        packet.sequence = static_cast<std::uint16_t>(out.base_sequence + i);
        if (symbols[i] == kNotReceived) continue;
        std::int64_t steps = 0;
        if (symbols[i] == kSmallDelta) {
            if (at + 1 > fci.size()) return std::nullopt;
            steps = fci[at];
            at += 1;
        } else {
            if (at + 2 > fci.size()) return std::nullopt;
            steps = static_cast<std::int16_t>(load_u16(fci.data() + at));
            at += 2;
        }
        time_us += steps * kTransportCcDeltaUs;
        packet.received = true;
        packet.receive_us = time_us;
    }
    return out;
}

void TransportCcRecorder::on_packet(std::uint16_t sequence, std::int64_t arrival_us) {
    std::int64_t unwrapped = 0;
    if (!started_) {
        history_.assign(kHistory, Arrival{});
        unwrapped = (std::int64_t{1} << 20) + sequence;  // room below for late packets
        newest_ = next_ = unwrapped;
        started_ = true;
    } else {
        const auto step = static_cast<std::int16_t>(sequence - static_cast<std::uint16_t>(newest_));
        unwrapped = newest_ + step;
        if (unwrapped < 0 || newest_ - unwrapped >= static_cast<std::int64_t>(kHistory))
            return;  // too old to report
        if (unwrapped > newest_) {
            newest_ = unwrapped;
            // What falls out of the window unreported is left out.
            next_ = std::max(next_, newest_ - static_cast<std::int64_t>(kHistory) + 1);
        }
        // A packet reported missing has come after all: report again from it.
        next_ = std::min(next_, unwrapped);
    }
    history_[static_cast<std::size_t>(unwrapped) % kHistory] = {unwrapped, arrival_us};
}

const TransportCcRecorder::Arrival* TransportCcRecorder::find(
    std::int64_t sequence) const noexcept {
    const Arrival& slot = history_[static_cast<std::size_t>(sequence) % kHistory];
    return slot.sequence == sequence ? &slot : nullptr;
}

std::size_t TransportCcRecorder::write_feedback(std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                                                std::span<std::uint8_t> out) {
    if (!pending()) return 0;
    const Arrival* first = nullptr;
    for (std::int64_t s = next_; s <= newest_ && !first; ++s) first = find(s);
    if (!first) {  // nothing received in the window (its packets were overwritten)
        next_ = newest_ + 1;
        return 0;
    }
    const std::int64_t reference = floor_div(first->arrival_us, kTransportCcReferenceUs);
    std::int64_t time_us = reference * kTransportCcReferenceUs;
    std::vector<std::uint8_t> symbols;
    std::vector<std::uint8_t> deltas;
    std::int64_t s = next_;
    for (; s <= newest_ && symbols.size() < kMaxTransportCcStatuses; ++s) {
        const Arrival* arrival = find(s);
        std::uint8_t symbol = kNotReceived;
        std::int64_t steps = 0;
        if (arrival) {
            steps = to_delta_steps(arrival->arrival_us - time_us);
            if (steps >= 0 && steps <= 0xff)
                symbol = kSmallDelta;
            else if (steps >= INT16_MIN && steps <= INT16_MAX)
                symbol = kLargeDelta;
            else
                break;  // the next message starts here, with its own reference time
        }
        // Worst case: every symbol in a two-bit chunk of seven, then padding.
        const std::size_t chunks = (symbols.size() + 1 + 6) / 7;
        if (kHeaderSize + 2 * chunks + deltas.size() + symbol + 3 > kMaxPacketSize) break;
        symbols.push_back(symbol);
        if (symbol == kSmallDelta) deltas.push_back(static_cast<std::uint8_t>(steps));
        if (symbol == kLargeDelta) {
            deltas.push_back(static_cast<std::uint8_t>(static_cast<std::uint16_t>(steps) >> 8));
            deltas.push_back(static_cast<std::uint8_t>(steps));
        }
        time_us += steps * kTransportCcDeltaUs;
    }
    const std::vector<std::uint16_t> chunks = encode_chunks(symbols);
    const std::size_t unpadded = kHeaderSize + 2 * chunks.size() + deltas.size();
    const std::size_t padding = (4 - unpadded % 4) % 4;
    const std::size_t size = unpadded + padding;
    if (size > out.size()) return 0;
    std::uint8_t* p = out.data();
    p[0] = static_cast<std::uint8_t>(0x80 | (padding ? 0x20 : 0) | kFmtTransportCc);
    p[1] = static_cast<std::uint8_t>(RtcpType::rtp_feedback);
    store_u16(p + 2, static_cast<std::uint16_t>(size / 4 - 1));
    store_u32(p + 4, sender_ssrc);
    store_u32(p + 8, media_ssrc);
    store_u16(p + 12, static_cast<std::uint16_t>(next_));
    store_u16(p + 14, static_cast<std::uint16_t>(symbols.size()));
    const auto wire_reference = static_cast<std::uint32_t>(reference) & 0xffffff;
    p[16] = static_cast<std::uint8_t>(wire_reference >> 16);
    p[17] = static_cast<std::uint8_t>(wire_reference >> 8);
    p[18] = static_cast<std::uint8_t>(wire_reference);
    p[19] = feedback_count_++;
    std::size_t at = kHeaderSize;
    for (std::uint16_t chunk : chunks) {
        store_u16(p + at, chunk);
        at += 2;
    }
    std::copy(deltas.begin(), deltas.end(), p + at);
    at += deltas.size();
    std::fill(p + at, p + size, std::uint8_t{0});
    if (padding) p[size - 1] = static_cast<std::uint8_t>(padding);
    next_ = s;
    return size;
}

}  // namespace rollcall::transport
