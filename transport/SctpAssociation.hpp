#pragma once

#include <glib.h>

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "transport/Dcep.hpp"

struct socket;  // usrsctp's

namespace rollcall::transport {

struct SctpOptions {
    std::uint16_t port = 5000;         // our a=sctp-port (RFC 8841)
    std::uint16_t remote_port = 5000;  // the peer's
    // The largest message rollcall accepts (our a=max-message-size) and the peer's.
    std::size_t max_message_size = 16 * 1024;
    std::size_t remote_max_message_size = 64 * 1024;  // RFC 8841 §6.1: 64 KB when absent
    // What usrsctp may hold for this association, each way: the bound on a slow receiver.
    std::uint32_t send_buffer = 256 * 1024;
    std::uint32_t receive_buffer = 256 * 1024;
    std::size_t max_channels = 16;
};

enum class SctpState : std::uint8_t { idle, connecting, connected, closed, failed };

struct DataChannel {
    std::uint16_t stream = 0;
    DataChannelOpen open;  // label, protocol, reliability
    bool open_acked = false;
};

enum class SendResult : std::uint8_t {
    sent,
    no_channel,   // no open channel on that stream
    too_big,      // beyond the peer's max-message-size
    would_block,  // the send buffer is full: the receiver is not keeping up
    closed,       // the association is not connected
};

struct SctpCounters {
    std::uint64_t messages_received = 0;
    std::uint64_t messages_sent = 0;
    std::uint64_t channels_refused = 0;  // malformed DCEP, a stream in use, beyond max_channels
};

// One SCTP association (RFC 8261) over a DTLS transport, with the data channels the peer
// opens on it (RFC 8831, 8832). usrsctp runs without its own threads: packets come in
// through receive(), go out through the listener, and its timers are driven by a GLib timer
// on the owning context (docs/design.md, Data channels). usrsctp knows the association only
// by a number looked up in a table, never by a pointer into this object.
// Single-threaded: the owning context's.
class SctpAssociation {
  public:
    class Listener {
      public:
        virtual ~Listener() = default;
        // An SCTP packet for the DTLS transport.
        virtual void on_sctp_packet(std::span<const std::uint8_t> packet) = 0;
        virtual void on_sctp_state(SctpState state) = 0;
        virtual void on_channel_open(const DataChannel& channel) = 0;
        // A whole message on an open channel (empty for PPIDs 56/57).
        virtual void on_channel_message(const DataChannel& channel, bool binary,
                                        std::span<const std::uint8_t> message) = 0;
        virtual void on_channel_closed(std::uint16_t stream) = 0;
        // A message that was not delivered, and why ("too_big", "no_channel", ...).
        virtual void on_message_refused(std::uint16_t /*stream*/, std::size_t /*size*/,
                                        std::string_view /*why*/) {}
    };

    // `dtls_client`: this end is the DTLS client, so the peer opens channels on odd streams
    // (RFC 8832 §6); otherwise on even ones.
    SctpAssociation(GMainContext* context, Listener& listener, SctpOptions options,
                    bool dtls_client);
    ~SctpAssociation();
    SctpAssociation(const SctpAssociation&) = delete;
    SctpAssociation& operator=(const SctpAssociation&) = delete;

    // Sends INIT; both ends do (simultaneous open is how WebRTC starts SCTP).
    void connect();
    // A packet the DTLS transport decrypted.
    void receive(std::span<const std::uint8_t> packet);
    SendResult send(std::uint16_t stream, bool binary, std::span<const std::uint8_t> message);
    // Opens a channel from this end (the stream must have this end's parity).
    bool open_channel(std::uint16_t stream, const DataChannelOpen& open);
    // Resets the channel's streams (RFC 8831 §6.7).
    void close_channel(std::uint16_t stream);
    // Ends the association with an ABORT carrying no user data.
    void close();

    SctpState state() const noexcept { return state_; }
    const std::map<std::uint16_t, DataChannel>& channels() const noexcept { return channels_; }
    const SctpCounters& counters() const noexcept { return counters_; }
    std::uint64_t id() const noexcept { return id_; }

    // For fuzzing: skip the CRC32c check of incoming packets (DTLS authenticates them anyway).
    static void skip_incoming_checksums();

    struct Mailbox;  // what usrsctp's callbacks leave for the owner (SctpAssociation.cpp)

  private:
    void drain();
    void handle_notification(std::span<const std::uint8_t> data);
    void handle_message(std::uint16_t stream, std::uint32_t ppid,
                        std::span<const std::uint8_t> message);
    void handle_dcep(std::uint16_t stream, std::span<const std::uint8_t> message);
    void set_state(SctpState state);
    bool send_raw(std::uint16_t stream, std::uint32_t ppid, const DataChannelOpen& how,
                  std::span<const std::uint8_t> data);
    void reset_stream(std::uint16_t stream);

    GMainContext* context_;
    Listener& listener_;
    SctpOptions options_;
    bool dtls_client_;
    std::uint64_t id_;
    std::shared_ptr<Mailbox> mailbox_;
    struct ::socket* socket_ = nullptr;
    SctpState state_ = SctpState::idle;
    std::map<std::uint16_t, DataChannel> channels_;
    // A message arriving in pieces (usrsctp's partial delivery), per stream, up to
    // max_message_size; `discarding` once it was refused, until its end.
    struct Partial {
        std::vector<std::uint8_t> bytes;
        bool discarding = false;
    };
    std::map<std::uint16_t, Partial> partial_;
    SctpCounters counters_;
    bool draining_ = false;
};

}  // namespace rollcall::transport
