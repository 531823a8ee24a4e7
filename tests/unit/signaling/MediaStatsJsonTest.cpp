#include <gtest/gtest.h>

#include "signaling/MediaStatsJson.hpp"

namespace rollcall::signaling {
namespace {

using nlohmann::json;

room::Room two_people() {
    room::Room room;
    room.name = "r1";
    room.participants["alice"].identity = "alice";
    room.participants["alice"].session = 1;
    room.participants["bob"].identity = "bob";
    room.participants["bob"].session = 2;
    return room;
}

sfu::RoomTruth alice_to_bob() {
    sfu::RoomTruth truth;
    truth.room = "r1";
    sfu::TransportFact pub;
    pub.id = 10;
    pub.session = 1;
    pub.role = sfu::PeerRole::publisher;
    pub.connected = true;
    sfu::TransportFact sub;
    sub.id = 11;
    sub.session = 2;
    sub.role = sfu::PeerRole::subscriber;
    truth.transports = {pub, sub};
    sfu::ProducerFact video;
    video.track_id = "TR_v";
    video.publisher = 1;
    video.kind = transport::MediaKind::video;
    video.stats.bitrate_bps = 500'000.4;
    video.stats.loss = 0.0123456;
    video.stats.keyframe_requests = 3;
    truth.producers = {video};
    sfu::ConsumerFact sink;
    sink.transport = 11;
    sink.subscriber = 2;
    sink.publisher = 1;
    sink.track_id = "TR_v";
    sink.active = true;
    sink.stats.bitrate_bps = 480'000;
    sink.stats.rtt_ms = 12.5;
    sink.stats.nacks = 4;
    truth.consumers = {sink};
    return truth;
}

TEST(MediaStatsJson, APublisherSeesItsTracksAndAReceiverWhatItGetsAndFromWhom) {
    const room::Room room = two_people();
    const sfu::RoomTruth truth = alice_to_bob();
    const json alice = participant_media_json(room, room.participants.at("alice"), &truth);
    EXPECT_EQ(alice["publisher"]["state"], "connected");
    EXPECT_EQ(alice["subscriber"]["state"], "none");
    EXPECT_EQ(alice["bitrate_in_bps"], 500000);
    ASSERT_EQ(alice["published"].size(), 1u);
    EXPECT_EQ(alice["published"][0]["track"], "TR_v");
    EXPECT_EQ(alice["published"][0]["kind"], "video");
    EXPECT_EQ(alice["published"][0]["receivers"], 1);
    EXPECT_DOUBLE_EQ(alice["published"][0]["loss"].get<double>(), 0.012);
    EXPECT_EQ(alice["published"][0]["keyframe_requests"], 3);
    EXPECT_TRUE(alice["receiving"].empty());

    const json bob = participant_media_json(room, room.participants.at("bob"), &truth);
    EXPECT_EQ(bob["subscriber"]["state"], "connecting");
    EXPECT_DOUBLE_EQ(bob["subscriber"]["rtt_ms"].get<double>(), 12.5);
    EXPECT_EQ(bob["bitrate_out_bps"], 480000);
    ASSERT_EQ(bob["receiving"].size(), 1u);
    EXPECT_EQ(bob["receiving"][0]["from"], "alice");
    EXPECT_EQ(bob["receiving"][0]["nacks"], 4);
    EXPECT_TRUE(bob["published"].empty());

    EXPECT_EQ(room_bitrates_json(&truth),
              json({{"bitrate_in_bps", 500000}, {"bitrate_out_bps", 480000}}));
}

TEST(MediaStatsJson, NoMediaMeansNoTransportsAndNoUnknownRoundTrip) {
    const room::Room room = two_people();
    const json alice = participant_media_json(room, room.participants.at("alice"), nullptr);
    EXPECT_EQ(alice["publisher"]["state"], "none");
    EXPECT_TRUE(alice["subscriber"]["rtt_ms"].is_null());
    EXPECT_EQ(alice["bitrate_in_bps"], 0);
    EXPECT_EQ(room_bitrates_json(nullptr)["bitrate_out_bps"], 0);
}

}  // namespace
}  // namespace rollcall::signaling
