#include "sfu/Router.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <atomic>

namespace rollcall::sfu {

using namespace transport;

namespace {

std::uint32_t random_u32() {
    std::uint32_t value = 0;
    while (value == 0) RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof(value));
    return value;
}

// Keyframe requests for `target` in a compound from a subscriber, and NACKs, by media SSRC.
template <typename OnKeyframe, typename OnNack>
void read_feedback(std::span<const std::uint8_t> compound, OnKeyframe&& on_keyframe,
                   OnNack&& on_nack) {
    auto parsed = RtcpCompound::parse(compound);
    if (!parsed) return;
    for (const RtcpHeader& header : parsed->packets()) {
        const bool pli = is_pli(header);
        const bool fir = is_fir(header);
        const bool nack = is_nack(header);
        if (!pli && !fir && !nack) continue;
        auto feedback = parse_feedback(header);
        if (!feedback) continue;
        if (pli) {
            on_keyframe(feedback->media_ssrc);
        } else if (fir) {
            if (auto entries = parse_fir(*feedback)) {
                for (const FirEntry& entry : *entries) on_keyframe(entry.ssrc);
            }
        } else if (auto items = parse_nack(*feedback)) {
            on_nack(feedback->media_ssrc, *items);
        }
    }
}

}  // namespace

std::string_view to_string(PeerRole role) noexcept {
    return role == PeerRole::publisher ? "publisher" : "subscriber";
}

std::string_view to_string(MediaIncident::Kind kind) noexcept {
    return kind == MediaIncident::Kind::fingerprint_refused ? "fingerprint_refused" : "path_change";
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

namespace {

void report_incident(RouterListener& listener, MediaIncident::Kind kind, const std::string& room,
                     TransportId id, SessionId session, PeerRole role, std::string expected,
                     std::string observed) {
    MediaIncident incident;
    incident.kind = kind;
    incident.room = room;
    incident.transport = id;
    incident.session = session;
    incident.role = role;
    incident.expected = std::move(expected);
    incident.observed = std::move(observed);
    incident.at = Clock::now();
    listener.on_incident(incident);
}

// A handshake refused because the peer's certificate was not the signaled one: evidence.
void report_refusal(RouterListener& listener, const std::string& room, TransportId id,
                    SessionId session, PeerRole role, const WebRtcTransport& transport) {
    const DtlsTransport& dtls = transport.dtls();
    if (dtls.presented_fingerprint().empty() ||
        dtls.presented_fingerprint() == dtls.expected_fingerprint().value)
        return;
    report_incident(listener, MediaIncident::Kind::fingerprint_refused, room, id, session, role,
                    to_string(dtls.expected_fingerprint()),
                    to_string(SdpFingerprint{dtls.expected_fingerprint().algorithm,
                                             dtls.presented_fingerprint()}));
}

}  // namespace

MediaConnectedInfo connected_info(const WebRtcTransport& t) {
    return {t.dtls().protocol_version(), t.dtls().cipher(),
            t.srtp_profile() ? std::string(transport::to_string(*t.srtp_profile())) : "",
            t.remote_address().value_or("")};
}

// ---------------------------------------------------------------------------------------
// PublisherPeer

PublisherPeer::PublisherPeer(Router& router, SessionId session)
    : router_(router),
      session_(session),
      id_(next_transport_id()),
      since_(Clock::now()),
      transport_(router.context_, router.identity_, router.addresses_, *this),
      rtcp_ssrc_(random_u32()) {}

PublisherPeer::~PublisherPeer() {
    for (Producer* producer : std::vector<Producer*>(producers_))
        router_.remove_producer(producer->spec().track_id);
    transport_.close();
}

std::string PublisherPeer::negotiate(OfferPlan& plan) {
    if (!started_) {
        if (std::string error = transport_.start(plan.remote); !error.empty()) return error;
        started_ = true;
        fingerprint_ = plan.remote.fingerprint;
        remote_ufrag_ = plan.remote.ice_ufrag;
        answer_ = plan.answer;
    } else {
        // The DTLS session is bound to the first fingerprint; a new one is not this peer.
        if (plan.remote.fingerprint != fingerprint_) return "fingerprint_changed";
        if (plan.remote.ice_ufrag != remote_ufrag_) {
            if (std::string error = transport_.restart_ice(
                    plan.remote.ice_ufrag, plan.remote.ice_pwd, plan.remote.candidates);
                !error.empty()) {
                return error;
            }
            remote_ufrag_ = plan.remote.ice_ufrag;
        }
        transport_.set_allowed_ssrcs(plan.remote.ssrcs);
        plan.answer.origin_session_id = answer_.origin_session_id;
        plan.answer.origin_version = answer_.origin_version + 1;
        answer_ = plan.answer;
    }
    // Tracks that are gone, or whose SSRC changed, end; new ones start.
    for (Producer* producer : std::vector<Producer*>(producers_)) {
        const auto same =
            std::find_if(plan.tracks.begin(), plan.tracks.end(), [&](const OfferedTrack& t) {
                return t.track_id == producer->spec().track_id &&
                       t.remote_ssrc == producer->spec().ssrc &&
                       t.payload_type == producer->spec().codec.payload_type;
            });
        if (same == plan.tracks.end()) remove_track(producer->spec().track_id);
    }
    for (const OfferedTrack& track : plan.tracks) {
        const bool exists =
            std::any_of(producers_.begin(), producers_.end(),
                        [&](const Producer* p) { return p->spec().track_id == track.track_id; });
        if (exists) continue;
        Producer::Spec spec{track.track_id, track.mid, track.kind, track.remote_ssrc,
                            track.codec_info};
        producers_.push_back(&router_.add_producer(std::move(spec), session_, *this));
    }
    complete_answer(plan, transport_);
    return {};
}

bool PublisherPeer::remove_track(const std::string& track_id) {
    auto it = std::find_if(producers_.begin(), producers_.end(),
                           [&](const Producer* p) { return p->spec().track_id == track_id; });
    if (it == producers_.end()) return false;
    producers_.erase(it);
    router_.remove_producer(track_id);
    return true;
}

void PublisherPeer::send_receiver_reports(Clock::time_point now) {
    if (!transport_.connected()) return;
    std::array<ReportBlock, 8> blocks{};
    std::size_t count = 0;
    for (Producer* producer : producers_) {
        if (count == blocks.size()) break;
        if (auto block = producer->report_block(now)) blocks[count++] = *block;
    }
    if (count == 0) return;
    std::array<std::uint8_t, 8 + 24 * 8> out{};
    const std::size_t size =
        write_receiver_report(rtcp_ssrc_, std::span(blocks.data(), count), out);
    if (size > 0) transport_.send_rtcp(std::span(out.data(), size));
}

void PublisherPeer::on_transport_candidate(const SdpCandidate& candidate) {
    if (started_) router_.listener_.on_candidate(session_, PeerRole::publisher, candidate);
}

void PublisherPeer::on_transport_connected() {
    router_.listener_.on_connected(session_, PeerRole::publisher, connected_info(transport_));
    const auto now = Clock::now();
    for (Producer* producer : producers_) {
        if (!producer->consumers().empty()) producer->request_keyframe(now);
    }
}

void PublisherPeer::on_transport_failed(std::string_view reason) {
    report_refusal(router_.listener_, router_.room_, id_, session_, PeerRole::publisher,
                   transport_);
    router_.listener_.on_failed(session_, PeerRole::publisher, reason);
}

void PublisherPeer::on_transport_unverified_path(const std::string& established,
                                                 const std::string& unverified) {
    // ICE moved to an address nothing authenticated from: media was held on the established one.
    report_incident(router_.listener_, MediaIncident::Kind::path_change, router_.room_, id_,
                    session_, PeerRole::publisher, established, unverified);
}

TransportFact PublisherPeer::fact() const {
    return transport_fact(id_, session_, PeerRole::publisher, since_, transport_);
}

void PublisherPeer::on_rtp(RtpPacket& packet) {
    const std::uint32_t ssrc = packet.ssrc();
    for (Producer* producer : producers_) {
        if (producer->spec().ssrc == ssrc) {
            producer->receive(packet, Clock::now());
            return;
        }
    }
}

void PublisherPeer::on_rtcp(std::span<const std::uint8_t> compound) {
    auto parsed = RtcpCompound::parse(compound);
    if (!parsed) return;
    const auto now = Clock::now();
    // Sender reports feed the subscribers' timelines; everything else ends here.
    for (const RtcpHeader& header : parsed->packets()) {
        if (header.type != static_cast<std::uint8_t>(RtcpType::sender_report)) continue;
        auto report = parse_sender_report(header);
        if (!report) continue;
        for (Producer* producer : producers_) {
            if (producer->spec().ssrc == report->ssrc) producer->on_sender_report(*report, now);
        }
    }
}

void PublisherPeer::send_keyframe_request(std::uint32_t media_ssrc) {
    const auto pli = write_pli(rtcp_ssrc_, media_ssrc);
    transport_.send_rtcp(pli);
}

// ---------------------------------------------------------------------------------------
// SubscriberPeer

SubscriberPeer::SubscriberPeer(Router& router, SessionId session)
    : router_(router),
      session_(session),
      id_(next_transport_id()),
      since_(Clock::now()),
      transport_(router.context_, router.identity_, router.addresses_, *this),
      origin_(std::to_string(random_u32())) {}

SubscriberPeer::~SubscriberPeer() {
    slots_.clear();  // consumers detach from their producers
    transport_.close();
}

std::string SubscriberPeer::start() {
    return transport_.prepare_offer();
}

void SubscriberPeer::set_desired(std::set<std::string> track_ids) {
    desired_ = std::move(track_ids);
    reconcile();
}

void SubscriberPeer::drop_consumer_of(const Producer& producer) {
    for (Slot& slot : slots_) {
        if (slot.consumer && &slot.consumer->producer() == &producer) {
            slot.consumer.reset();
            slot.track_id.clear();
            changed_ = true;
        }
    }
}

void SubscriberPeer::reconcile() {
    // Consumers of tracks no longer wanted stop at once; their sections become inactive.
    for (Slot& slot : slots_) {
        if (slot.consumer && !desired_.contains(slot.track_id)) {
            slot.consumer.reset();
            slot.track_id.clear();
            changed_ = true;
        }
    }
    for (const std::string& track_id : desired_) {
        Producer* producer = router_.producer(track_id);
        if (!producer || producer->publisher() == session_)
            continue;  // not (yet) there; never oneself
        const bool consumed = std::any_of(slots_.begin(), slots_.end(), [&](const Slot& s) {
            return s.consumer && s.track_id == track_id;
        });
        if (consumed) continue;
        Slot* slot = open_slot(producer->spec().kind);
        if (!slot) continue;
        fill_slot(*slot, *producer);
    }
    if (changed_ && !negotiating_) offer();
}

SubscriberPeer::Slot* SubscriberPeer::open_slot(MediaKind kind) {
    // Reuse an inactive section of the same kind, else open a new one.
    auto free = std::find_if(slots_.begin(), slots_.end(),
                             [&](const Slot& s) { return !s.consumer && s.kind == kind; });
    if (free != slots_.end()) return &*free;
    if (slots_.size() >= kMaxSlots) return nullptr;
    Slot slot;
    slot.mid = std::to_string(slots_.size());
    slot.kind = kind;
    slots_.push_back(std::move(slot));
    return &slots_.back();
}

void SubscriberPeer::fill_slot(Slot& slot, Producer& producer) {
    slot.track_id = producer.spec().track_id;
    slot.stream_id = "s" + std::to_string(producer.publisher());
    slot.codec = producer.spec().codec;
    slot.codec.payload_type = payload_type_for(producer.spec().codec);
    slot.codec.feedback.clear();
    Consumer::Spec spec{slot.mid, random_u32(), slot.codec.payload_type, 0, 0};
    if (slot.kind == MediaKind::video) {
        slot.codec.feedback = {"nack", "nack pli", "ccm fir"};
        SdpCodec rtx_key;
        rtx_key.name = "rtx";
        rtx_key.fmtp = "apt=" + std::to_string(slot.codec.payload_type);
        spec.rtx_ssrc = random_u32();
        spec.rtx_payload_type = payload_type_for(rtx_key);
    }
    slot.consumer = std::make_unique<Consumer>(producer, spec, *this);
    slot.offered_in = 0;
    slot.since = Clock::now();
    changed_ = true;
}

std::uint8_t SubscriberPeer::payload_type_for(const SdpCodec& codec) {
    // One payload type per codec configuration on this leg, stable for its lifetime, so
    // sections in the BUNDLE never give one number two meanings.
    const std::string key = codec.name + "/" + std::to_string(codec.clock_rate) + "/" + codec.fmtp;
    if (auto it = payload_types_.find(key); it != payload_types_.end()) return it->second;
    auto taken = [&](std::uint8_t candidate) {
        return std::any_of(payload_types_.begin(), payload_types_.end(),
                           [&](const auto& e) { return e.second == candidate; });
    };
    // Opus at its customary 111 when free; everything else from the dynamic range 96–127.
    const bool opus = codec.name == "opus" || codec.name == "OPUS";
    std::uint8_t pt = opus && !taken(111) ? 111 : 96;
    while (taken(pt) && pt < 127) ++pt;
    payload_types_[key] = pt;
    return pt;
}

void SubscriberPeer::offer() {
    SessionDescription description;
    description.origin_session_id = origin_;
    description.origin_version = ++version_;
    SubscriberOffer out;
    out.version = version_;
    for (Slot& slot : slots_) {
        SdpMedia m;
        m.kind = slot.kind;
        m.kind_name = std::string(transport::to_string(slot.kind));
        m.port = 9;
        m.protocol = "UDP/TLS/RTP/SAVPF";
        m.mid = slot.mid;
        m.rtcp_mux = true;
        m.rtcp_rsize = true;
        m.ice_ufrag = transport_.local_ufrag();
        m.ice_pwd = transport_.local_pwd();
        m.fingerprints = {transport_.local_fingerprint()};
        m.setup = "actpass";
        m.candidates = transport_.local_candidates();
        if (!m.candidates.empty()) m.port = m.candidates.front().port;
        m.codecs = {slot.codec};  // an inactive section keeps its last codec
        if (slot.consumer) {
            const Consumer::Spec& spec = slot.consumer->spec();
            m.direction = Direction::sendonly;
            m.ssrcs = {spec.ssrc};
            if (spec.rtx_ssrc != 0) {
                SdpCodec rtx;
                rtx.payload_type = spec.rtx_payload_type;
                rtx.name = "rtx";
                rtx.clock_rate = 90000;
                rtx.fmtp = "apt=" + std::to_string(spec.payload_type);
                m.codecs.push_back(rtx);
                m.ssrcs.push_back(spec.rtx_ssrc);
                m.ssrc_groups.push_back({"FID", {spec.ssrc, spec.rtx_ssrc}});
            }
            m.cname = "rollcall";
            m.msid = slot.stream_id + " " + slot.track_id;
            if (slot.offered_in == 0) slot.offered_in = version_;
        } else {
            m.direction = Direction::inactive;
        }
        for (const SdpCodec& c : m.codecs) m.formats.push_back(std::to_string(c.payload_type));
        description.bundle.push_back(slot.mid);
        description.media.push_back(std::move(m));
        out.slots.push_back({slot.mid, slot.kind, slot.consumer ? slot.track_id : std::string()});
    }
    negotiating_ = true;
    changed_ = false;
    out.sdp = write_sdp(description);
    router_.listener_.on_subscriber_offer(session_, out);
}

std::string SubscriberPeer::on_answer(const SubscriberAnswer& answer, std::uint64_t version) {
    if (!negotiating_ || version != version_) return "stale_answer";
    if (!remote_set_) {
        if (std::string error = transport_.set_remote(answer.remote); !error.empty()) return error;
        remote_set_ = true;
        fingerprint_ = answer.remote.fingerprint;
    } else if (answer.remote.fingerprint != fingerprint_) {
        return "fingerprint_changed";
    }
    negotiating_ = false;
    const auto now = Clock::now();
    for (Slot& slot : slots_) {
        if (!slot.consumer || slot.offered_in == 0 || slot.offered_in > version) continue;
        const bool rejected = std::find(answer.rejected_mids.begin(), answer.rejected_mids.end(),
                                        slot.mid) != answer.rejected_mids.end();
        if (rejected) continue;
        if (!slot.consumer->active()) {
            const bool rtx = std::find(answer.rtx_mids.begin(), answer.rtx_mids.end(), slot.mid) !=
                             answer.rtx_mids.end();
            slot.consumer->activate(rtx, transport_.connected(), now);
        }
    }
    if (changed_) offer();
    return {};
}

std::vector<const Consumer*> SubscriberPeer::consumers() const {
    std::vector<const Consumer*> out;
    for (const Slot& slot : slots_) {
        if (slot.consumer) out.push_back(slot.consumer.get());
    }
    return out;
}

Consumer* SubscriberPeer::consumer_by_ssrc(std::uint32_t ssrc) const noexcept {
    for (const Slot& slot : slots_) {
        if (slot.consumer && slot.consumer->spec().ssrc == ssrc) return slot.consumer.get();
    }
    return nullptr;
}

void SubscriberPeer::on_transport_candidate(const SdpCandidate& candidate) {
    if (version_ > 0) router_.listener_.on_candidate(session_, PeerRole::subscriber, candidate);
}

void SubscriberPeer::on_transport_connected() {
    router_.listener_.on_connected(session_, PeerRole::subscriber, connected_info(transport_));
    const auto now = Clock::now();
    for (const Slot& slot : slots_) {
        if (slot.consumer && slot.consumer->active())
            slot.consumer->producer().request_keyframe(now);
    }
}

void SubscriberPeer::on_transport_failed(std::string_view reason) {
    report_refusal(router_.listener_, router_.room_, id_, session_, PeerRole::subscriber,
                   transport_);
    router_.listener_.on_failed(session_, PeerRole::subscriber, reason);
}

void SubscriberPeer::on_transport_unverified_path(const std::string& established,
                                                  const std::string& unverified) {
    report_incident(router_.listener_, MediaIncident::Kind::path_change, router_.room_, id_,
                    session_, PeerRole::subscriber, established, unverified);
}

TransportFact SubscriberPeer::fact() const {
    return transport_fact(id_, session_, PeerRole::subscriber, since_, transport_);
}

void SubscriberPeer::add_consumer_facts(std::vector<ConsumerFact>& out) const {
    for (const Slot& slot : slots_) {
        if (!slot.consumer) continue;
        const Producer& producer = slot.consumer->producer();
        out.push_back({id_, session_, producer.spec().track_id, producer.publisher(),
                       slot.consumer->active(), slot.since});
    }
}

bool SubscriberPeer::drop_track(const std::string& track_id) {
    bool dropped = false;
    for (Slot& slot : slots_) {
        if (slot.consumer && slot.track_id == track_id) {
            slot.consumer.reset();
            slot.track_id.clear();
            changed_ = true;
            dropped = true;
        }
    }
    if (dropped && !negotiating_) offer();
    return dropped;
}

#ifdef ROLLCALL_FAULT_INJECTION
bool SubscriberPeer::plant_consumer(Producer& producer) {
    Slot* slot = open_slot(producer.spec().kind);
    if (!slot) return false;
    fill_slot(*slot, producer);
    // Never offered, never asked for: forwarding starts at once, as a leak would.
    slot->consumer->activate(false, transport_.connected(), Clock::now());
    return true;
}
#endif

void SubscriberPeer::on_rtp(RtpPacket&) {
    // A subscriber sends no media on this transport (sections are sendonly from here).
}

void SubscriberPeer::on_rtcp(std::span<const std::uint8_t> compound) {
    const auto now = Clock::now();
    read_feedback(
        compound,
        [&](std::uint32_t ssrc) {
            if (Consumer* consumer = consumer_by_ssrc(ssrc))
                consumer->producer().request_keyframe(now);
        },
        [&](std::uint32_t ssrc, const std::vector<NackItem>& items) {
            if (Consumer* consumer = consumer_by_ssrc(ssrc)) consumer->on_nack(items);
        });
}

// ---------------------------------------------------------------------------------------
// Router

Router::Router(std::string room, GMainContext* context,
               std::shared_ptr<const DtlsIdentity> identity, std::vector<std::string> addresses,
               RouterListener& listener)
    : room_(std::move(room)),
      context_(context),
      identity_(std::move(identity)),
      addresses_(std::move(addresses)),
      listener_(listener) {}

Router::~Router() {
#ifdef ROLLCALL_FAULT_INJECTION
    strays_.clear();
#endif
    subscribers_.clear();  // consumers first, then the producers they point at
    publishers_.clear();
    producers_.clear();
}

std::string Router::publish(SessionId session, OfferPlan& plan) {
    auto it = publishers_.find(session);
    const bool created = it == publishers_.end();
    if (created)
        it = publishers_.emplace(session, std::make_unique<PublisherPeer>(*this, session)).first;
    std::string error = it->second->negotiate(plan);
    if (!error.empty() && created) publishers_.erase(it);
    if (error.empty()) {
        for (auto& [id, subscriber] : subscribers_) subscriber->reconcile();
    }
    return error;
}

void Router::unpublish(SessionId session, const std::string& track_id) {
    if (auto it = publishers_.find(session); it != publishers_.end())
        it->second->remove_track(track_id);
}

void Router::set_subscriptions(SessionId session, std::set<std::string> track_ids) {
    auto it = subscribers_.find(session);
    if (it == subscribers_.end()) {
        const bool any =
            std::any_of(track_ids.begin(), track_ids.end(), [&](const std::string& id) {
                const Producer* p = producer(id);
                return p && p->publisher() != session;
            });
        if (!any) return;  // no transport until there is something to receive
        auto peer = std::make_unique<SubscriberPeer>(*this, session);
        if (std::string error = peer->start(); !error.empty()) {
            listener_.on_failed(session, PeerRole::subscriber, error);
            return;
        }
        it = subscribers_.emplace(session, std::move(peer)).first;
    }
    it->second->set_desired(std::move(track_ids));
}

std::string Router::subscriber_answer(SessionId session, const SubscriberAnswer& answer,
                                      std::uint64_t version) {
    auto it = subscribers_.find(session);
    if (it == subscribers_.end()) return "no_transport";
    return it->second->on_answer(answer, version);
}

void Router::add_remote_candidate(SessionId session, PeerRole role, const SdpCandidate& candidate) {
    if (role == PeerRole::publisher) {
        if (auto it = publishers_.find(session); it != publishers_.end())
            it->second->transport().add_remote_candidate(candidate);
    } else if (auto it = subscribers_.find(session); it != subscribers_.end()) {
        it->second->transport().add_remote_candidate(candidate);
    }
}

void Router::close(SessionId session) {
    close(session, PeerRole::subscriber);
    close(session, PeerRole::publisher);
}

void Router::close(SessionId session, PeerRole role) {
    if (role == PeerRole::subscriber) {
        subscribers_.erase(session);
        return;
    }
    auto it = publishers_.find(session);
    if (it == publishers_.end()) return;
    auto peer = std::move(it->second);
    publishers_.erase(it);
    peer.reset();  // removes its producers, which drops their consumers
}

void Router::tick(Clock::time_point now) {
    for (auto& [session, publisher] : publishers_) publisher->send_receiver_reports(now);
}

#ifdef ROLLCALL_FAULT_INJECTION
// A transport nobody signaled for: it gathers and waits for a peer, as a leaked one would.
struct Router::StrayTransport final : WebRtcTransport::Listener {
    StrayTransport(Router& router, SessionId s)
        : id(next_transport_id()),
          session(s),
          since(Clock::now()),
          transport(router.context_, router.identity_, router.addresses_, *this) {}
    ~StrayTransport() override { transport.close(); }
    void on_transport_candidate(const SdpCandidate&) override {}
    void on_transport_connected() override {}
    void on_transport_failed(std::string_view) override {}
    void on_rtp(RtpPacket&) override {}
    void on_rtcp(std::span<const std::uint8_t>) override {}

    TransportId id;
    SessionId session;
    Clock::time_point since;
    WebRtcTransport transport;
};

TransportId Router::plant_stray_transport(SessionId session) {
    auto stray = std::make_unique<StrayTransport>(*this, session);
    if (!stray->transport.prepare_offer().empty()) return 0;
    const TransportId id = stray->id;
    strays_.push_back(std::move(stray));
    return id;
}

bool Router::plant_consumer(SessionId subscriber, const std::string& track_id) {
    auto it = subscribers_.find(subscriber);
    Producer* source = producer(track_id);
    if (it == subscribers_.end() || !source) return false;
    return it->second->plant_consumer(*source);
}
#endif

RoomTruth Router::truth() const {
    RoomTruth truth;
    truth.room = room_;
    for (const auto& [session, peer] : publishers_) truth.transports.push_back(peer->fact());
    for (const auto& [session, peer] : subscribers_) {
        truth.transports.push_back(peer->fact());
        peer->add_consumer_facts(truth.consumers);
    }
#ifdef ROLLCALL_FAULT_INJECTION
    for (const auto& stray : strays_) {
        truth.transports.push_back(transport_fact(stray->id, stray->session, PeerRole::publisher,
                                                  stray->since, stray->transport));
    }
#endif
    return truth;
}

bool Router::empty() const noexcept {
#ifdef ROLLCALL_FAULT_INJECTION
    if (!strays_.empty()) return false;
#endif
    return publishers_.empty() && subscribers_.empty();
}

bool Router::close_transport(TransportId id) {
    for (auto& [session, peer] : publishers_) {
        if (peer->id() == id) {
            close(session, PeerRole::publisher);
            return true;
        }
    }
    for (auto& [session, peer] : subscribers_) {
        if (peer->id() == id) {
            close(session, PeerRole::subscriber);
            return true;
        }
    }
#ifdef ROLLCALL_FAULT_INJECTION
    for (auto it = strays_.begin(); it != strays_.end(); ++it) {
        if ((*it)->id == id) {
            strays_.erase(it);
            return true;
        }
    }
#endif
    return false;
}

bool Router::drop_consumer(TransportId transport, const std::string& track_id) {
    for (auto& [session, peer] : subscribers_) {
        if (peer->id() == transport) return peer->drop_track(track_id);
    }
    return false;
}

Producer* Router::producer(const std::string& track_id) const {
    auto it = producers_.find(track_id);
    return it == producers_.end() ? nullptr : it->second.get();
}

std::size_t Router::consumer_count() const noexcept {
    std::size_t count = 0;
    for (const auto& [id, producer] : producers_) count += producer->consumers().size();
    return count;
}

Producer& Router::add_producer(Producer::Spec spec, SessionId publisher,
                               ProducerUpstream& upstream) {
    std::string id = spec.track_id;
    remove_producer(id);
    auto producer = std::make_unique<Producer>(std::move(spec), publisher, upstream);
    Producer& ref = *producer;
    producers_[id] = std::move(producer);
    return ref;
}

void Router::remove_producer(const std::string& track_id) {
    auto it = producers_.find(track_id);
    if (it == producers_.end()) return;
    for (auto& [session, subscriber] : subscribers_) subscriber->drop_consumer_of(*it->second);
    producers_.erase(it);
    for (auto& [session, subscriber] : subscribers_) subscriber->reconcile();
}

}  // namespace rollcall::sfu
