#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sfu/MediaTruth.hpp"
#include "sfu/Peer.hpp"

namespace rollcall::sfu {

class Router;

// Fault injection for tests: what no honest code path makes, so roll call can be shown to
// find it. Each worker holds one; only test builds (ROLLCALL_FAULT_INJECTION) ever plant
// anything, through MediaControl::plant_*. Worker thread only.
class TestHooks {
  public:
    TestHooks();
    ~TestHooks();
    TestHooks(const TestHooks&) = delete;
    TestHooks& operator=(const TestHooks&) = delete;

    // A transport for `session` (which need not be anyone) in `room` that nobody signaled
    // for: it gathers and waits for a peer, as a leaked one would. 0 when it cannot start.
    TransportId plant_stray_transport(const std::string& room, SessionId session,
                                      const TransportSetup& setup);
    // A consumer `subscriber` never asked for, forwarding at once as a leak would.
    static bool plant_consumer(Router& router, SessionId subscriber, const std::string& track_id);
    // A data association on `session`'s receiving transport (which never negotiated one),
    // delivering the room's data as a leak would.
    static bool plant_data(Router& router, SessionId session);

    // The planted transports of `room`, for its truth.
    void add_facts(const std::string& room, RoomTruth& truth) const;
    bool holds(const std::string& room) const;
    std::vector<std::string> rooms() const;
    // An ejection of a planted transport; false when `id` is not one.
    bool close(TransportId id);
    void clear();

  private:
    struct Stray;
    std::vector<std::unique_ptr<Stray>> strays_;
};

}  // namespace rollcall::sfu
