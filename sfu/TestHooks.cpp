#include "sfu/TestHooks.hpp"

#include <algorithm>

#include "sfu/Router.hpp"

namespace rollcall::sfu {

using namespace transport;

struct TestHooks::Stray final : WebRtcTransport::Listener {
    Stray(std::string r, SessionId s, const TransportSetup& setup)
        : room(std::move(r)),
          id(next_transport_id()),
          session(s),
          since(Clock::now()),
          transport(setup.context, setup.identity, setup.network, *this) {}
    void on_transport_candidate(const SdpCandidate&) override {}
    void on_transport_connected() override {}
    void on_transport_failed(std::string_view) override {}
    void on_rtp(RtpPacket&) override {}
    void on_rtcp(std::span<const std::uint8_t>) override {}

    std::string room;
    TransportId id;
    SessionId session;
    Clock::time_point since;
    WebRtcTransport transport;
};

TestHooks::TestHooks() = default;

TestHooks::~TestHooks() {
    clear();
}

TransportId TestHooks::plant_stray_transport(const std::string& room, SessionId session,
                                             const TransportSetup& setup) {
    auto stray = std::make_unique<Stray>(room, session, setup);
    if (!stray->transport.prepare_offer().empty()) return 0;
    const TransportId id = stray->id;
    strays_.push_back(std::move(stray));
    return id;
}

bool TestHooks::plant_data(Router& router, SessionId session) {
    SubscriberPeer* peer = router.subscriber(session);
    if (!peer || peer->transport().data()) return false;
    peer->enable_data(transport::SctpOptions{}, {"", false, true});
    return true;
}

bool TestHooks::plant_consumer(Router& router, SessionId subscriber, const std::string& track_id) {
    SubscriberPeer* peer = router.subscriber(subscriber);
    Producer* source = router.producer(track_id);
    if (!peer || !source) return false;
    SubscriberPeer::Slot* slot = peer->open_slot(source->spec().kind);
    if (!slot) return false;
    peer->fill_slot(*slot, *source);
    // Never offered, never asked for: forwarding starts at once.
    slot->consumer->activate(false, peer->transport().connected(), Clock::now());
    return true;
}

void TestHooks::add_facts(const std::string& room, RoomTruth& truth) const {
    for (const auto& stray : strays_) {
        if (stray->room != room) continue;
        truth.transports.push_back(transport_fact(stray->id, stray->session, PeerRole::publisher,
                                                  stray->since, stray->transport));
    }
}

bool TestHooks::holds(const std::string& room) const {
    return std::any_of(strays_.begin(), strays_.end(),
                       [&](const auto& stray) { return stray->room == room; });
}

std::vector<std::string> TestHooks::rooms() const {
    std::vector<std::string> out;
    for (const auto& stray : strays_) out.push_back(stray->room);
    return out;
}

bool TestHooks::close(TransportId id) {
    auto it = std::find_if(strays_.begin(), strays_.end(),
                           [&](const auto& stray) { return stray->id == id; });
    if (it == strays_.end()) return false;
    (*it)->transport.close();
    strays_.erase(it);
    return true;
}

void TestHooks::clear() {
    for (auto& stray : strays_) stray->transport.close();
    strays_.clear();
}

}  // namespace rollcall::sfu
