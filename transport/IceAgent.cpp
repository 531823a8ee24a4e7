#include "transport/IceAgent.hpp"

#include <nice/agent.h>

namespace rollcall::transport {

namespace {
constexpr unsigned kComponent = 1;  // rtcp-mux and BUNDLE: one component, one stream
constexpr std::size_t kMaxRemoteCandidates = 32;
}  // namespace

IceAgent::IceAgent(GMainContext* context, std::vector<std::string> local_addresses, Listener& listener)
    : context_(context), local_addresses_(std::move(local_addresses)), listener_(listener) {}

IceAgent::~IceAgent() { close(); }

bool IceAgent::start(bool controlling) {
    if (agent_) return false;
    // RFC 7675 consent freshness is off in libnice unless asked for.
    agent_ = nice_agent_new_full(context_, NICE_COMPATIBILITY_RFC5245,
                                 static_cast<NiceAgentOption>(NICE_AGENT_OPTION_CONSENT_FRESHNESS | NICE_AGENT_OPTION_ICE_TRICKLE));
    if (!agent_) return false;
    g_object_set(agent_, "controlling-mode", controlling ? TRUE : FALSE, "ice-tcp", FALSE, "upnp", FALSE,
                 "keepalive-conncheck", TRUE, nullptr);
    int added = 0;
    for (const std::string& text : local_addresses_) {
        NiceAddress address;
        nice_address_init(&address);
        if (nice_address_set_from_string(&address, text.c_str()) && nice_agent_add_local_address(agent_, &address)) ++added;
    }
    if (added == 0) return false;
    stream_ = nice_agent_add_stream(agent_, 1);
    if (stream_ == 0) return false;
    nice_agent_set_stream_name(agent_, stream_, "application");
    g_signal_connect(agent_, "new-candidate-full", G_CALLBACK(&IceAgent::on_candidate), this);
    g_signal_connect(agent_, "component-state-changed", G_CALLBACK(&IceAgent::on_state_changed), this);
    nice_agent_attach_recv(agent_, stream_, kComponent, context_, reinterpret_cast<NiceAgentRecvFunc>(&IceAgent::on_receive), this);
    if (!nice_agent_gather_candidates(agent_, stream_)) return false;
    read_credentials();
    return true;
}

void IceAgent::read_credentials() {
    gchar* ufrag = nullptr;
    gchar* pwd = nullptr;
    if (nice_agent_get_local_credentials(agent_, stream_, &ufrag, &pwd)) {
        local_ufrag_ = ufrag;
        local_pwd_ = pwd;
    }
    g_free(ufrag);
    g_free(pwd);
}

void IceAgent::on_candidate(NiceAgent* agent, void* candidate, void* self_ptr) {
    auto* self = static_cast<IceAgent*>(self_ptr);
    auto* nice_candidate = static_cast<NiceCandidate*>(candidate);
    gchar* line = nice_agent_generate_local_candidate_sdp(agent, nice_candidate);
    if (!line) return;
    std::string_view text(line);
    if (text.starts_with("a=")) text.remove_prefix(2);
    auto parsed = parse_candidate(text);
    g_free(line);
    if (!parsed) return;
    self->local_candidates_.push_back(*parsed);
    self->listener_.on_ice_candidate(*parsed);
}

void IceAgent::on_state_changed(NiceAgent*, unsigned, unsigned, unsigned state, void* self_ptr) {
    auto* self = static_cast<IceAgent*>(self_ptr);
    IceState next = self->state_;
    switch (static_cast<NiceComponentState>(state)) {
        case NICE_COMPONENT_STATE_CONNECTING: next = IceState::checking; break;
        case NICE_COMPONENT_STATE_CONNECTED:
        case NICE_COMPONENT_STATE_READY: next = IceState::connected; break;
        case NICE_COMPONENT_STATE_FAILED: next = IceState::failed; break;
        default: return;
    }
    if (next == self->state_) return;
    self->state_ = next;
    self->listener_.on_ice_state(next);
}

void IceAgent::on_receive(NiceAgent*, unsigned, unsigned, unsigned length, char* data, void* self_ptr) {
    auto* self = static_cast<IceAgent*>(self_ptr);
    if (self->state_ == IceState::closed) return;
    self->listener_.on_ice_data(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data), length));
}

bool IceAgent::set_remote_credentials(const std::string& ufrag, const std::string& pwd) {
    // RFC 8839 §5.4: ufrag 4..256 and pwd 22..256 ice-chars.
    if (!agent_ || ufrag.size() < 4 || ufrag.size() > 256 || pwd.size() < 22 || pwd.size() > 256) return false;
    return nice_agent_set_remote_credentials(agent_, stream_, ufrag.c_str(), pwd.c_str());
}

bool IceAgent::add_remote_candidate(const SdpCandidate& candidate) {
    if (!agent_ || candidate.transport != "udp" || candidate.component != kComponent) return false;
    if (remote_candidates_ >= kMaxRemoteCandidates) return false;
    NiceAddress address;
    nice_address_init(&address);
    if (!nice_address_set_from_string(&address, candidate.address.c_str())) return false;  // e.g. mDNS names
    NiceCandidateType type = NICE_CANDIDATE_TYPE_HOST;
    if (candidate.type == "srflx") type = NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE;
    else if (candidate.type == "prflx") type = NICE_CANDIDATE_TYPE_PEER_REFLEXIVE;
    else if (candidate.type == "relay") type = NICE_CANDIDATE_TYPE_RELAYED;
    NiceCandidate* nice = nice_candidate_new(type);
    nice->stream_id = stream_;
    nice->component_id = kComponent;
    nice->transport = NICE_CANDIDATE_TRANSPORT_UDP;
    nice->priority = candidate.priority;
    nice->addr = address;
    nice_address_set_port(&nice->addr, candidate.port);
    g_strlcpy(nice->foundation, candidate.foundation.c_str(), NICE_CANDIDATE_MAX_FOUNDATION);
    GSList* list = g_slist_append(nullptr, nice);
    const int added = nice_agent_set_remote_candidates(agent_, stream_, kComponent, list);
    g_slist_free_full(list, reinterpret_cast<GDestroyNotify>(&nice_candidate_free));
    if (added == 1) ++remote_candidates_;
    return added == 1;
}

bool IceAgent::send(std::span<const std::uint8_t> datagram) {
    if (!agent_ || state_ != IceState::connected) return false;
    return nice_agent_send(agent_, stream_, kComponent, static_cast<guint>(datagram.size()),
                           reinterpret_cast<const gchar*>(datagram.data())) >= 0;
}

bool IceAgent::restart() {
    if (!agent_ || !nice_agent_restart_stream(agent_, stream_)) return false;
    read_credentials();
    state_ = IceState::checking;
    return true;
}

void IceAgent::close() {
    if (!agent_) return;
    state_ = IceState::closed;
    nice_agent_attach_recv(agent_, stream_, kComponent, context_, nullptr, nullptr);
    g_signal_handlers_disconnect_by_data(agent_, this);
    nice_agent_remove_stream(agent_, stream_);
    g_object_unref(agent_);
    agent_ = nullptr;
}

std::optional<std::string> IceAgent::selected_remote() const {
    NiceCandidate* local = nullptr;
    NiceCandidate* remote = nullptr;
    if (!agent_ || !nice_agent_get_selected_pair(agent_, stream_, kComponent, &local, &remote) || !remote) return std::nullopt;
    char text[NICE_ADDRESS_STRING_LEN];
    nice_address_to_string(&remote->addr, text);
    return std::string(text) + ":" + std::to_string(nice_address_get_port(&remote->addr));
}

std::string_view to_string(IceState state) noexcept {
    switch (state) {
        case IceState::idle: return "new";
        case IceState::checking: return "checking";
        case IceState::connected: return "connected";
        case IceState::failed: return "failed";
        case IceState::closed: return "closed";
    }
    return "closed";
}

}  // namespace rollcall::transport
