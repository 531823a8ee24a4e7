#pragma once
// Two SctpAssociations joined in memory (no DTLS, no sockets), for unit tests.
#include <glib.h>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "transport/SctpAssociation.hpp"

namespace rollcall::transport::test {

// One end of an in-memory link: what it sends is queued for the other end, and what it
// receives is recorded.
struct End : SctpAssociation::Listener {
    std::deque<std::vector<std::uint8_t>>* outbox = nullptr;
    bool deliver = true;  // false: the link drops this end's packets (a peer gone silent)
    std::vector<SctpState> states;
    std::vector<DataChannel> opened;
    std::vector<std::pair<std::uint16_t, std::string>> messages;
    std::vector<bool> binary;
    std::vector<std::uint16_t> closed;
    std::vector<std::string> refused;

    void on_sctp_packet(std::span<const std::uint8_t> packet) override {
        if (deliver) outbox->emplace_back(packet.begin(), packet.end());
    }
    void on_sctp_state(SctpState state) override { states.push_back(state); }
    void on_channel_open(const DataChannel& channel) override { opened.push_back(channel); }
    void on_channel_message(const DataChannel& channel, bool is_binary,
                            std::span<const std::uint8_t> message) override {
        messages.emplace_back(channel.stream, std::string(message.begin(), message.end()));
        binary.push_back(is_binary);
    }
    void on_channel_closed(std::uint16_t stream) override { closed.push_back(stream); }
    void on_message_refused(std::uint16_t, std::size_t, std::string_view why) override {
        refused.emplace_back(why);
    }
};

inline std::span<const std::uint8_t> bytes(const std::string& text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// A client (DTLS client) and a server association on one context, packets moved by pump().
struct SctpLink {
    std::deque<std::vector<std::uint8_t>> to_client, to_server;
    End client_end, server_end;
    std::unique_ptr<SctpAssociation> client, server;

    SctpLink(GMainContext* context, const SctpOptions& options) {
        client_end.outbox = &to_server;
        server_end.outbox = &to_client;
        client = std::make_unique<SctpAssociation>(context, client_end, options, true);
        server = std::make_unique<SctpAssociation>(context, server_end, options, false);
    }

    // Moves packets both ways until nothing is in flight (bounded).
    void pump() {
        for (int round = 0; round < 1000 && (!to_client.empty() || !to_server.empty()); ++round) {
            if (!to_server.empty()) {
                auto packet = std::move(to_server.front());
                to_server.pop_front();
                server->receive(packet);
            }
            if (!to_client.empty()) {
                auto packet = std::move(to_client.front());
                to_client.pop_front();
                client->receive(packet);
            }
        }
    }

    // Connects and opens `label` from the client on stream 0; false if that did not happen.
    bool open(const std::string& label) {
        client->connect();
        server->connect();
        pump();
        DataChannelOpen how;
        how.label = label;
        if (!client->open_channel(0, how)) return false;
        pump();
        return server->channels().contains(0) && client->channels().at(0).open_acked;
    }
};

}  // namespace rollcall::transport::test
