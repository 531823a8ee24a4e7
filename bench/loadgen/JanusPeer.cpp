// A load participant on Janus's VideoRoom plugin, over Janus's WebSocket API: a session, a
// publisher handle (join, then publish with our offer) and a subscriber handle (join with
// the feeds; Janus offers, we answer and start). Janus puts its candidates in its SDP;
// ours go in ours, then "completed" is trickled. Only 127.0.0.1 candidates are used.
#include <nlohmann/json.hpp>

#include "bench/loadgen/LoadPeer.hpp"
#include "sfu/OfferPlan.hpp"
#include "tests/peer/SignalingSocket.hpp"
#include "transport/Sdp.hpp"

namespace rollcall::loadgen {

namespace {

using nlohmann::json;

struct JanusLeg final : transport::WebRtcTransport::Listener {
    JanusLeg(testpeer::Loop& loop, testpeer::MediaSink* to, testpeer::MediaSource* from,
             std::vector<std::string>& problems_out)
        : sink(to),
          source(from),
          problems(problems_out),
          transport(loop.context(), transport::DtlsIdentity::generate(),
                    transport::LocalNetwork({"127.0.0.1"}), *this) {}
    void on_transport_candidate(const transport::SdpCandidate&) override {}
    void on_transport_connected() override { connected = true; }
    void on_transport_failed(std::string_view reason) override {
        if (!closing) problems.push_back("transport failed: " + std::string(reason));
    }
    void on_rtp(transport::RtpPacket& packet) override {
        if (sink) sink->on_media(packet, transport.arrival());
    }
    void on_rtcp(std::span<const std::uint8_t> compound) override {
        if (source) source->on_rtcp(compound);
    }
    bool on_rtp_new_ssrc(const transport::RtpPacket&) override { return true; }

    testpeer::MediaSink* sink;
    testpeer::MediaSource* source;
    std::vector<std::string>& problems;
    transport::WebRtcTransport transport;
    bool connected = false;
    bool closing = false;
};

// The description's transport parameters, its candidates cut to 127.0.0.1.
std::optional<transport::RemoteTransportParameters> loopback_parameters(const std::string& sdp,
                                                                        std::string& error) {
    auto parsed = transport::parse_sdp(sdp, error, {});
    if (!parsed) return std::nullopt;
    auto parameters = testpeer::transport_parameters(*parsed);
    if (!parameters) {
        error = "no transport parameters";
        return std::nullopt;
    }
    std::erase_if(parameters->candidates,
                  [](const transport::SdpCandidate& c) { return c.address != "127.0.0.1"; });
    for (const transport::SdpMedia& m : parsed->media)
        parameters->ssrcs.insert(m.ssrcs.begin(), m.ssrcs.end());
    return parameters;
}

class JanusPeer final : public LoadPeer {
  public:
    JanusPeer(testpeer::Loop& loop, std::uint16_t port, std::uint64_t room, bool create_room,
              std::size_t room_publishers, PeerRole role, const MediaShape& shape,
              Recorder& recorder, std::uint32_t id)
        : LoadPeer(std::move(role), recorder, id),
          loop_(loop),
          port_(port),
          room_(room),
          create_room_(create_room),
          room_publishers_(room_publishers),
          shape_(shape) {}

    void start() override {
        started_ = Clock::now();
        last_keepalive_ = started_;
        socket_ = std::make_unique<testpeer::SignalingSocket>(loop_, port_, "/", "janus-protocol");
        if (socket_->closed()) problems_.push_back("signaling: " + socket_->error());
        send({{"janus", "create"}}, "create");
    }
    void subscribe(const std::vector<std::uint64_t>& feeds) override {
        for (std::uint64_t feed : feeds)
            if (feed != publisher_feed_) feeds_.push_back(feed);
        maybe_join_as_subscriber();
    }
    void step(Clock::time_point now) override;
    void leave() override {
        if (publisher_) publisher_->closing = true;
        if (subscriber_) subscriber_->closing = true;
        if (session_) send({{"janus", "destroy"}, {"session_id", session_}}, "destroy");
    }
    bool publishing() const override { return publisher_up_ && publisher_->connected; }
    std::uint64_t feed() const override { return publisher_feed_; }
    bool subscribed() const override { return subscriber_up_ && subscriber_->connected; }
    std::optional<transport::SrtpProfile> profile() const override {
        if (subscriber_) return subscriber_->transport.srtp_profile();
        return publisher_ ? publisher_->transport.srtp_profile() : std::nullopt;
    }
    std::vector<std::string> problems() const override { return problems_; }

  private:
    void send(json message, const std::string& transaction) {
        message["transaction"] = transaction;
        socket_->send(message);
    }
    void to_plugin(std::uint64_t handle, json body, const std::string& transaction,
                   std::optional<json> jsep = std::nullopt) {
        json message{{"janus", "message"},
                     {"session_id", session_},
                     {"handle_id", handle},
                     {"body", std::move(body)}};
        if (jsep) message["jsep"] = std::move(*jsep);
        send(std::move(message), transaction);
    }
    void trickle_completed(std::uint64_t handle) {
        send({{"janus", "trickle"},
              {"session_id", session_},
              {"handle_id", handle},
              {"candidate", {{"completed", true}}}},
             "trickle");
    }
    void on_message(const json& message);
    void on_event(const json& message, const std::string& transaction);
    void join_as_publisher() {
        to_plugin(publisher_handle_,
                  {{"request", "join"},
                   {"ptype", "publisher"},
                   {"room", room_},
                   {"display", role_.identity}},
                  "join-pub");
    }
    void publish();
    void maybe_join_as_subscriber() {
        if (!subscriber_handle_ || feeds_.empty() || subscribe_sent_) return;
        subscribe_sent_ = true;
        json streams = json::array();
        for (std::uint64_t feed : feeds_) streams.push_back({{"feed", feed}});
        to_plugin(
            subscriber_handle_,
            {{"request", "join"}, {"ptype", "subscriber"}, {"room", room_}, {"streams", streams}},
            "join-sub");
    }
    void answer_subscription(const std::string& offer);

    testpeer::Loop& loop_;
    std::uint16_t port_;
    std::uint64_t room_;
    bool create_room_;
    std::size_t room_publishers_;
    MediaShape shape_;
    std::unique_ptr<testpeer::SignalingSocket> socket_;
    std::uint64_t session_ = 0;
    std::uint64_t publisher_handle_ = 0;
    std::uint64_t subscriber_handle_ = 0;
    std::uint64_t publisher_feed_ = 0;
    std::vector<std::uint64_t> feeds_;
    bool subscribe_sent_ = false;
    bool publisher_up_ = false;
    bool subscriber_up_ = false;
    std::unique_ptr<JanusLeg> publisher_;
    std::unique_ptr<JanusLeg> subscriber_;
    std::uint32_t audio_ssrc_ = sfu::random_ssrc();
    std::uint32_t video_ssrc_ = sfu::random_ssrc();
    Clock::time_point last_keepalive_{};
    std::vector<std::string> problems_;
};

void JanusPeer::step(Clock::time_point now) {
    if (!socket_) return;
    while (auto message = socket_->take()) on_message(*message);
    if (session_ && now - last_keepalive_ > std::chrono::seconds(20)) {
        last_keepalive_ = now;
        send({{"janus", "keepalive"}, {"session_id", session_}}, "keepalive");
    }
    if (publishing() && source_) source_->pump(publisher_->transport, now);
}

void JanusPeer::on_message(const json& message) {
    const std::string kind = message.value("janus", "");
    const std::string transaction = message.value("transaction", "");
    if (kind == "error") {
        problems_.push_back("janus error: " + message.dump());
    } else if (kind == "success" && transaction == "create") {
        session_ = message["data"]["id"].get<std::uint64_t>();
        if (role_.publish)
            send({{"janus", "attach"},
                  {"session_id", session_},
                  {"plugin", "janus.plugin.videoroom"}},
                 "attach-pub");
        if (role_.subscribe)
            send({{"janus", "attach"},
                  {"session_id", session_},
                  {"plugin", "janus.plugin.videoroom"}},
                 "attach-sub");
    } else if (kind == "success" && transaction == "attach-pub") {
        publisher_handle_ = message["data"]["id"].get<std::uint64_t>();
        if (!create_room_) return join_as_publisher();
        to_plugin(publisher_handle_,
                  {{"request", "create"},
                   {"room", room_},
                   {"publishers", static_cast<int>(room_publishers_)},
                   {"bitrate", 0},
                   {"fir_freq", 0},
                   {"audiocodec", "opus"},
                   {"videocodec", "vp8"},
                   {"notify_joining", false}},
                  "create-room");
    } else if (kind == "success" && transaction == "attach-sub") {
        subscriber_handle_ = message["data"]["id"].get<std::uint64_t>();
        maybe_join_as_subscriber();
    } else if (kind == "success" && transaction == "create-room") {
        const json& data = message["plugindata"]["data"];
        if (data.value("videoroom", "") != "created")
            problems_.push_back("janus room: " + data.dump());
        join_as_publisher();
    } else if (kind == "event") {
        on_event(message, transaction);
    } else if (kind == "webrtcup") {
        // Janus admits subscriptions to a feed only once its own side of it is up.
        const auto sender = message.value("sender", std::uint64_t{0});
        if (sender == publisher_handle_) publisher_up_ = true;
        if (sender == subscriber_handle_) subscriber_up_ = true;
    } else if (kind == "hangup" || kind == "detached") {
        if (publisher_) publisher_->closing = true;
        if (subscriber_) subscriber_->closing = true;
    }
}

void JanusPeer::on_event(const json& message, const std::string& transaction) {
    const json& data = message.value("plugindata", json::object()).value("data", json::object());
    if (data.contains("error")) {
        problems_.push_back("videoroom: " + data.dump());
        return;
    }
    const std::string what = data.value("videoroom", "");
    if (transaction == "join-pub" && what == "joined") {
        publisher_feed_ = data["id"].get<std::uint64_t>();
        publish();
    } else if (transaction == "publish" && message.contains("jsep")) {
        std::string error;
        auto parameters = loopback_parameters(message["jsep"].value("sdp", ""), error);
        if (!parameters) {
            problems_.push_back("janus answer: " + error);
            return;
        }
        if (auto failed = publisher_->transport.set_remote(*parameters); !failed.empty())
            problems_.push_back("set_remote: " + failed);
    } else if (transaction == "join-sub" && what == "attached" && message.contains("jsep")) {
        answer_subscription(message["jsep"].value("sdp", ""));
    }
}

void JanusPeer::publish() {
    source_ = std::make_unique<StampedSource>(shape_, audio_ssrc_, video_ssrc_);
    publisher_ = std::make_unique<JanusLeg>(loop_, nullptr, source_.get(), problems_);
    transport::WebRtcTransport& t = publisher_->transport;
    if (auto error = t.prepare_offer(); !error.empty()) {
        problems_.push_back("prepare_offer: " + error);
        return;
    }
    const std::string sdp = testpeer::publisher_offer(t, t.local_fingerprint(), audio_ssrc_,
                                                      video_ssrc_, role_.identity);
    to_plugin(publisher_handle_, {{"request", "publish"}}, "publish",
              json{{"type", "offer"}, {"sdp", sdp}});
    trickle_completed(publisher_handle_);
}

void JanusPeer::answer_subscription(const std::string& offer) {
    std::string error;
    auto parameters = loopback_parameters(offer, error);
    if (!parameters) {
        problems_.push_back("janus offer: " + error);
        return;
    }
    subscriber_ = std::make_unique<JanusLeg>(loop_, &sink_, nullptr, problems_);
    transport::WebRtcTransport& t = subscriber_->transport;
    const std::set<std::uint32_t> ssrcs = parameters->ssrcs;
    if (auto failed = t.start(*parameters); !failed.empty()) {
        problems_.push_back("subscriber start: " + failed);
        return;
    }
    // Janus's offer may name its SSRCs or not: up to two per stream may be learned.
    t.set_allowed_ssrcs(ssrcs, 4 * feeds_.size());
    t.set_arrival_stamps(true);
    std::string answer = testpeer::mirror_subscriber_offer(offer, t.local_ufrag(), t.local_pwd(),
                                                           t.local_fingerprint(), t.local_setup());
    // Our candidates in the answer, after each section's ICE credentials.
    std::string candidates;
    for (const auto& c : t.local_candidates())
        candidates += "a=" + transport::write_candidate(c) + "\r\n";
    const std::string pwd = "a=ice-pwd:" + t.local_pwd() + "\r\n";
    for (std::size_t at = answer.find(pwd); at != std::string::npos;
         at = answer.find(pwd, at + pwd.size() + candidates.size()))
        answer.insert(at + pwd.size(), candidates);
    to_plugin(subscriber_handle_, {{"request", "start"}}, "start",
              json{{"type", "answer"}, {"sdp", answer}});
    trickle_completed(subscriber_handle_);
}

}  // namespace

std::unique_ptr<LoadPeer> make_janus_peer(testpeer::Loop& loop, std::uint16_t port,
                                          std::uint64_t room, bool create_room,
                                          std::size_t room_publishers, PeerRole role,
                                          const MediaShape& shape, Recorder& recorder,
                                          std::uint32_t id) {
    return std::make_unique<JanusPeer>(loop, port, room, create_room, room_publishers,
                                       std::move(role), shape, recorder, id);
}

}  // namespace rollcall::loadgen
