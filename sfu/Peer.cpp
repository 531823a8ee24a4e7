#include "sfu/Peer.hpp"

#include <atomic>

namespace rollcall::sfu {

using namespace transport;

std::string_view to_string(PeerRole role) noexcept {
    return role == PeerRole::publisher ? "publisher" : "subscriber";
}

std::string_view to_string(MediaIncident::Kind kind) noexcept {
    switch (kind) {
        case MediaIncident::Kind::fingerprint_refused:
            return "fingerprint_refused";
        case MediaIncident::Kind::path_change:
            return "path_change";
        case MediaIncident::Kind::credential_reuse:
            return "credential_reuse";
    }
    return "unknown";
}

TransportId next_transport_id() noexcept {
    static std::atomic<TransportId> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
}

TransportFact transport_fact(TransportId id, SessionId session, PeerRole role,
                             Clock::time_point since, const WebRtcTransport& transport) {
    TransportFact fact;
    fact.id = id;
    fact.session = session;
    fact.role = role;
    fact.since = since;
    fact.connected = transport.connected();
    fact.remote_address = transport.remote_address().value_or("");
    fact.signaled = transport.dtls().expected_fingerprint();
    fact.peer_fingerprint = transport.dtls().peer_fingerprint();
    return fact;
}

MediaConnectedInfo connected_info(const WebRtcTransport& t) {
    return {t.dtls().protocol_version(), t.dtls().cipher(),
            t.srtp_profile() ? std::string(transport::to_string(*t.srtp_profile())) : "",
            t.remote_address().value_or("")};
}

Peer::Peer(PeerHost& host, const TransportSetup& setup, std::string room, SessionId session,
           PeerRole role)
    : host_(host),
      room_(std::move(room)),
      session_(session),
      role_(role),
      id_(next_transport_id()),
      since_(Clock::now()),
      transport_(setup.context, setup.identity, setup.network, *this) {}

TransportFact Peer::fact() const {
    return transport_fact(id_, session_, role_, since_, transport_);
}

void Peer::enable_data(const transport::SctpOptions& options, DataAccess access) {
    if (transport_.data()) return;
    data_access_ = std::move(access);
    transport::SctpAssociation::Listener& self = *this;
    transport_.enable_data(options, self);
}

std::optional<DataFact> Peer::data_fact() const {
    const transport::SctpAssociation* association = transport_.data();
    if (!association) return std::nullopt;
    return sfu::data_fact(id_, session_, role_, *association, data_access_);
}

void Peer::on_transport_candidate(const SdpCandidate& candidate) {
    if (announces_candidates()) host_.on_peer_candidate(*this, candidate);
}

void Peer::on_transport_connected() {
    host_.on_peer_connected(*this);
    connected();
}

void Peer::on_transport_failed(std::string_view reason) {
    // A handshake refused because the peer's certificate was not the signaled one: evidence.
    const DtlsTransport& dtls = transport_.dtls();
    if (!dtls.presented_fingerprint().empty() &&
        dtls.presented_fingerprint() != dtls.expected_fingerprint().value) {
        report(MediaIncident::Kind::fingerprint_refused, to_string(dtls.expected_fingerprint()),
               to_string(SdpFingerprint{dtls.expected_fingerprint().algorithm,
                                        dtls.presented_fingerprint()}));
    }
    host_.on_peer_failed(*this, reason);
}

void Peer::on_transport_unverified_path(const std::string& established,
                                        const std::string& unverified) {
    // ICE moved to an address nothing authenticated from: media was held on the established one.
    report(MediaIncident::Kind::path_change, established, unverified);
}

void Peer::on_transport_credential_reuse(const std::string& established, const std::string& other) {
    report(MediaIncident::Kind::credential_reuse, established, other);
}

void Peer::report(MediaIncident::Kind kind, std::string expected, std::string observed) {
    MediaIncident incident;
    incident.kind = kind;
    incident.room = room_;
    incident.transport = id_;
    incident.session = session_;
    incident.role = role_;
    incident.expected = std::move(expected);
    incident.observed = std::move(observed);
    incident.at = Clock::now();
    host_.on_peer_incident(incident);
}

}  // namespace rollcall::sfu
