#pragma once

// One participant of a load run, on rollcall or on Janus's VideoRoom: publishes stamped media,
// receives what the server forwards, or both. All of them share one Loop (one thread).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/loadgen/LoadMedia.hpp"

namespace rollcall::loadgen {

struct PeerRole {
    std::string identity;
    bool publish = false;
    bool subscribe = false;
};

class LoadPeer {
  public:
    virtual ~LoadPeer() = default;
    // Joins (the token is in hand: join latency runs from here) and publishes if it does.
    virtual void start() = 0;
    // Subscribes to the given publishers (Janus needs their feeds; rollcall subscribes
    // everyone to everything on its own and ignores this).
    virtual void subscribe(const std::vector<std::uint64_t>& feeds) = 0;
    virtual void step(Clock::time_point now) = 0;
    virtual void leave() = 0;
    // Publishing: the publisher connection is up. The feed id others subscribe to (Janus).
    virtual bool publishing() const = 0;
    virtual std::uint64_t feed() const { return 0; }
    virtual bool subscribed() const = 0;  // the subscriber connection is up
    virtual std::optional<transport::SrtpProfile> profile() const = 0;
    virtual std::vector<std::string> problems() const = 0;

    const PeerRole& role() const noexcept { return role_; }
    StampedSink& sink() noexcept { return sink_; }
    Clock::time_point started() const noexcept { return started_; }
    std::uint64_t packets_sent() const noexcept { return source_ ? source_->packets_sent() : 0; }

  protected:
    LoadPeer(PeerRole role, Recorder& recorder, std::uint32_t id)
        : role_(std::move(role)), sink_(recorder, id) {}

    PeerRole role_;
    StampedSink sink_;
    std::unique_ptr<StampedSource> source_;
    Clock::time_point started_{};
};

// rollcall over its own protocol (tests/peer's TestParticipant, plain ws on loopback).
std::unique_ptr<LoadPeer> make_rollcall_peer(testpeer::Loop& loop,
                                             const testpeer::ServerProcess& server,
                                             const std::string& room, PeerRole role,
                                             const MediaShape& shape, Recorder& recorder,
                                             std::uint32_t id);

// Janus VideoRoom over its WebSocket API (ws://127.0.0.1:<port>/, "janus-protocol"). The
// first publisher creates `room`.
std::unique_ptr<LoadPeer> make_janus_peer(testpeer::Loop& loop, std::uint16_t port,
                                          std::uint64_t room, bool create_room,
                                          std::size_t room_publishers, PeerRole role,
                                          const MediaShape& shape, Recorder& recorder,
                                          std::uint32_t id);

}  // namespace rollcall::loadgen
