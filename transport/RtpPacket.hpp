#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace rollcall::transport {

// A view of one RTP packet (RFC 3550 §5.1) with its header extensions (RFC 8285), over a
// buffer the caller owns. Parsing checks every announced length; setters rewrite in place.
class RtpPacket {
  public:
    static std::optional<RtpPacket> parse(std::span<std::uint8_t> data) noexcept;

    bool marker() const noexcept { return (data_[1] & 0x80) != 0; }
    std::uint8_t payload_type() const noexcept { return data_[1] & 0x7f; }
    std::uint16_t sequence() const noexcept;
    std::uint32_t timestamp() const noexcept;
    std::uint32_t ssrc() const noexcept;
    std::uint8_t csrc_count() const noexcept { return data_[0] & 0x0f; }
    std::uint32_t csrc(std::size_t index) const noexcept;

    std::size_t header_size() const noexcept { return header_size_; }
    std::size_t padding_size() const noexcept { return padding_size_; }
    std::span<const std::uint8_t> payload() const noexcept {
        return data_.subspan(header_size_, payload_size_);
    }
    std::span<std::uint8_t> bytes() const noexcept { return data_; }

    bool has_extensions() const noexcept { return extension_size_ > 0 || extension_profile_ != 0; }
    std::uint16_t extension_profile() const noexcept { return extension_profile_; }
    // The element with `id` in a one-byte (0xBEDE) or two-byte (0x100x) block, or nullopt.
    std::optional<std::span<const std::uint8_t>> extension(std::uint8_t id) const noexcept;

    void set_payload_type(std::uint8_t pt) noexcept {
        data_[1] = static_cast<std::uint8_t>((data_[1] & 0x80) | (pt & 0x7f));
    }
    void set_marker(bool marker) noexcept {
        data_[1] = static_cast<std::uint8_t>((data_[1] & 0x7f) | (marker ? 0x80 : 0));
    }
    void set_sequence(std::uint16_t sequence) noexcept;
    void set_timestamp(std::uint32_t timestamp) noexcept;
    void set_ssrc(std::uint32_t ssrc) noexcept;
    // Removes the header extension block in place (payload moves up, X bit cleared); returns
    // the shortened packet. This object describes the old layout afterwards: parse again.
    std::span<std::uint8_t> strip_extensions() noexcept;

  private:
    explicit RtpPacket(std::span<std::uint8_t> data) : data_(data) {}

    std::span<std::uint8_t> data_;
    std::size_t header_size_ = 12;
    std::size_t payload_size_ = 0;
    std::size_t padding_size_ = 0;
    std::size_t extension_offset_ = 0;  // first byte of the extension elements
    std::size_t extension_size_ = 0;
    std::uint16_t extension_profile_ = 0;
};

}  // namespace rollcall::transport
