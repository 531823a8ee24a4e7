// DTLS after the handshake: arbitrary datagrams to a connected server transport. The record
// check in front of OpenSSL and the drain behind it must never crash, and never leave input
// buffered between datagrams.
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <span>
#include <vector>

#include "transport/DtlsTransport.hpp"

namespace {

using namespace rollcall::transport;

struct End : DtlsTransport::Listener {
    std::deque<std::vector<std::uint8_t>> outbox;
    void on_dtls_send(std::span<const std::uint8_t> d) override {
        outbox.emplace_back(d.begin(), d.end());
    }
    void on_dtls_connected(const DtlsKeys&) override {}
    void on_dtls_failed(std::string_view) override {}
    void on_dtls_closed() override {}
};

struct Pair {
    std::shared_ptr<const DtlsIdentity> client_id = DtlsIdentity::generate();
    std::shared_ptr<const DtlsIdentity> server_id = DtlsIdentity::generate();
    End client_end, server_end;
    DtlsTransport client{client_id, client_end};
    DtlsTransport server{server_id, server_end};

    // A fresh connected pair.
    Pair() {
        client.set_remote_fingerprint(server_id->fingerprint());
        server.set_remote_fingerprint(client_id->fingerprint());
        server.start(DtlsRole::server);
        client.start(DtlsRole::client);
        for (int round = 0; round < 50; ++round) {
            for (; !client_end.outbox.empty(); client_end.outbox.pop_front())
                server.receive(client_end.outbox.front());
            for (; !server_end.outbox.empty(); server_end.outbox.pop_front())
                client.receive(server_end.outbox.front());
        }
        if (server.state() != DtlsState::connected) std::abort();
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static auto pair = std::make_unique<Pair>();
    if (pair->server.state() != DtlsState::connected)
        pair = std::make_unique<Pair>();  // closed by an alert
    (void)dtls_record_count(std::span<const std::uint8_t>(data, size));
    pair->server.receive(std::span<const std::uint8_t>(data, size));
    if (pair->server.buffered() != 0) std::abort();
    pair->server_end.outbox.clear();
    return 0;
}
