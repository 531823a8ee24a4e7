#include "transport/Dcep.hpp"

#include "transport/ByteOrder.hpp"

namespace rollcall::transport {

namespace {

bool known_type(std::uint8_t type) noexcept {
    return (type & 0x7f) <= 0x02;  // reliable, by retransmissions or by lifetime; 0x80: unordered
}

}  // namespace

std::optional<DataChannelOpen> parse_dcep_open(std::span<const std::uint8_t> message,
                                               std::string& error) {
    // RFC 8832 §5.1: type, channel type, priority (16), reliability (32), label length (16),
    // protocol length (16), label, protocol.
    constexpr std::size_t kHeader = 12;
    if (message.size() < kHeader || message[0] != kDcepOpen) {
        error = "not a DATA_CHANNEL_OPEN";
        return std::nullopt;
    }
    if (!known_type(message[1])) {
        error = "unknown channel type";
        return std::nullopt;
    }
    const std::size_t label_length = load_u16(&message[8]);
    const std::size_t protocol_length = load_u16(&message[10]);
    if (label_length > kMaxDcepString || protocol_length > kMaxDcepString) {
        error = "label or protocol longer than 256 bytes";
        return std::nullopt;
    }
    if (message.size() != kHeader + label_length + protocol_length) {
        error = "label and protocol lengths do not match the message";
        return std::nullopt;
    }
    DataChannelOpen open;
    open.type = static_cast<DataChannelType>(message[1]);
    open.priority = load_u16(&message[2]);
    open.reliability_parameter = load_u32(&message[4]);
    const auto* text = reinterpret_cast<const char*>(message.data() + kHeader);
    open.label.assign(text, label_length);
    open.protocol.assign(text + label_length, protocol_length);
    if (open.reliable()) open.reliability_parameter = 0;  // ignored for reliable channels
    return open;
}

bool is_dcep_ack(std::span<const std::uint8_t> message) noexcept {
    return message.size() == 1 && message[0] == kDcepAck;
}

std::vector<std::uint8_t> write_dcep_open(const DataChannelOpen& open) {
    std::vector<std::uint8_t> out(12 + open.label.size() + open.protocol.size());
    out[0] = kDcepOpen;
    out[1] = static_cast<std::uint8_t>(open.type);
    store_u16(&out[2], open.priority);
    store_u32(&out[4], open.reliability_parameter);
    store_u16(&out[8], static_cast<std::uint16_t>(open.label.size()));
    store_u16(&out[10], static_cast<std::uint16_t>(open.protocol.size()));
    std::copy(open.label.begin(), open.label.end(), out.begin() + 12);
    std::copy(open.protocol.begin(), open.protocol.end(),
              out.begin() + 12 + static_cast<long>(open.label.size()));
    return out;
}

}  // namespace rollcall::transport
