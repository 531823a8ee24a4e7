// SCTP packets through a connected association (as usrsctp's own fuzzers do): each input is
// one packet to the server end, with the common header's ports and verification tag set to
// the live association's (bytes 0..7) and checksums not checked (DTLS authenticates them in
// rollcall), so the fuzzer reaches the chunk parsers, DCEP and the channel code. Whatever
// arrives must leave the association usable or cleanly ended, and never crash.
//
// ROLLCALL_SCTP_SEEDS=<dir>: also write the client's packets of an honest session (handshake,
// a channel opened, messages) into <dir> as seeds.
#include <glib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "transport/SctpAssociation.hpp"

namespace {

using namespace rollcall::transport;

struct End : SctpAssociation::Listener {
    std::deque<std::vector<std::uint8_t>>* outbox = nullptr;
    std::vector<std::vector<std::uint8_t>>* record = nullptr;
    std::size_t messages = 0;
    void on_sctp_packet(std::span<const std::uint8_t> packet) override {
        outbox->emplace_back(packet.begin(), packet.end());
        if (record) record->emplace_back(packet.begin(), packet.end());
    }
    void on_sctp_state(SctpState) override {}
    void on_channel_open(const DataChannel&) override {}
    void on_channel_message(const DataChannel&, bool, std::span<const std::uint8_t> m) override {
        messages += m.size();
    }
    void on_channel_closed(std::uint16_t) override {}
};

struct Pair {
    std::deque<std::vector<std::uint8_t>> to_client, to_server;
    End client_end, server_end;
    std::unique_ptr<SctpAssociation> client, server;
    std::uint8_t header[8] = {};  // the server's expected ports and verification tag

    explicit Pair(GMainContext* context, std::vector<std::vector<std::uint8_t>>* seeds) {
        client_end.outbox = &to_server;
        server_end.outbox = &to_client;
        client_end.record = seeds;
        SctpOptions options;
        options.max_message_size = 4096;
        client = std::make_unique<SctpAssociation>(context, client_end, options, true);
        server = std::make_unique<SctpAssociation>(context, server_end, options, false);
        client->connect();
        server->connect();
        pump();
        DataChannelOpen open;
        open.label = "chat";
        client->open_channel(0, open);
        open.type = DataChannelType::partial_reliable_rexmit_unordered;
        open.label = "lossy";
        client->open_channel(2, open);
        pump();
        const std::string hello = R"({"type":"chat","text":"hello"})";
        client->send(0, false, {reinterpret_cast<const std::uint8_t*>(hello.data()), hello.size()});
        client->send(2, true, {reinterpret_cast<const std::uint8_t*>(hello.data()), 3});
        // What the server sends carries, in its common header, the tag the client expects;
        // what the client sends, the server's: take it from the client's last packet.
        pump(&header);
    }

    void pump(std::uint8_t (*capture)[8] = nullptr) {
        for (int round = 0; round < 100 && (!to_client.empty() || !to_server.empty()); ++round) {
            while (!to_server.empty()) {
                auto packet = std::move(to_server.front());
                to_server.pop_front();
                if (capture && packet.size() >= 8) std::copy_n(packet.begin(), 8, *capture);
                server->receive(packet);
            }
            while (!to_client.empty()) {
                auto packet = std::move(to_client.front());
                to_client.pop_front();
                client->receive(packet);
            }
        }
    }
};

GMainContext* g_context = nullptr;
std::unique_ptr<Pair> g_pair;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    SctpAssociation::skip_incoming_checksums();
    g_context = g_main_context_new();
    if (const char* dir = std::getenv("ROLLCALL_SCTP_SEEDS")) {
        std::vector<std::vector<std::uint8_t>> seeds;
        Pair honest(g_context, &seeds);
        for (std::size_t i = 0; i < seeds.size(); ++i) {
            std::ofstream out(std::string(dir) + "/seed-" + std::to_string(i), std::ios::binary);
            out.write(reinterpret_cast<const char*>(seeds[i].data()),
                      static_cast<std::streamsize>(seeds[i].size()));
        }
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (!g_pair || g_pair->server->state() != SctpState::connected)
        g_pair = std::make_unique<Pair>(g_context, nullptr);
    std::vector<std::uint8_t> packet(data, data + size);
    if (packet.size() >= 8) std::copy_n(g_pair->header, 8, packet.begin());
    g_pair->server->receive(packet);
    g_pair->pump();
    // Timers (retransmissions, delayed SACKs) run on the context.
    while (g_main_context_iteration(g_context, FALSE)) {
    }
    return 0;
}
