#include "sfu/DataRelay.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "transport/MediaTally.hpp"

namespace rollcall::sfu {

using transport::DataDrop;
using transport::media_tally;
using transport::SendResult;

namespace {

void count_drop(DataDrop why) noexcept {
    ++media_tally().data_dropped[static_cast<std::size_t>(why)];
}

std::span<const std::uint8_t> as_bytes(const std::string& text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The recipients a text message names in "to"; empty: everyone. False when "to" is not an
// array of at most kMaxRecipients strings.
bool recipients(const nlohmann::json& message, std::vector<std::string>& out) {
    auto to = message.find("to");
    if (to == message.end()) return true;
    if (!to->is_array() || to->size() > DataRelay::kMaxRecipients) return false;
    for (const auto& identity : *to) {
        if (!identity.is_string()) return false;
        out.push_back(identity.get<std::string>());
    }
    return !out.empty();
}

}  // namespace

bool DataRelay::spend(Sender& sender, std::size_t bytes, Clock::time_point now) {
    if (sender.refilled != Clock::time_point{}) {
        const double elapsed = std::chrono::duration<double>(now - sender.refilled).count();
        sender.messages = std::min(kMessageBurst, sender.messages + elapsed * kMessagesPerSecond);
        sender.bytes = std::min(kByteBurst, sender.bytes + elapsed * kBytesPerSecond);
    }
    sender.refilled = now;
    if (sender.messages < 1 || sender.bytes < static_cast<double>(bytes)) return false;
    sender.messages -= 1;
    sender.bytes -= static_cast<double>(bytes);
    return true;
}

void DataRelay::relay(const DataEndpoint& sender, const transport::DataChannel& channel,
                      bool binary, std::span<const std::uint8_t> message,
                      const std::vector<DataEndpoint>& room) {
    const auto now = Clock::now();
    ++media_tally().data_messages_in;
    media_tally().data_bytes_in += message.size();
    if (!sender.access->send) {
        count_drop(DataDrop::not_permitted);
        tell(sender, channel.stream, "permission_denied",
             "the token does not grant canPublishData");
        return;
    }
    if (!spend(senders_[sender.session], message.size(), now)) {
        count_drop(DataDrop::rate_limited);
        tell(sender, channel.stream, "rate_limited",
             "more than 50 messages or 128 KiB a second: messages are dropped");
        return;
    }
    std::string stamped;
    std::vector<std::string> to;
    if (binary) {
        const std::string& identity = sender.access->identity;
        stamped.reserve(1 + identity.size() + message.size());
        stamped.push_back(static_cast<char>(identity.size()));
        stamped += identity;
        stamped.append(reinterpret_cast<const char*>(message.data()), message.size());
    } else {
        auto json = nlohmann::json::parse(message.begin(), message.end(), nullptr, false);
        if (json.is_discarded() || !json.is_object() || !recipients(json, to)) {
            count_drop(DataDrop::malformed);
            tell(sender, channel.stream, "malformed_message",
                 "a text message must be a JSON object; \"to\", when present, a list of 1 to 32 "
                 "identities");
            return;
        }
        json.erase("to");
        json["from"] = sender.access->identity;  // whatever the sender wrote there
        json["ts"] = unix_ms();
        stamped = json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    for (const DataEndpoint& receiver : room) {
        if (receiver.session == sender.session || !receiver.access->receive) continue;
        if (!to.empty() && std::find(to.begin(), to.end(), receiver.access->identity) == to.end())
            continue;
        deliver(receiver, channel, binary, as_bytes(stamped));
    }
}

void DataRelay::deliver(const DataEndpoint& to, const transport::DataChannel& channel, bool binary,
                        std::span<const std::uint8_t> bytes) {
    transport::SctpAssociation& association = *to.association;
    const auto& channels = association.channels();
    const auto same = std::find_if(channels.begin(), channels.end(), [&](const auto& entry) {
        return entry.second.open.label == channel.open.label;
    });
    if (same == channels.end()) return;  // it did not open that channel: it does not listen
    const SendResult result = association.send(same->first, binary, bytes);
    if (result == SendResult::sent) {
        ++media_tally().data_messages_out;
        media_tally().data_bytes_out += bytes.size();
    } else if (result == SendResult::would_block) {
        if (!same->second.open.reliable()) {
            count_drop(DataDrop::receiver_full);
            return;
        }
        // A reliable channel cannot skip a message: the receiver that stopped reading loses
        // its data association (its media stays), and is told why. The router ends it once
        // this message is through; until then nothing more is sent to it.
        ++media_tally().data_slow_receivers;
        association.close();
        closed_.push_back({to.session, "slow_receiver"});
    } else if (result == SendResult::too_big) {
        count_drop(DataDrop::too_big);
    }
}

void DataRelay::refused(const DataEndpoint& sender, std::uint16_t stream, std::string_view why) {
    if (why == "too_big") {
        count_drop(DataDrop::too_big);
        tell(sender, stream, "message_too_big", "messages are at most 16384 bytes");
    } else {
        count_drop(DataDrop::malformed);
    }
}

void DataRelay::tell(const DataEndpoint& sender, std::uint16_t stream, std::string_view code,
                     std::string_view message) {
    Sender& state = senders_[sender.session];
    const auto now = Clock::now();
    if (state.last_error != Clock::time_point{} && now - state.last_error < std::chrono::seconds(1))
        return;
    state.last_error = now;
    // No "from": only the server writes a message without one.
    const std::string text = nlohmann::json{
        {"type", "error"},
        {"code", code},
        {"message", message},
        {"ts", unix_ms()}}.dump();
    (void)sender.association->send(stream, false, as_bytes(text));
}

DataFact data_fact(TransportId transport, SessionId session, PeerRole role,
                   const transport::SctpAssociation& association, const DataAccess& access) {
    DataFact fact;
    fact.sends = access.send;
    fact.transport = transport;
    fact.session = session;
    fact.role = role;
    fact.connected = association.state() == transport::SctpState::connected;
    fact.receives = access.receive;
    for (const auto& [stream, channel] : association.channels())
        fact.channels.push_back(channel.open.label);
    fact.messages_in = association.counters().messages_received;
    fact.messages_out = association.counters().messages_sent;
    return fact;
}

}  // namespace rollcall::sfu
