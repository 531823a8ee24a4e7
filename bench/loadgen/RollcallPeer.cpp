// A load participant on rollcall: tests/peer's TestParticipant with stamped media.
#include "bench/loadgen/LoadPeer.hpp"

namespace rollcall::loadgen {

namespace {

class RollcallPeer final : public LoadPeer {
  public:
    RollcallPeer(testpeer::Loop& loop, const testpeer::ServerProcess& server,
                 const std::string& room, PeerRole role, const MediaShape& shape,
                 Recorder& recorder, std::uint32_t id)
        : LoadPeer(std::move(role), recorder, id),
          loop_(loop),
          server_(server),
          room_(room),
          shape_(shape) {}

    // The signaling connection opens here: join latency counts it.
    void start() override {
        started_ = Clock::now();
        testpeer::PeerOptions options;
        options.sink = &sink_;
        participant_ = std::make_unique<testpeer::TestParticipant>(loop_, server_, role_.identity,
                                                                   room_, options);
        if (role_.publish) {
            source_ = std::make_unique<StampedSource>(shape_, participant_->audio_ssrc(),
                                                      participant_->video_ssrc());
            participant_->set_source(source_.get());
        }
        participant_->join();
        if (role_.publish) participant_->publish();
    }
    void subscribe(const std::vector<std::uint64_t>&) override {}
    void step(Clock::time_point now) override {
        if (participant_) participant_->step(now);
    }
    void leave() override {
        if (participant_) participant_->leave();
    }
    bool publishing() const override { return participant_ && participant_->publisher_connected(); }
    bool subscribed() const override {
        return participant_ && participant_->subscriber_connected();
    }
    std::optional<transport::SrtpProfile> profile() const override {
        return participant_ ? participant_->subscriber_profile() : std::nullopt;
    }
    std::vector<std::string> problems() const override {
        return participant_ ? participant_->problems() : std::vector<std::string>{};
    }

  private:
    testpeer::Loop& loop_;
    const testpeer::ServerProcess& server_;
    std::string room_;
    MediaShape shape_;
    std::unique_ptr<testpeer::TestParticipant> participant_;
};

}  // namespace

std::unique_ptr<LoadPeer> make_rollcall_peer(testpeer::Loop& loop,
                                             const testpeer::ServerProcess& server,
                                             const std::string& room, PeerRole role,
                                             const MediaShape& shape, Recorder& recorder,
                                             std::uint32_t id) {
    return std::make_unique<RollcallPeer>(loop, server, room, std::move(role), shape, recorder, id);
}

}  // namespace rollcall::loadgen
