#include "sfu/Router.hpp"

#include <algorithm>

#include "transport/MainLoop.hpp"

namespace rollcall::sfu {

using namespace transport;

Router::Router(std::string room, TransportSetup setup, RouterListener& listener)
    : room_(std::move(room)), setup_(std::move(setup)), listener_(listener) {}

Router::~Router() {
    // Consumers first, then the producers they point at; transports end with close_notify.
    for (auto& [session, peer] : subscribers_) peer->close();
    for (auto& [session, peer] : publishers_) peer->close();
    subscribers_.clear();
    publishers_.clear();
    producers_.clear();
}

void Router::assert_on_worker() const {
    assert_owner(setup_.context);
}

MediaResult Router::publish(SessionId session, OfferPlan& plan) {
    assert_on_worker();
    auto it = publishers_.find(session);
    const bool created = it == publishers_.end();
    if (created) {
        it = publishers_
                 .emplace(session, std::make_unique<PublisherPeer>(host(), setup_, room_, session))
                 .first;
    }
    MediaResult result = it->second->negotiate(plan);
    if (!result.ok() && created) {
        close(session, PeerRole::publisher);
    } else if (result.ok()) {
        reconcile_subscribers();
    }
    return result;
}

void Router::unpublish(SessionId session, const std::string& track_id) {
    assert_on_worker();
    if (auto it = publishers_.find(session); it != publishers_.end()) {
        it->second->remove_track(track_id);
    }
}

bool Router::set_track_paused(const std::string& track_id, bool paused) {
    assert_on_worker();
    Producer* p = producer(track_id);
    if (!p) return false;
    p->set_paused(paused, Clock::now());
    return true;
}

bool Router::restart_subscriber_ice(SessionId session) {
    assert_on_worker();
    auto it = subscribers_.find(session);
    return it != subscribers_.end() && it->second->restart_ice();
}

void Router::set_subscriptions(SessionId session, std::set<std::string> track_ids,
                               TrackSettingsMap settings) {
    assert_on_worker();
    auto it = subscribers_.find(session);
    if (it == subscribers_.end()) {
        const bool any =
            std::any_of(track_ids.begin(), track_ids.end(), [&](const std::string& id) {
                const Producer* p = producer(id);
                return p && p->publisher() != session;
            });
        if (!any) return;  // no transport until there is something to receive
        auto peer = std::make_unique<SubscriberPeer>(host(), setup_, room_, session);
        if (MediaResult started = peer->start(); !started.ok()) {
            listener_.on_failed(session, PeerRole::subscriber, 0, started.message);
            return;
        }
        it = subscribers_.emplace(session, std::move(peer)).first;
    }
    it->second->set_desired(std::move(track_ids), std::move(settings));
}

MediaResult Router::subscriber_answer(SessionId session, const SubscriberAnswer& answer,
                                      std::uint64_t version) {
    assert_on_worker();
    auto it = subscribers_.find(session);
    if (it == subscribers_.end())
        return {MediaError::no_transport, "there is no subscription to answer"};
    return it->second->on_answer(answer, version);
}

void Router::add_remote_candidate(SessionId session, PeerRole role, const SdpCandidate& candidate) {
    assert_on_worker();
    if (role == PeerRole::publisher) {
        if (auto it = publishers_.find(session); it != publishers_.end()) {
            it->second->transport().add_remote_candidate(candidate);
        }
    } else if (auto it = subscribers_.find(session); it != subscribers_.end()) {
        it->second->transport().add_remote_candidate(candidate);
    }
}

void Router::close(SessionId session) {
    close(session, PeerRole::subscriber);
    close(session, PeerRole::publisher);
}

void Router::close(SessionId session, PeerRole role) {
    assert_on_worker();
    if (role == PeerRole::subscriber) {
        auto it = subscribers_.find(session);
        if (it == subscribers_.end()) return;
        it->second->close();
        subscribers_.erase(it);
        return;
    }
    auto it = publishers_.find(session);
    if (it == publishers_.end()) return;
    std::unique_ptr<PublisherPeer> peer = std::move(it->second);
    publishers_.erase(it);
    data_relay_.forget(session);  // its data budget goes with its data
    peer->close();
    // Its tracks end with it: their consumers go, then the subscribers' offers follow.
    for (const std::string& track_id : peer->release_tracks()) discard_producer(track_id);
    peer.reset();
    reconcile_subscribers();
}

void Router::tick(Clock::time_point now) {
    assert_on_worker();
    for (auto& [session, publisher] : publishers_) publisher->send_receiver_reports(now);
    for (auto& [id, producer] : producers_) producer->update_rate(now);
    for (auto& [session, subscriber] : subscribers_) subscriber->update_rates(now);
}

RoomTruth Router::truth() const {
    RoomTruth truth;
    truth.room = room_;
    for (const auto& [session, peer] : publishers_) {
        truth.transports.push_back(peer->fact());
        if (auto data = peer->data_fact()) truth.data.push_back(std::move(*data));
    }
    for (const auto& [session, peer] : subscribers_) {
        truth.transports.push_back(peer->fact());
        if (peer->estimating()) {
            truth.transports.back().estimate_bps = peer->estimator().estimate_bps();
            truth.transports.back().probes = peer->prober().clusters();
        }
        if (auto data = peer->data_fact()) truth.data.push_back(std::move(*data));
        peer->add_consumer_facts(truth.consumers);
    }
    for (const auto& [id, producer] : producers_) {
        const Producer::Spec& spec = producer->spec();
        ProducerFact& fact = truth.producers.emplace_back();
        fact = {spec.track_id,      producer->publisher(),    spec.kind,
                producer->paused(), producer->stream_stats(), {}};
        for (std::size_t i = 0; producer->simulcast() && i < producer->layer_count(); ++i) {
            fact.layers.push_back({i < spec.rids.size() ? spec.rids[i] : "",
                                   producer->layer_width(i), producer->layer_height(i),
                                   producer->layer_active(i, Clock::now()),
                                   producer->layer_bitrate(i)});
        }
    }
    return truth;
}

void Router::on_peer_data(Peer& peer, const transport::DataChannel& channel, bool binary,
                          std::span<const std::uint8_t> message) {
    std::vector<DataEndpoint> room;
    for (auto& [session, publisher] : publishers_) {
        DataEndpoint endpoint = publisher->data_endpoint();
        if (endpoint.association &&
            endpoint.association->state() == transport::SctpState::connected)
            room.push_back(endpoint);
    }
    data_relay_.relay(peer.data_endpoint(), channel, binary, message, room);
    for (const DataRelay::Closed& closed : data_relay_.take_closed()) {
        // Never the sender, whose association is the one calling back now.
        if (auto it = publishers_.find(closed.session); it != publishers_.end())
            it->second->transport().close_data();
        listener_.on_data_closed(closed.session, closed.reason);
    }
}

void Router::on_peer_data_refused(Peer& peer, std::uint16_t stream, std::string_view why) {
    data_relay_.refused(peer.data_endpoint(), stream, why);
}

bool Router::close_data(TransportId id) {
    assert_on_worker();
    auto close = [&](Peer& peer) {
        if (peer.id() != id || !peer.transport().data()) return false;
        peer.transport().close_data();
        listener_.on_data_closed(peer.session(), "roll_call");
        return true;
    };
    for (auto& [session, peer] : publishers_)
        if (close(*peer)) return true;
    for (auto& [session, peer] : subscribers_)
        if (close(*peer)) return true;
    return false;
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
    return false;
}

bool Router::drop_consumer(TransportId transport, const std::string& track_id) {
    assert_on_worker();
    for (auto& [session, peer] : subscribers_) {
        if (peer->id() == transport) return peer->drop_track(track_id);
    }
    return false;
}

Producer* Router::producer(const std::string& track_id) const {
    auto it = producers_.find(track_id);
    return it == producers_.end() ? nullptr : it->second.get();
}

SubscriberPeer* Router::subscriber(SessionId session) const {
    auto it = subscribers_.find(session);
    return it == subscribers_.end() ? nullptr : it->second.get();
}

std::size_t Router::consumer_count() const noexcept {
    std::size_t count = 0;
    for (const auto& [id, producer] : producers_) count += producer->consumers().size();
    return count;
}

void Router::on_peer_candidate(const Peer& peer, const SdpCandidate& candidate) {
    listener_.on_candidate(peer.session(), peer.role(), candidate);
}

void Router::on_peer_connected(const Peer& peer) {
    listener_.on_connected(peer.session(), peer.role(), connected_info(peer.transport()));
}

void Router::on_peer_failed(const Peer& peer, std::string_view reason) {
    // A failed publisher's tracks end now, before anything else runs on this worker: a
    // subscriber offer made after the failure (an answer queued behind it, say) must never
    // name a track signaling is about to announce gone. The peer itself goes on a later turn.
    if (peer.role() == PeerRole::publisher) {
        if (auto it = publishers_.find(peer.session());
            it != publishers_.end() && it->second.get() == &peer) {
            for (const std::string& track_id : it->second->release_tracks())
                discard_producer(track_id);
            reconcile_subscribers();
        }
    }
    listener_.on_failed(peer.session(), peer.role(), peer.id(), reason);
}

void Router::on_peer_incident(const MediaIncident& incident) {
    listener_.on_incident(incident);
}

void Router::on_subscriber_offer(const Peer& peer, const SubscriberOffer& offer) {
    listener_.on_subscriber_offer(peer.session(), offer);
}

Producer& Router::add_producer(Producer::Spec spec, SessionId publisher,
                               ProducerUpstream& upstream) {
    std::string id = spec.track_id;
    discard_producer(id);
    auto producer = std::make_unique<Producer>(std::move(spec), publisher, upstream);
    Producer& ref = *producer;
    producers_[id] = std::move(producer);
    return ref;
}

void Router::remove_producer(const std::string& track_id) {
    discard_producer(track_id);
    reconcile_subscribers();
}

void Router::discard_producer(const std::string& track_id) {
    auto it = producers_.find(track_id);
    if (it == producers_.end()) return;
    for (auto& [session, subscriber] : subscribers_) subscriber->drop_consumer_of(*it->second);
    producers_.erase(it);
}

void Router::reconcile_subscribers() {
    for (auto& [session, subscriber] : subscribers_) subscriber->reconcile();
}

}  // namespace rollcall::sfu
