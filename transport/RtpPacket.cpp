#include "transport/RtpPacket.hpp"

#include <cstring>

#include "transport/ByteOrder.hpp"

namespace rollcall::transport {

namespace {
constexpr std::uint16_t kOneByteProfile = 0xBEDE;      // RFC 8285 §4.2
constexpr std::uint16_t kTwoByteProfileMask = 0xFFF0;  // RFC 8285 §4.3: 0x100 then 4 app bits
constexpr std::uint16_t kTwoByteProfile = 0x1000;
}  // namespace

std::optional<RtpPacket> RtpPacket::parse(std::span<std::uint8_t> data) noexcept {
    if (data.size() < 12) return std::nullopt;
    if ((data[0] >> 6) != 2) return std::nullopt;  // version 2
    RtpPacket packet(data);
    std::size_t offset = 12 + 4 * std::size_t{packet.csrc_count()};
    if (offset > data.size()) return std::nullopt;  // not enough space for the announced CSRC list
    if (data[0] & 0x10) {
        if (offset + 4 > data.size()) return std::nullopt;
        packet.extension_profile_ = load_u16(&data[offset]);
        const std::size_t length = 4 * std::size_t{load_u16(&data[offset + 2])};
        offset += 4;
        if (offset + length > data.size()) return std::nullopt;
        packet.extension_offset_ = offset;
        packet.extension_size_ = length;
        offset += length;
    }
    packet.header_size_ = offset;
    std::size_t payload_end = data.size();
    if (data[0] & 0x20) {
        const std::uint8_t padding = data.back();
        if (padding == 0 || padding > payload_end - offset) return std::nullopt;
        packet.padding_size_ = padding;
        payload_end -= padding;
    }
    packet.payload_size_ = payload_end - offset;
    return packet;
}

std::uint16_t RtpPacket::sequence() const noexcept {
    return load_u16(&data_[2]);
}
std::uint32_t RtpPacket::timestamp() const noexcept {
    return load_u32(&data_[4]);
}
std::uint32_t RtpPacket::ssrc() const noexcept {
    return load_u32(&data_[8]);
}
std::uint32_t RtpPacket::csrc(std::size_t index) const noexcept {
    return index < csrc_count() ? load_u32(&data_[12 + 4 * index]) : 0;
}
void RtpPacket::set_sequence(std::uint16_t sequence) noexcept {
    store_u16(&data_[2], sequence);
}
void RtpPacket::set_timestamp(std::uint32_t timestamp) noexcept {
    store_u32(&data_[4], timestamp);
}
void RtpPacket::set_ssrc(std::uint32_t ssrc) noexcept {
    store_u32(&data_[8], ssrc);
}

std::span<std::uint8_t> RtpPacket::strip_extensions() noexcept {
    if (!(data_[0] & 0x10)) return data_;
    const std::size_t fixed = 12 + 4 * std::size_t{csrc_count()};
    const std::size_t rest = data_.size() - header_size_;  // payload and padding
    std::memmove(data_.data() + fixed, data_.data() + header_size_, rest);
    data_[0] = static_cast<std::uint8_t>(data_[0] & ~0x10);
    return data_.first(fixed + rest);
}

std::optional<std::span<const std::uint8_t>> RtpPacket::extension(std::uint8_t id) const noexcept {
    if (extension_size_ == 0 || id == 0) return std::nullopt;
    const std::uint8_t* p = data_.data() + extension_offset_;
    const std::uint8_t* end = p + extension_size_;
    if (extension_profile_ == kOneByteProfile) {
        while (p < end) {
            const std::uint8_t element_id = *p >> 4;
            if (element_id == 0) {  // padding byte
                ++p;
                continue;
            }
            if (element_id == 15) break;  // reserved: stop parsing (RFC 8285 §4.2)
            const std::size_t length = static_cast<std::size_t>(*p & 0x0f) + 1;
            if (p + 1 + length > end) return std::nullopt;
            if (element_id == id) return std::span<const std::uint8_t>(p + 1, length);
            p += 1 + length;
        }
    } else if ((extension_profile_ & kTwoByteProfileMask) == kTwoByteProfile) {
        while (p < end) {
            const std::uint8_t element_id = *p;
            if (element_id == 0) {
                ++p;
                continue;
            }
            if (p + 2 > end) return std::nullopt;
            const std::size_t length = p[1];
            if (p + 2 + length > end) return std::nullopt;
            if (element_id == id) return std::span<const std::uint8_t>(p + 2, length);
            p += 2 + length;
        }
    }
    return std::nullopt;
}

}  // namespace rollcall::transport
