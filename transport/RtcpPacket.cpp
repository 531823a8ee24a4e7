#include "transport/RtcpPacket.hpp"

#include <algorithm>

#include "transport/ByteOrder.hpp"

namespace rollcall::transport {

namespace {

constexpr std::uint8_t kFmtNack = 1;
constexpr std::uint8_t kFmtTransportCc = 15;
constexpr std::uint8_t kFmtPli = 1;
constexpr std::uint8_t kFmtFir = 4;
constexpr std::uint8_t kFmtAfb = 15;
constexpr std::uint8_t kSdesCname = 1;

std::optional<std::vector<ReportBlock>> report_blocks(std::span<const std::uint8_t> data,
                                                      std::size_t count) {
    if (data.size() < 24 * count) return std::nullopt;
    std::vector<ReportBlock> blocks(count);
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint8_t* p = data.data() + 24 * i;
        ReportBlock& b = blocks[i];
        b.ssrc = load_u32(p);
        b.fraction_lost = p[4];
        const std::uint32_t lost = load_u24(p + 5);
        b.cumulative_lost = (lost & 0x800000) ? static_cast<std::int32_t>(lost | 0xff000000)
                                              : static_cast<std::int32_t>(lost);
        b.highest_sequence = load_u32(p + 8);
        b.jitter = load_u32(p + 12);
        b.last_sr = load_u32(p + 16);
        b.delay_since_last_sr = load_u32(p + 20);
    }
    return blocks;
}

}  // namespace

std::optional<RtcpCompound> RtcpCompound::parse(std::span<const std::uint8_t> data) noexcept {
    RtcpCompound compound;
    if (data.size() < 4) return std::nullopt;
    while (!data.empty()) {
        if (data.size() < 4 || (data[0] >> 6) != 2) return std::nullopt;
        const std::size_t length = 4 * (std::size_t{load_u16(&data[2])} + 1);
        if (length > data.size() || compound.count_ == kMaxPackets) return std::nullopt;
        const bool padded = (data[0] & 0x20) != 0;
        std::size_t body_end = length;
        if (padded) {
            // RFC 3550 §6.4.1: only the last packet of a compound may be padded.
            if (length != data.size()) return std::nullopt;
            const std::uint8_t padding = data[length - 1];
            if (padding == 0 || padding > length - 4) return std::nullopt;
            body_end -= padding;
        }
        const std::uint8_t type = data[1];
        if (type < 192 || type > 223) return std::nullopt;  // RFC 5761 §4 RTCP range
        RtcpHeader& header = compound.packets_[compound.count_++];
        header.count = data[0] & 0x1f;
        header.type = type;
        header.packet = data.subspan(0, length);
        header.body = data.subspan(4, body_end - 4);
        data = data.subspan(length);
    }
    return compound;
}

std::optional<SenderReport> parse_sender_report(const RtcpHeader& h) {
    if (h.type != static_cast<std::uint8_t>(RtcpType::sender_report) || h.body.size() < 24)
        return std::nullopt;
    SenderReport sr;
    const std::uint8_t* p = h.body.data();
    sr.ssrc = load_u32(p);
    sr.ntp_time = load_u64(p + 4);
    sr.rtp_time = load_u32(p + 12);
    sr.packet_count = load_u32(p + 16);
    sr.octet_count = load_u32(p + 20);
    auto blocks = report_blocks(h.body.subspan(24), h.count);
    if (!blocks) return std::nullopt;
    sr.reports = std::move(*blocks);
    return sr;
}

std::optional<ReceiverReport> parse_receiver_report(const RtcpHeader& h) {
    if (h.type != static_cast<std::uint8_t>(RtcpType::receiver_report) || h.body.size() < 4)
        return std::nullopt;
    ReceiverReport rr;
    rr.ssrc = load_u32(h.body.data());
    auto blocks = report_blocks(h.body.subspan(4), h.count);
    if (!blocks) return std::nullopt;
    rr.reports = std::move(*blocks);
    return rr;
}

std::optional<std::vector<SdesChunk>> parse_sdes(const RtcpHeader& h) {
    if (h.type != static_cast<std::uint8_t>(RtcpType::sdes)) return std::nullopt;
    std::vector<SdesChunk> chunks;
    std::span<const std::uint8_t> data = h.body;
    for (std::size_t i = 0; i < h.count; ++i) {
        if (data.size() < 4) return std::nullopt;
        SdesChunk chunk;
        chunk.ssrc = load_u32(data.data());
        std::size_t offset = 4;
        // Items until a null item; the chunk then pads to a 32-bit boundary (RFC 3550 §6.5).
        while (true) {
            if (offset >= data.size()) return std::nullopt;
            const std::uint8_t item = data[offset];
            if (item == 0) break;
            if (offset + 2 > data.size()) return std::nullopt;
            const std::size_t length = data[offset + 1];
            if (offset + 2 + length > data.size()) return std::nullopt;
            if (item == kSdesCname) chunk.cname = data.subspan(offset + 2, length);
            offset += 2 + length;
        }
        offset = (offset + 4) & ~std::size_t{3};
        if (offset > data.size()) return std::nullopt;
        data = data.subspan(offset);
        chunks.push_back(chunk);
    }
    return chunks;
}

std::optional<Bye> parse_bye(const RtcpHeader& h) {
    if (h.type != static_cast<std::uint8_t>(RtcpType::bye) ||
        h.body.size() < 4 * std::size_t{h.count})
        return std::nullopt;
    Bye bye;
    for (std::size_t i = 0; i < h.count; ++i) bye.ssrcs.push_back(load_u32(h.body.data() + 4 * i));
    const auto rest = h.body.subspan(4 * std::size_t{h.count});
    if (!rest.empty()) {
        const std::size_t length = rest[0];
        if (1 + length > rest.size()) return std::nullopt;
        bye.reason = rest.subspan(1, length);
    }
    return bye;
}

std::optional<FeedbackHeader> parse_feedback(const RtcpHeader& h) noexcept {
    const bool feedback = h.type == static_cast<std::uint8_t>(RtcpType::rtp_feedback) ||
                          h.type == static_cast<std::uint8_t>(RtcpType::payload_feedback);
    if (!feedback || h.body.size() < 8) return std::nullopt;
    return FeedbackHeader{load_u32(h.body.data()), load_u32(h.body.data() + 4), h.body.subspan(8)};
}

namespace {
bool is_feedback(const RtcpHeader& h, RtcpType type, std::uint8_t fmt) noexcept {
    return h.type == static_cast<std::uint8_t>(type) && h.count == fmt && h.body.size() >= 8;
}
}  // namespace

bool is_pli(const RtcpHeader& h) noexcept {
    return is_feedback(h, RtcpType::payload_feedback, kFmtPli);
}
bool is_fir(const RtcpHeader& h) noexcept {
    return is_feedback(h, RtcpType::payload_feedback, kFmtFir);
}
bool is_nack(const RtcpHeader& h) noexcept {
    return is_feedback(h, RtcpType::rtp_feedback, kFmtNack);
}
bool is_transport_cc(const RtcpHeader& h) noexcept {
    return is_feedback(h, RtcpType::rtp_feedback, kFmtTransportCc);
}
bool is_application_feedback(const RtcpHeader& h) noexcept {
    return is_feedback(h, RtcpType::payload_feedback, kFmtAfb);
}

std::optional<std::vector<NackItem>> parse_nack(const FeedbackHeader& f) {
    if (f.fci.empty() || f.fci.size() % 4 != 0) return std::nullopt;
    std::vector<NackItem> items(f.fci.size() / 4);
    for (std::size_t i = 0; i < items.size(); ++i) {
        items[i].packet_id = load_u16(f.fci.data() + 4 * i);
        items[i].lost_bitmask = load_u16(f.fci.data() + 4 * i + 2);
    }
    return items;
}

std::optional<std::vector<FirEntry>> parse_fir(const FeedbackHeader& f) {
    if (f.fci.empty() || f.fci.size() % 8 != 0) return std::nullopt;
    std::vector<FirEntry> entries(f.fci.size() / 8);
    for (std::size_t i = 0; i < entries.size(); ++i) {
        entries[i].ssrc = load_u32(f.fci.data() + 8 * i);
        entries[i].sequence = f.fci[8 * i + 4];
    }
    return entries;
}

std::optional<Remb> parse_remb(const FeedbackHeader& f) {
    // draft-alvestrand-rmcat-remb: "REMB", num SSRC, BR exp (6 bits), mantissa (18 bits), SSRCs.
    if (f.fci.size() < 8 || f.fci[0] != 'R' || f.fci[1] != 'E' || f.fci[2] != 'M' ||
        f.fci[3] != 'B')
        return std::nullopt;
    const std::size_t count = f.fci[4];
    if (f.fci.size() < 8 + 4 * count) return std::nullopt;
    const std::uint8_t exponent = f.fci[5] >> 2;
    const std::uint32_t mantissa =
        (std::uint32_t{f.fci[5] & 0x03u} << 16) | load_u16(f.fci.data() + 6);
    Remb remb;
    remb.bitrate_bps = exponent > 46 ? UINT64_MAX : std::uint64_t{mantissa} << exponent;
    for (std::size_t i = 0; i < count; ++i)
        remb.ssrcs.push_back(load_u32(f.fci.data() + 8 + 4 * i));
    return remb;
}

std::array<std::uint8_t, 12> write_pli(std::uint32_t sender_ssrc,
                                       std::uint32_t media_ssrc) noexcept {
    std::array<std::uint8_t, 12> out{0x80 | kFmtPli, 206, 0, 2};
    store_u32(&out[4], sender_ssrc);
    store_u32(&out[8], media_ssrc);
    return out;
}

std::array<std::uint8_t, 20> write_fir(std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                                       std::uint8_t sequence) noexcept {
    // RFC 5104 §4.3.1: the media source field is 0; the FCI names the SSRC.
    std::array<std::uint8_t, 20> out{0x80 | kFmtFir, 206, 0, 4};
    store_u32(&out[4], sender_ssrc);
    store_u32(&out[12], media_ssrc);
    out[16] = sequence;
    return out;
}

std::array<std::uint8_t, 28> write_sender_report(const SenderReport& report) noexcept {
    std::array<std::uint8_t, 28> out{0x80, 200, 0, 6};
    store_u32(&out[4], report.ssrc);
    store_u32(&out[8], static_cast<std::uint32_t>(report.ntp_time >> 32));
    store_u32(&out[12], static_cast<std::uint32_t>(report.ntp_time));
    store_u32(&out[16], report.rtp_time);
    store_u32(&out[20], report.packet_count);
    store_u32(&out[24], report.octet_count);
    return out;
}

std::size_t write_receiver_report(std::uint32_t sender_ssrc, std::span<const ReportBlock> blocks,
                                  std::span<std::uint8_t> out) noexcept {
    if (blocks.size() > 31) return 0;
    const std::size_t size = 8 + 24 * blocks.size();
    if (out.size() < size) return 0;
    out[0] = static_cast<std::uint8_t>(0x80 | blocks.size());
    out[1] = 201;
    store_u16(&out[2], static_cast<std::uint16_t>(size / 4 - 1));
    store_u32(&out[4], sender_ssrc);
    std::uint8_t* p = out.data() + 8;
    for (const ReportBlock& b : blocks) {
        store_u32(p, b.ssrc);
        const auto lost =
            static_cast<std::uint32_t>(std::clamp(b.cumulative_lost, -0x800000, 0x7fffff)) &
            0xffffff;
        store_u32(p + 4, (static_cast<std::uint32_t>(b.fraction_lost) << 24) | lost);
        store_u32(p + 8, b.highest_sequence);
        store_u32(p + 12, b.jitter);
        store_u32(p + 16, b.last_sr);
        store_u32(p + 20, b.delay_since_last_sr);
        p += 24;
    }
    return size;
}

std::vector<std::uint8_t> write_nack(std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                                     std::span<const NackItem> items) {
    std::vector<std::uint8_t> out(12 + 4 * items.size());
    out[0] = 0x80 | kFmtNack;
    out[1] = 205;
    store_u16(&out[2], static_cast<std::uint16_t>(2 + items.size()));
    store_u32(&out[4], sender_ssrc);
    store_u32(&out[8], media_ssrc);
    for (std::size_t i = 0; i < items.size(); ++i) {
        store_u16(&out[12 + 4 * i], items[i].packet_id);
        store_u16(&out[14 + 4 * i], items[i].lost_bitmask);
    }
    return out;
}

}  // namespace rollcall::transport
