#include "transport/SctpAssociation.hpp"

#include <arpa/inet.h>
#include <usrsctp.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "transport/MainLoop.hpp"

namespace rollcall::transport {

namespace {

using SteadyClock = std::chrono::steady_clock;

// What a usrsctp callback leaves for the association's owner.
struct SctpEvent {
    enum class Kind : std::uint8_t { packet, data, notification };
    Kind kind = Kind::packet;
    std::vector<std::uint8_t> bytes;
    std::uint16_t stream = 0;
    std::uint32_t ppid = 0;
    bool end_of_record = true;
};

// Beyond this much waiting in one mailbox, further events are dropped (SCTP retransmits).
constexpr std::size_t kMailboxLimit = 2 * 1024 * 1024;
constexpr auto kTickInterval = std::chrono::milliseconds(10);

}  // namespace

// usrsctp calls back on whichever thread called into it: the owner, while it feeds a packet
// or sends, or any worker driving the timers. Callbacks only leave events here; the owner
// takes them on its own thread (drain), woken through its context when the callback ran
// elsewhere or outside one of its own calls.
struct SctpAssociation::Mailbox {
    std::mutex mutex;
    std::vector<SctpEvent> events;
    std::size_t bytes = 0;
    bool wake_posted = false;
    // Owner-thread only.
    GMainContext* context = nullptr;
    std::thread::id owner;
    SctpAssociation* association = nullptr;
    bool in_call = false;  // the owner is inside usrsctp and drains when it returns
};

namespace {

// The process's usrsctp: initialized once, threadless; the table from the number usrsctp
// knows an association by (its AF_CONN address and ulp_info) to that association's mailbox.
class SctpStack {
  public:
    static SctpStack& get() {
        static SctpStack stack;
        return stack;
    }

    std::uint64_t add(std::shared_ptr<SctpAssociation::Mailbox> mailbox) {
        std::lock_guard lock(mutex_);
        const std::uint64_t id = next_id_++;
        table_.emplace(id, std::move(mailbox));
        return id;
    }
    void remove(std::uint64_t id) {
        std::lock_guard lock(mutex_);
        table_.erase(id);
    }
    std::shared_ptr<SctpAssociation::Mailbox> find(std::uint64_t id) {
        std::lock_guard lock(mutex_);
        auto it = table_.find(id);
        return it == table_.end() ? nullptr : it->second;
    }

    // Advances usrsctp's clock by the time since the last tick of any thread.
    void tick() {
        std::lock_guard lock(timer_mutex_);
        const auto now = SteadyClock::now();
        const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_);
        if (elapsed < kTickInterval) return;
        last_ += elapsed;
        usrsctp_handle_timers(static_cast<std::uint32_t>(elapsed.count()));
    }

  private:
    SctpStack() {
        usrsctp_init_nothreads(0, &SctpStack::output, nullptr);
        usrsctp_sysctl_set_sctp_ecn_enable(0);
        usrsctp_sysctl_set_sctp_asconf_enable(0);
        usrsctp_sysctl_set_sctp_delayed_sack_time_default(100);
        usrsctp_sysctl_set_sctp_enable_sack_immediately(1);
        last_ = SteadyClock::now();
    }

    static int output(void* address, void* buffer, std::size_t length, std::uint8_t, std::uint8_t);

    std::mutex mutex_;
    std::unordered_map<std::uint64_t, std::shared_ptr<SctpAssociation::Mailbox>> table_;
    std::uint64_t next_id_ = 1;
    std::mutex timer_mutex_;
    SteadyClock::time_point last_;
};

gboolean wake_owner(gpointer data);

void wake(GMainContext* context, std::uint64_t id) {
    g_main_context_invoke_full(context, G_PRIORITY_DEFAULT, &wake_owner, new std::uint64_t(id),
                               [](gpointer p) { delete static_cast<std::uint64_t*>(p); });
}

void post(std::uint64_t id, SctpEvent event) {
    auto mailbox = SctpStack::get().find(id);
    if (!mailbox) return;  // the association is gone: a late retransmission or ABORT
    bool notify = false;
    {
        std::lock_guard lock(mailbox->mutex);
        if (mailbox->bytes + event.bytes.size() > kMailboxLimit) return;
        mailbox->bytes += event.bytes.size();
        mailbox->events.push_back(std::move(event));
        const bool owner_will_drain =
            std::this_thread::get_id() == mailbox->owner && mailbox->in_call;
        if (!owner_will_drain && !mailbox->wake_posted) {
            mailbox->wake_posted = true;
            notify = true;
        }
    }
    if (notify) wake(mailbox->context, id);
}

int SctpStack::output(void* address, void* buffer, std::size_t length, std::uint8_t, std::uint8_t) {
    const auto id = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(address));
    SctpEvent event;
    event.kind = SctpEvent::Kind::packet;
    const auto* bytes = static_cast<const std::uint8_t*>(buffer);
    event.bytes.assign(bytes, bytes + length);
    post(id, std::move(event));
    return 0;
}

int receive_callback(struct ::socket*, union sctp_sockstore, void* data, std::size_t length,
                     struct sctp_rcvinfo info, int flags, void* ulp_info) {
    if (!data) return 1;
    const auto id = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(ulp_info));
    SctpEvent event;
    event.kind = (flags & MSG_NOTIFICATION) ? SctpEvent::Kind::notification : SctpEvent::Kind::data;
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    event.bytes.assign(bytes, bytes + length);
    event.stream = info.rcv_sid;
    event.ppid = ntohl(info.rcv_ppid);
    event.end_of_record = (flags & MSG_EOR) != 0;
    std::free(data);
    post(id, std::move(event));
    return 1;
}

// One GLib timer per thread that owns associations drives usrsctp's clock.
struct Ticker {
    GlibTimer timer;
    std::size_t users = 0;
};
thread_local Ticker t_ticker;

void acquire_ticker(GMainContext* context) {
    if (t_ticker.users++ == 0)
        t_ticker.timer.start(context, kTickInterval, [] {
            SctpStack::get().tick();
            return true;
        });
}
void release_ticker() {
    if (--t_ticker.users == 0) t_ticker.timer.cancel();
}

// Marks the owner as inside usrsctp for the scope: callbacks on its thread wait for drain().
class InCall {
  public:
    explicit InCall(SctpAssociation::Mailbox& mailbox) : mailbox_(mailbox) {
        mailbox_.in_call = true;
    }
    ~InCall() { mailbox_.in_call = false; }
    InCall(const InCall&) = delete;
    InCall& operator=(const InCall&) = delete;

  private:
    SctpAssociation::Mailbox& mailbox_;
};

template <typename T>
bool set_option(struct ::socket* socket, int level, int name, const T& value) {
    return usrsctp_setsockopt(socket, level, name, &value, sizeof(value)) == 0;
}

sockaddr_conn conn_address(std::uint64_t id, std::uint16_t port) {
    sockaddr_conn address{};
    address.sconn_family = AF_CONN;
    address.sconn_port = htons(port);
    address.sconn_addr = reinterpret_cast<void*>(static_cast<std::uintptr_t>(id));
    return address;
}

}  // namespace

namespace {
gboolean wake_owner(gpointer data) {
    const std::uint64_t id = *static_cast<std::uint64_t*>(data);
    auto mailbox = SctpStack::get().find(id);
    if (mailbox && mailbox->association) mailbox->association->receive({});
    return G_SOURCE_REMOVE;
}
}  // namespace

void SctpAssociation::skip_incoming_checksums() {
    SctpStack::get();
    usrsctp_enable_crc32c_offload();
}

SctpAssociation::SctpAssociation(GMainContext* context, Listener& listener, SctpOptions options,
                                 bool dtls_client)
    : context_(context),
      listener_(listener),
      options_(options),
      dtls_client_(dtls_client),
      mailbox_(std::make_shared<Mailbox>()) {
    mailbox_->context = context;
    mailbox_->owner = std::this_thread::get_id();
    mailbox_->association = this;
    id_ = SctpStack::get().add(mailbox_);
    usrsctp_register_address(reinterpret_cast<void*>(static_cast<std::uintptr_t>(id_)));
    acquire_ticker(context_);
    socket_ = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, &receive_callback, nullptr, 0,
                             reinterpret_cast<void*>(static_cast<std::uintptr_t>(id_)));
    if (!socket_) {
        state_ = SctpState::failed;
        return;
    }
    usrsctp_set_non_blocking(socket_, 1);
    bool ok = set_option(socket_, SOL_SOCKET, SO_LINGER, linger{1, 0}) &&  // close: ABORT
              set_option(socket_, IPPROTO_SCTP, SCTP_NODELAY, 1) &&
              set_option(socket_, IPPROTO_SCTP, SCTP_RECVRCVINFO, 1) &&
              set_option(socket_, SOL_SOCKET, SO_SNDBUF, static_cast<int>(options_.send_buffer)) &&
              set_option(socket_, SOL_SOCKET, SO_RCVBUF, static_cast<int>(options_.receive_buffer));
    sctp_assoc_value reset{};
    reset.assoc_id = SCTP_ALL_ASSOC;
    reset.assoc_value = SCTP_ENABLE_RESET_STREAM_REQ;
    ok = ok && set_option(socket_, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, reset);
    sctp_initmsg init{};
    init.sinit_num_ostreams = 1024;
    init.sinit_max_instreams = 1024;
    ok = ok && set_option(socket_, IPPROTO_SCTP, SCTP_INITMSG, init);
    for (const std::uint16_t type :
         {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT, SCTP_PARTIAL_DELIVERY_EVENT}) {
        sctp_event event{};
        event.se_assoc_id = SCTP_ALL_ASSOC;
        event.se_on = 1;
        event.se_type = type;
        ok = ok && set_option(socket_, IPPROTO_SCTP, SCTP_EVENT, event);
    }
    sockaddr_conn local = conn_address(id_, options_.port);
    ok = ok && usrsctp_bind(socket_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) == 0;
    if (!ok) state_ = SctpState::failed;
}

SctpAssociation::~SctpAssociation() {
    mailbox_->association = nullptr;
    if (socket_) {
        InCall call(*mailbox_);
        usrsctp_close(socket_);
    }
    usrsctp_deregister_address(reinterpret_cast<void*>(static_cast<std::uintptr_t>(id_)));
    SctpStack::get().remove(id_);
    release_ticker();
}

void SctpAssociation::connect() {
    if (state_ != SctpState::idle || !socket_) return;
    state_ = SctpState::connecting;
    sockaddr_conn remote = conn_address(id_, options_.remote_port);
    {
        InCall call(*mailbox_);
        const int result =
            usrsctp_connect(socket_, reinterpret_cast<sockaddr*>(&remote), sizeof(remote));
        if (result < 0 && errno != EINPROGRESS) {
            set_state(SctpState::failed);
            return;
        }
        // Chromium's and Firefox's path MTU for SCTP over DTLS over UDP: fixed, no discovery.
        sctp_paddrparams params{};
        std::memcpy(&params.spp_address, &remote, sizeof(remote));
        params.spp_flags = SPP_PMTUD_DISABLE;
        params.spp_pathmtu = 1200;
        set_option(socket_, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, params);
    }
    drain();
}

void SctpAssociation::receive(std::span<const std::uint8_t> packet) {
    if (socket_ && !packet.empty() && packet.size() <= 64 * 1024) {
        InCall call(*mailbox_);
        usrsctp_conninput(reinterpret_cast<void*>(static_cast<std::uintptr_t>(id_)), packet.data(),
                          packet.size(), 0);
    }
    drain();
}

void SctpAssociation::drain() {
    if (draining_) return;  // the outer drain picks up what this call added
    draining_ = true;
    for (int round = 0; round < 64; ++round) {
        std::vector<SctpEvent> events;
        {
            std::lock_guard lock(mailbox_->mutex);
            events.swap(mailbox_->events);
            mailbox_->bytes = 0;
            mailbox_->wake_posted = false;
        }
        if (events.empty()) break;
        for (SctpEvent& event : events) {
            switch (event.kind) {
                case SctpEvent::Kind::packet:
                    listener_.on_sctp_packet(event.bytes);
                    break;
                case SctpEvent::Kind::notification:
                    handle_notification(event.bytes);
                    break;
                case SctpEvent::Kind::data: {
                    if (!partial_.contains(event.stream) &&
                        partial_.size() >= options_.max_channels + 1) {
                        break;  // pieces on too many streams at once: dropped
                    }
                    Partial& partial = partial_[event.stream];
                    if (!partial.discarding &&
                        partial.bytes.size() + event.bytes.size() > options_.max_message_size) {
                        partial.discarding = true;
                        listener_.on_message_refused(
                            event.stream, partial.bytes.size() + event.bytes.size(), "too_big");
                    }
                    if (!partial.discarding)
                        partial.bytes.insert(partial.bytes.end(), event.bytes.begin(),
                                             event.bytes.end());
                    if (event.end_of_record) {
                        auto done = partial_.extract(event.stream);
                        if (!done.mapped().discarding)
                            handle_message(event.stream, event.ppid, done.mapped().bytes);
                    }
                    break;
                }
            }
        }
    }
    draining_ = false;
    // What is still waiting after 64 rounds (a burst) is taken on the loop's next turn.
    bool more = false;
    {
        std::lock_guard lock(mailbox_->mutex);
        more = !mailbox_->events.empty() && !mailbox_->wake_posted;
        if (more) mailbox_->wake_posted = true;
    }
    if (more) wake(context_, id_);
}

void SctpAssociation::set_state(SctpState state) {
    if (state_ == state) return;
    state_ = state;
    listener_.on_sctp_state(state);
}

void SctpAssociation::handle_notification(std::span<const std::uint8_t> data) {
    using Header = decltype(sctp_notification::sn_header);
    if (data.size() < sizeof(Header)) return;
    Header header{};
    std::memcpy(&header, data.data(), sizeof(header));
    if (header.sn_length > data.size()) return;
    if (header.sn_type == SCTP_ASSOC_CHANGE && data.size() >= sizeof(sctp_assoc_change)) {
        sctp_assoc_change change{};
        std::memcpy(&change, data.data(), sizeof(change));
        if (change.sac_state == SCTP_COMM_UP)
            set_state(SctpState::connected);
        else if (change.sac_state == SCTP_SHUTDOWN_COMP)
            set_state(SctpState::closed);
        else if (change.sac_state == SCTP_COMM_LOST || change.sac_state == SCTP_CANT_STR_ASSOC)
            set_state(SctpState::failed);
    } else if (header.sn_type == SCTP_STREAM_RESET_EVENT &&
               data.size() >= sizeof(sctp_stream_reset_event)) {
        sctp_stream_reset_event reset{};
        std::memcpy(&reset, data.data(), sizeof(reset));
        if (reset.strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) return;
        const std::size_t count =
            (std::min<std::size_t>(reset.strreset_length, data.size()) - sizeof(reset)) / 2;
        for (std::size_t i = 0; i < count; ++i) {
            std::uint16_t stream = 0;
            std::memcpy(&stream, data.data() + sizeof(reset) + 2 * i, 2);
            auto it = channels_.find(stream);
            if (it == channels_.end()) continue;
            // The peer closed its side: close ours (RFC 8831 §6.7), then the channel is gone.
            if (reset.strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) reset_stream(stream);
            channels_.erase(it);
            partial_.erase(stream);
            listener_.on_channel_closed(stream);
        }
    } else if (header.sn_type == SCTP_PARTIAL_DELIVERY_EVENT) {
        partial_.clear();  // an aborted partial delivery: nothing of it is delivered
    }
}

void SctpAssociation::handle_message(std::uint16_t stream, std::uint32_t ppid,
                                     std::span<const std::uint8_t> message) {
    if (ppid == static_cast<std::uint32_t>(DataPpid::dcep)) {
        handle_dcep(stream, message);
        return;
    }
    auto it = channels_.find(stream);
    const bool known_ppid = ppid == static_cast<std::uint32_t>(DataPpid::string) ||
                            ppid == static_cast<std::uint32_t>(DataPpid::binary) ||
                            ppid == static_cast<std::uint32_t>(DataPpid::string_empty) ||
                            ppid == static_cast<std::uint32_t>(DataPpid::binary_empty);
    if (it == channels_.end() || !known_ppid) {
        listener_.on_message_refused(stream, message.size(),
                                     it == channels_.end() ? "no_channel" : "unknown_ppid");
        return;
    }
    const bool binary = ppid == static_cast<std::uint32_t>(DataPpid::binary) ||
                        ppid == static_cast<std::uint32_t>(DataPpid::binary_empty);
    const bool empty = ppid == static_cast<std::uint32_t>(DataPpid::string_empty) ||
                       ppid == static_cast<std::uint32_t>(DataPpid::binary_empty);
    ++counters_.messages_received;
    listener_.on_channel_message(it->second, binary,
                                 empty ? std::span<const std::uint8_t>() : message);
}

void SctpAssociation::handle_dcep(std::uint16_t stream, std::span<const std::uint8_t> message) {
    if (is_dcep_ack(message)) {
        if (auto it = channels_.find(stream); it != channels_.end()) it->second.open_acked = true;
        return;
    }
    std::string error;
    auto open = parse_dcep_open(message, error);
    // RFC 8832 §6 gives each DTLS role its stream parity so both ends can open channels
    // without colliding; aiortc uses the opposite parity to browsers. The peer's choice is
    // taken as is: rollcall only answers, and opens its own channels only where none is.
    if (!open || channels_.contains(stream) || channels_.size() >= options_.max_channels) {
        ++counters_.channels_refused;
        listener_.on_message_refused(stream, message.size(),
                                     !open                        ? "malformed_dcep"
                                     : channels_.contains(stream) ? "stream_in_use"
                                                                  : "too_many_channels");
        if (!channels_.contains(stream)) reset_stream(stream);
        return;
    }
    DataChannel& channel = channels_[stream];
    channel.stream = stream;
    channel.open = std::move(*open);
    channel.open_acked = true;
    const auto ack = write_dcep_ack();
    send_raw(stream, static_cast<std::uint32_t>(DataPpid::dcep), DataChannelOpen{}, ack);
    listener_.on_channel_open(channel);
}

bool SctpAssociation::open_channel(std::uint16_t stream, const DataChannelOpen& open) {
    // Our own parity (RFC 8832 §6): even streams for the DTLS client.
    const bool own_parity = (stream % 2 == 0) == dtls_client_;
    if (state_ != SctpState::connected || !own_parity || channels_.contains(stream)) return false;
    const auto message = write_dcep_open(open);
    if (!send_raw(stream, static_cast<std::uint32_t>(DataPpid::dcep), DataChannelOpen{}, message))
        return false;
    DataChannel& channel = channels_[stream];
    channel.stream = stream;
    channel.open = open;
    return true;
}

SendResult SctpAssociation::send(std::uint16_t stream, bool binary,
                                 std::span<const std::uint8_t> message) {
    if (state_ != SctpState::connected) return SendResult::closed;
    auto it = channels_.find(stream);
    if (it == channels_.end()) return SendResult::no_channel;
    if (message.size() > options_.remote_max_message_size) return SendResult::too_big;
    static constexpr std::uint8_t kEmpty[1] = {0};
    DataPpid ppid = binary ? DataPpid::binary : DataPpid::string;
    if (message.empty()) {
        ppid = binary ? DataPpid::binary_empty : DataPpid::string_empty;
        message = kEmpty;  // RFC 8831 §6.6: empty messages carry one byte
    }
    errno = 0;
    if (send_raw(stream, static_cast<std::uint32_t>(ppid), it->second.open, message)) {
        ++counters_.messages_sent;
        return SendResult::sent;
    }
    return errno == EWOULDBLOCK || errno == EAGAIN || errno == ENOBUFS ? SendResult::would_block
                                                                       : SendResult::closed;
}

bool SctpAssociation::send_raw(std::uint16_t stream, std::uint32_t ppid, const DataChannelOpen& how,
                               std::span<const std::uint8_t> data) {
    if (!socket_) return false;
    sctp_sendv_spa spa{};
    spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
    spa.sendv_sndinfo.snd_sid = stream;
    spa.sendv_sndinfo.snd_ppid = htonl(ppid);
    spa.sendv_sndinfo.snd_flags = SCTP_EOR;
    // DCEP itself always goes reliably and in order (RFC 8832 §6).
    if (ppid != static_cast<std::uint32_t>(DataPpid::dcep)) {
        if (!how.ordered()) spa.sendv_sndinfo.snd_flags |= SCTP_UNORDERED;
        const auto type = static_cast<std::uint8_t>(how.type) & 0x7f;
        if (type != 0) {
            spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
            spa.sendv_prinfo.pr_policy = type == 0x01 ? SCTP_PR_SCTP_RTX : SCTP_PR_SCTP_TTL;
            spa.sendv_prinfo.pr_value = how.reliability_parameter;
        }
    }
    ssize_t sent = 0;
    {
        InCall call(*mailbox_);
        sent = usrsctp_sendv(socket_, data.data(), data.size(), nullptr, 0, &spa, sizeof(spa),
                             SCTP_SENDV_SPA, 0);
    }
    const int saved = errno;
    drain();
    errno = saved;
    return sent == static_cast<ssize_t>(data.size());
}

void SctpAssociation::reset_stream(std::uint16_t stream) {
    if (!socket_ || state_ != SctpState::connected) return;
    std::vector<std::uint8_t> buffer(sizeof(sctp_reset_streams) + sizeof(std::uint16_t));
    auto* reset = reinterpret_cast<sctp_reset_streams*>(buffer.data());
    reset->srs_assoc_id = SCTP_ALL_ASSOC;
    reset->srs_flags = SCTP_STREAM_RESET_OUTGOING;
    reset->srs_number_streams = 1;
    std::memcpy(buffer.data() + sizeof(sctp_reset_streams), &stream, sizeof(stream));
    InCall call(*mailbox_);
    usrsctp_setsockopt(socket_, IPPROTO_SCTP, SCTP_RESET_STREAMS, buffer.data(),
                       static_cast<socklen_t>(buffer.size()));
}

void SctpAssociation::close_channel(std::uint16_t stream) {
    if (!channels_.contains(stream)) return;
    reset_stream(stream);
    drain();
}

void SctpAssociation::close() {
    if (!socket_) return;
    {
        InCall call(*mailbox_);
        usrsctp_close(socket_);  // SO_LINGER 0: an ABORT
    }
    socket_ = nullptr;
    drain();
    channels_.clear();
    partial_.clear();
    if (state_ != SctpState::failed) set_state(SctpState::closed);
}

}  // namespace rollcall::transport
