#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sfu/MediaTruth.hpp"
#include "transport/SctpAssociation.hpp"

namespace rollcall::sfu {

// What a participant's token lets it do with the room's data (signaling decides; the media
// plane enforces): send needs canPublishData, receive needs canSubscribe.
struct DataAccess {
    std::string identity;  // stamped on everything it sends
    bool send = false;
    bool receive = false;
};

// One participant's data association, as the relay sees the room.
struct DataEndpoint {
    SessionId session = 0;
    const DataAccess* access = nullptr;
    transport::SctpAssociation* association = nullptr;
};

// Room data (docs/protocol.md, Data channels): each message a participant sends on a channel
// goes to every other participant that may receive and has a channel of the same label, or
// only to the identities in its "to". The server stamps the sender: a text message must be a
// JSON object, delivered with "from" (the sender's identity, whatever it wrote) and "ts"
// (server time, ms) set and "to" removed; a binary message is delivered behind one byte of
// identity length and the identity. Each sender has a budget of messages and bytes; a
// receiver that cannot keep up loses messages on unreliable channels and, on reliable ones,
// its data association (bounded by the association's send buffer, never more).
class DataRelay {
  public:
    static constexpr double kMessagesPerSecond = 50;
    static constexpr double kMessageBurst = 100;
    static constexpr double kBytesPerSecond = 128 * 1024;
    static constexpr double kByteBurst = 256 * 1024;
    static constexpr std::size_t kMaxRecipients = 32;

    // A receiver whose association was closed because it did not keep up.
    struct Closed {
        SessionId session = 0;
        std::string reason;
    };

    void relay(const DataEndpoint& sender, const transport::DataChannel& channel, bool binary,
               std::span<const std::uint8_t> message, const std::vector<DataEndpoint>& room);
    // A message the association itself refused (too big, no channel): the sender is told.
    void refused(const DataEndpoint& sender, std::uint16_t stream, std::string_view why);
    void forget(SessionId session) { senders_.erase(session); }
    std::vector<Closed> take_closed() { return std::move(closed_); }

  private:
    struct Sender {
        double messages = kMessageBurst;
        double bytes = kByteBurst;
        Clock::time_point refilled{};
        Clock::time_point last_error{};
    };
    bool spend(Sender& sender, std::size_t bytes, Clock::time_point now);
    // Tells the sender why a message was dropped, on the channel it used, at most once a second.
    void tell(const DataEndpoint& sender, std::uint16_t stream, std::string_view code,
              std::string_view message);
    void deliver(const DataEndpoint& to, const transport::DataChannel& channel, bool binary,
                 std::span<const std::uint8_t> bytes);

    std::unordered_map<SessionId, Sender> senders_;
    std::vector<Closed> closed_;
};

// Roll call's view of a data association.
DataFact data_fact(TransportId transport, SessionId session, PeerRole role,
                   const transport::SctpAssociation& association, const DataAccess& access);

}  // namespace rollcall::sfu
