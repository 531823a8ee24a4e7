// SignalingHub's media and roll-call handlers against a fake media plane (FakeMedia): what
// the hub asks of the media layer, what it tells clients, and what roll call records.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "signaling/HubFixture.hpp"

namespace rollcall::signaling {
namespace {

using nlohmann::json;

std::string replace(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

class HubMediaTest : public test::HubFixture {
  protected:
    HubMediaTest() {
        media_ = std::make_unique<test::FakeMedia>();
        config_.roll_call.reconnect_grace = std::chrono::milliseconds(5000);
    }

    test::FakeMedia& media() { return *media_; }

    // `who` publishes the recorded Chromium offer and the media plane answers.
    json publish(Client& who, const std::string& sdp = sample("chromium-156-offer.sdp")) {
        say(who, {{"type", "publish"}, {"sdp", sdp}, {"id", "p"}});
        media().complete(media().publishes.size() - 1);
        return who.link.last();
    }

    // A truth for room r1 from worker 0.
    static sfu::MediaTruth truth(std::vector<sfu::TransportFact> transports,
                                 std::vector<sfu::ConsumerFact> consumers = {}) {
        sfu::MediaTruth t;
        t.worker = 0;
        t.applied = 1;
        sfu::RoomTruth room;
        room.room = "r1";
        room.transports = std::move(transports);
        room.consumers = std::move(consumers);
        t.rooms.push_back(std::move(room));
        return t;
    }

    static sfu::TransportFact transport(sfu::TransportId id, SessionId session, sfu::PeerRole role,
                                        transport::SdpFingerprint fingerprint = {}) {
        sfu::TransportFact f;
        f.id = id;
        f.session = session;
        f.role = role;
        f.signaled = fingerprint;
        return f;
    }

    const room::Participant& participant(const std::string& identity) {
        return *roster_->find("r1", identity);
    }
};

TEST_F(HubMediaTest, PublishAnswersWithTheTracksAndTellsTheRoom) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    const json answer = publish(alice);
    ASSERT_EQ(answer["type"], "answer") << answer;
    EXPECT_EQ(answer["ref"], "p");
    EXPECT_EQ(answer["sdp"], "v=0 fake answer");
    ASSERT_EQ(answer["tracks"].size(), 2u);
    EXPECT_EQ(answer["tracks"][0]["kind"], "audio");
    EXPECT_EQ(answer["tracks"][1]["source"], "camera");
    EXPECT_EQ(answer["rejected"], json::array());
    // The plan the media plane got carries the server's track ids.
    const sfu::OfferPlan& plan = media().publishes.at(0).plan;
    ASSERT_EQ(plan.tracks.size(), 2u);
    EXPECT_EQ(plan.tracks[0].track_id, answer["tracks"][0]["id"]);
    // Bob hears of both and is subscribed to them.
    ASSERT_EQ(bob.link.of_type("track_published").size(), 2u);
    const std::set<std::string> wanted{answer["tracks"][0]["id"], answer["tracks"][1]["id"]};
    EXPECT_EQ(media().subscriptions[bob.session], wanted);
}

TEST_F(HubMediaTest, ASectionTheServerCannotTakeIsNamedInTheAnswer) {
    Client& fox = join("fox");
    std::string offer = replace(sample("firefox-153-offer.sdp"), "VP8/90000", "H265/90000");
    offer = replace(offer, "VP9/90000", "H265/90000");
    const json answer = publish(fox, offer);
    ASSERT_EQ(answer["type"], "answer") << answer;
    ASSERT_EQ(answer["tracks"].size(), 1u);
    ASSERT_EQ(answer["rejected"].size(), 1u);
    EXPECT_EQ(answer["rejected"][0]["mid"], "1");
    EXPECT_EQ(answer["rejected"][0]["kind"], "video");
    EXPECT_EQ(answer["rejected"][0]["code"], "no_codec");
}

TEST_F(HubMediaTest, SdpIsRefusedBeforeTheMediaPlaneSeesIt) {
    Client& alice = join("alice");
    say(alice, {{"type", "publish"}, {"sdp", "v=0\r\nm=audio\r\n"}, {"id", 1}});
    EXPECT_EQ(alice.link.last()["code"], "sdp_malformed");
    const std::string sdes =
        replace(sample("chromium-156-offer.sdp"), "a=rtcp-mux\r\n",
                "a=rtcp-mux\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA\r\n");
    say(alice, {{"type", "publish"}, {"sdp", sdes}, {"id", 2}});
    EXPECT_EQ(alice.link.last()["code"], "sdes_not_supported");
    EXPECT_TRUE(media().publishes.empty());
    // A malformed SDP is a mistake; an offer to weaken the keying is recorded.
    EXPECT_EQ(stats_.audit_events, 1u);
    std::string without;
    std::istringstream lines(sample("chromium-156-offer.sdp"));
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("a=fingerprint", 0) != 0) without += line + "\n";
    }
    say(alice, {{"type", "publish"}, {"sdp", without}, {"id", 3}});
    EXPECT_EQ(alice.link.last()["code"], "fingerprint_missing");
    EXPECT_EQ(stats_.audit_events, 2u);
}

TEST_F(HubMediaTest, MediaPlaneErrorsReachTheClientWithTheirCodes) {
    Client& alice = join("alice");
    say(alice, {{"type", "publish"}, {"sdp", sample("chromium-156-offer.sdp")}, {"id", "a"}});
    say(alice, {{"type", "publish"}, {"sdp", sample("chromium-156-offer.sdp")}, {"id", "b"}});
    EXPECT_EQ(alice.link.last()["code"], "negotiation_in_progress");
    media().complete(0, {sfu::MediaError::media_busy, "the media worker is overloaded; try again"});
    EXPECT_EQ(alice.link.last()["code"], "media_busy");
    EXPECT_EQ(alice.link.last()["ref"], "a");
    // Not pending any more: the next offer goes through.
    EXPECT_EQ(publish(alice)["type"], "answer");
}

TEST_F(HubMediaTest, TrickleIsCheckedThenHandedToTheRightTransport) {
    Client& alice = join("alice");
    const json line = "candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host";
    say(alice, {{"type", "trickle"}, {"candidate", "candidate:garbage"}, {"id", 1}});
    EXPECT_EQ(alice.link.last()["code"], "bad_candidate");
    say(alice, {{"type", "trickle"}, {"candidate", line}, {"id", 2}});
    EXPECT_EQ(alice.link.last()["code"], "no_transport");
    // A loopback server never probes a private network on a participant's say-so.
    say(alice, {{"type", "trickle"},
                {"candidate", "candidate:1 1 udp 1 10.0.0.5 6379 typ host"},
                {"id", 9}});
    EXPECT_EQ(alice.link.last()["code"], "candidate_refused");
    publish(alice);
    say(alice, {{"type", "trickle"}, {"candidate", line}, {"target", "sideways"}, {"id", 3}});
    EXPECT_EQ(alice.link.last()["code"], "malformed_message");
    say(alice, {{"type", "trickle"}, {"candidate", line}, {"target", "subscriber"}});
    ASSERT_EQ(media().candidates.size(), 1u);
    EXPECT_EQ(media().candidates[0].role, sfu::PeerRole::subscriber);
    EXPECT_EQ(media().candidates[0].address, "127.0.0.1");
}

TEST_F(HubMediaTest, SubscriberOffersAndAnswersGoBetweenClientAndMediaPlane) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    const json published = publish(alice);
    const std::string video = published["tracks"][1]["id"];
    sfu::SubscriberOffer offer;
    offer.sdp = "v=0 offer";
    offer.version = 1;
    offer.slots = {{"0", transport::MediaKind::video, video},
                   {"1", transport::MediaKind::audio, ""}};
    hub().on_subscriber_offer(bob.session, offer);
    const json told = bob.link.last();
    ASSERT_EQ(told["type"], "subscribe_offer");
    EXPECT_EQ(told["tracks"][0]["participant"]["identity"], "alice");
    EXPECT_EQ(told["tracks"][0]["source"], "camera");
    EXPECT_TRUE(told["tracks"][1]["track"].is_null());

    // The answer is planned (a recorded aiortc answer) and handed over; an error comes back.
    say(bob, {{"type", "subscribe_answer"},
              {"sdp", sample("aiortc-1.4-answer.sdp")},
              {"version", 1},
              {"id", "s"}});
    ASSERT_EQ(media().answers.size(), 1u);
    EXPECT_EQ(media().answers[0].version, 1u);
    media().answers[0].done(
        {sfu::MediaError::stale_answer, "that is not the answer to the outstanding offer"});
    EXPECT_EQ(bob.link.last()["code"], "stale_answer");
    EXPECT_EQ(bob.link.last()["ref"], "s");
}

// track_settings: checked, remembered with the subscription, handed to the media plane,
// and forgotten with the track.
TEST_F(HubMediaTest, TrackSettingsGoWithTheSubscriptions) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    const std::string video = publish(alice)["tracks"][1]["id"];
    say(bob, {{"type", "track_settings"},
              {"track", video},
              {"maxWidth", 320},
              {"maxHeight", 180},
              {"id", 7}});
    const json reply = bob.link.last();
    EXPECT_EQ(reply["type"], "track_settings") << reply;
    EXPECT_EQ(reply["ref"], 7);
    EXPECT_EQ(reply["maxWidth"], 320);
    EXPECT_EQ(reply["paused"], false);
    const sfu::TrackSettingsMap& sent = media().track_settings.at(bob.session);
    ASSERT_TRUE(sent.contains(video));
    EXPECT_EQ(sent.at(video), (sfu::TrackSettings{320, 180, false}));
    // A later change of the room keeps them.
    Client& carol = join("carol");
    publish(carol);
    EXPECT_EQ(media().track_settings.at(bob.session).at(video),
              (sfu::TrackSettings{320, 180, false}));
    say(bob, {{"type", "track_settings"}, {"track", video}, {"paused", true}});
    EXPECT_EQ(media().track_settings.at(bob.session).at(video), (sfu::TrackSettings{0, 0, true}));
    // Back to the defaults: nothing kept.
    say(bob, {{"type", "track_settings"}, {"track", video}});
    EXPECT_FALSE(media().track_settings.at(bob.session).contains(video));

    // Refused: no such track, one's own track, sizes that are not whole numbers in range.
    for (const json& bad : {json{{"type", "track_settings"}, {"track", "TR_nope"}},
                            json{{"type", "track_settings"}}}) {
        say(bob, bad);
        EXPECT_EQ(bob.link.last()["type"], "error");
    }
    EXPECT_EQ(bob.link.last()["code"], "malformed_message");
    say(bob, {{"type", "track_settings"}, {"track", "TR_nope"}});
    EXPECT_EQ(bob.link.last()["code"], "track_not_found");
    say(alice, {{"type", "track_settings"}, {"track", video}, {"maxWidth", 10}});
    EXPECT_EQ(alice.link.last()["code"], "track_not_found");
    for (const json& size : {json(-1), json(8193), json(1.5), json("640")}) {
        say(bob, {{"type", "track_settings"}, {"track", video}, {"maxWidth", size}});
        EXPECT_EQ(bob.link.last()["code"], "malformed_message") << size;
    }
    say(bob, {{"type", "track_settings"}, {"track", video}, {"paused", "yes"}});
    EXPECT_EQ(bob.link.last()["code"], "malformed_message");
}

// A busy room makes many offers; the answer to the outstanding one must never be lost to the
// rate limit (the connection's media would stall waiting for it), but only that one passes.
TEST_F(HubMediaTest, TheAnswerToTheOutstandingOfferPassesTheRateLimitOnce) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    const json published = publish(alice);
    sfu::SubscriberOffer offer;
    offer.sdp = "v=0 offer";
    offer.version = 4;
    offer.slots = {{"0", transport::MediaKind::video, published["tracks"][1]["id"]}};
    hub().on_subscriber_offer(bob.session, offer);
    for (int i = 0; i < 100 && bob.link.of_type("error").empty(); ++i) say(bob, {{"type", "ping"}});
    ASSERT_EQ(bob.link.last()["code"], "rate_limited");
    const json answer = {
        {"type", "subscribe_answer"}, {"sdp", sample("aiortc-1.4-answer.sdp")}, {"version", 4}};
    say(bob, answer);
    ASSERT_EQ(media().answers.size(), 1u) << "the awaited answer went through";
    EXPECT_EQ(media().answers[0].version, 4u);
    say(bob, answer);  // again: just another message over the rate
    EXPECT_EQ(media().answers.size(), 1u);
    auto stale = answer;
    stale["version"] = 3;
    say(bob, stale);
    EXPECT_EQ(media().answers.size(), 1u);
    EXPECT_FALSE(bob.link.closed);
}

TEST_F(HubMediaTest, AFailedPublisherTransportUnpublishesItsTracks) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    publish(alice);
    hub().on_media_failed(alice.session, sfu::PeerRole::publisher,
                          "ICE connectivity checks failed");
    EXPECT_EQ(alice.link.last()["type"], "media");
    EXPECT_EQ(alice.link.last()["state"], "failed");
    EXPECT_EQ(bob.link.of_type("track_unpublished").size(), 2u);
    EXPECT_TRUE(participant("alice").tracks.empty());
    EXPECT_FALSE(
        participant("alice").publisher_fingerprint.has_value());  // a new connection binds its own
}

// --- roll call -------------------------------------------------------------------------

TEST_F(HubMediaTest, AStrayTransportIsEjectedAndRecordedOnce) {
    join("alice");
    const auto stray = transport(77, 999, sfu::PeerRole::publisher);
    hub().on_media_truth(truth({stray}));
    ASSERT_EQ(media().ejected, (std::vector<sfu::TransportId>{77}));
    EXPECT_EQ(stats_.audit_ejections_by_reason["not_on_roster"], 1u);
    // Seen again before the ejection landed: ordered again, recorded once.
    hub().on_media_truth(truth({stray}));
    EXPECT_EQ(media().ejected.size(), 2u);
    EXPECT_EQ(stats_.audit_ejections_by_reason["not_on_roster"], 1u);
}

TEST_F(HubMediaTest, ATruthBehindSignalingIsNotAudited) {
    join("alice");
    media().current = false;
    hub().on_media_truth(truth({transport(77, 999, sfu::PeerRole::publisher)}));
    EXPECT_TRUE(media().ejected.empty());
    EXPECT_EQ(stats_.audit_events, 0u);
}

TEST_F(HubMediaTest, AGhostConsumerIsDroppedAndItsReceiverTold) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    const std::string track = publish(alice)["tracks"][0]["id"];
    // Bob unsubscribes, but the media plane still forwards the track to him.
    say(bob, {{"type", "unsubscribe"}, {"tracks", {track}}});
    sfu::ConsumerFact ghost{20, bob.session, track, alice.session, true, {}, {}};
    hub().on_media_truth(truth({transport(20, bob.session, sfu::PeerRole::subscriber)}, {ghost}));
    ASSERT_EQ(media().dropped.size(), 1u);
    EXPECT_EQ(media().dropped[0], std::make_pair(sfu::TransportId{20}, track));
    const json told = bob.link.of_type("roll_call").at(0);
    EXPECT_EQ(told["class"], "unauthorized_consumer");
    EXPECT_EQ(told["action"], "consumer_dropped");
    EXPECT_EQ(told["track"], track);
}

TEST_F(HubMediaTest, ALiveTransportWithAnotherCertificateIsEjectedAsItsOwnFailure) {
    Client& alice = join("alice");
    publish(alice);
    transport::SdpFingerprint other{"sha-256", "AB:CD"};
    auto swapped = transport(30, alice.session, sfu::PeerRole::publisher,
                             *participant("alice").publisher_fingerprint);
    swapped.peer_fingerprint = other.value;
    swapped.connected = true;
    hub().on_media_truth(truth({swapped}));
    EXPECT_EQ(media().ejected, (std::vector<sfu::TransportId>{30}));
    const json told = alice.link.of_type("roll_call").at(0);
    EXPECT_EQ(told["class"], "fingerprint_mismatch");
    EXPECT_EQ(told["action"], "transport_closed");
    EXPECT_EQ(alice.link.last()["type"], "media");
    EXPECT_EQ(alice.link.last()["state"], "failed");
}

TEST_F(HubMediaTest, ARenegotiationWithAnotherFingerprintIsRefusedAndRecorded) {
    Client& alice = join("alice");
    publish(alice);
    const std::string other = replace(sample("chromium-156-offer.sdp"),
                                      "a=fingerprint:sha-256 BB:53", "a=fingerprint:sha-256 00:53");
    say(alice, {{"type", "publish"}, {"sdp", other}, {"id", "x"}});
    EXPECT_EQ(alice.link.last()["code"], "fingerprint_changed");
    EXPECT_EQ(media().publishes.size(), 1u);
    EXPECT_EQ(stats_.audit_events, 1u);
    EXPECT_EQ(stats_.audit_ejections_by_reason.count("fingerprint_mismatch"),
              0u);  // refused, not ejected
}

TEST_F(HubMediaTest, RepeatedRefusalsAreOneEventWithACount) {
    Client& alice = join("alice");
    const std::string sdes =
        replace(sample("chromium-156-offer.sdp"), "a=rtcp-mux\r\n",
                "a=rtcp-mux\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA\r\n");
    for (int i = 0; i < 20; ++i) say(alice, {{"type", "publish"}, {"sdp", sdes}, {"id", i}});
    EXPECT_EQ(alice.link.of_type("error").size(), 20u) << "each still gets its answer";
    EXPECT_EQ(stats_.audit_events, 1u) << "the first is written at once";
    hub().tick(Clock::now() + RollCall::kRepeatWindow + std::chrono::seconds(1));
    EXPECT_EQ(stats_.audit_events, 2u) << "then one event counting the 19 repeats";
    hub().tick(Clock::now() + 3 * RollCall::kRepeatWindow);
    EXPECT_EQ(stats_.audit_events, 2u);
}

TEST_F(HubMediaTest, IncidentsAreRecordedAndAHeldPathIsTold) {
    Client& alice = join("alice");
    publish(alice);
    sfu::MediaTruth t = truth({});
    sfu::MediaIncident held;
    held.kind = sfu::MediaIncident::Kind::path_change;
    held.room = "r1";
    held.session = alice.session;
    held.role = sfu::PeerRole::publisher;
    held.expected = "127.0.0.1:5000";
    held.observed = "127.0.0.1:6000";
    t.incidents.push_back(held);
    hub().on_media_truth(t);
    const json told = alice.link.of_type("roll_call").at(0);
    EXPECT_EQ(told["class"], "path_change");
    EXPECT_EQ(told["action"], "path_held");
    EXPECT_EQ(stats_.audit_events, 1u);
}

TEST_F(HubMediaTest, TheAudienceListsOnlySinksThatReallyForward) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    Client& carol = join("carol");
    const std::string track = publish(alice)["tracks"][0]["id"];
    auto bobs = transport(40, bob.session, sfu::PeerRole::subscriber);
    bobs.connected = true;
    auto carols = transport(41, carol.session, sfu::PeerRole::subscriber);  // never connected
    auto audience = [&] { return alice.link.of_type("audience").back()["audience"]; };
    // Bob has not answered yet (his consumer is not forwarding); Carol's transport never connected.
    hub().on_media_truth(
        truth({bobs, carols}, {{40, bob.session, track, alice.session, false, {}, {}},
                               {41, carol.session, track, alice.session, true, {}, {}}}));
    EXPECT_EQ(audience(), json::array());
    hub().on_media_truth(
        truth({bobs, carols}, {{40, bob.session, track, alice.session, true, {}, {}},
                               {41, carol.session, track, alice.session, true, {}, {}}}));
    ASSERT_EQ(audience().size(), 1u);
    EXPECT_EQ(audience()[0]["identity"], "bob");
}

TEST_F(HubMediaTest, KickGoesThroughRollCall) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    publish(alice);
    EXPECT_EQ(hub().kick("r1", "alice", "enough", now_), SignalingHub::KickResult::kicked);
    EXPECT_EQ(alice.link.of_type("kicked").at(0)["message"], "enough");
    EXPECT_TRUE(alice.link.closed.has_value());
    EXPECT_FALSE(media().has(alice.session));  // its media ended with its link
    EXPECT_EQ(bob.link.of_type("participant_left").at(0)["reason"], "kicked");
    EXPECT_EQ(stats_.audit_events, 1u);
    EXPECT_EQ(stats_.kicks, 1u);
}

TEST_F(HubMediaTest, AReplacedSessionIsEjectedAndTheOthersTold) {
    Client& first = join("alice");
    Client& watcher = join("bob");
    publish(first);
    Client& second = join("alice");
    EXPECT_EQ(first.link.of_type("kicked").at(0)["reason"], "replaced");
    EXPECT_FALSE(media().has(first.session));
    EXPECT_EQ(watcher.link.of_type("participant_left").at(0)["reason"], "replaced");
    EXPECT_EQ(second.link.of_type("joined").size(), 1u);
}

TEST_F(HubMediaTest, AnAdminMuteStopsTheTrackTellsTheRoomAndHoldsAgainstTheParticipant) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    publish(alice);
    const std::string track = participant("alice").tracks.begin()->first;
    EXPECT_EQ(hub().admin_mute("r1", "alice", track, true), SignalingHub::MuteResult::done);
    EXPECT_TRUE(media().paused_tracks[track]);
    const json told = bob.link.of_type("track_muted").back();
    EXPECT_EQ(told["track"], track);
    EXPECT_EQ(told["muted"], true);
    EXPECT_EQ(told["by"], "admin");
    EXPECT_EQ(alice.link.of_type("muted").back()["by"], "admin");
    EXPECT_TRUE(participant("alice").tracks.at(track).admin_muted);
    // Alice may not lift it herself, and may still mute other tracks.
    say(alice, {{"type", "mute"}, {"track", track}, {"muted", false}, {"id", 9}});
    EXPECT_EQ(alice.link.last()["code"], "muted_by_admin");
    EXPECT_TRUE(participant("alice").tracks.at(track).muted);
    EXPECT_EQ(hub().admin_mute("r1", "alice", track, false), SignalingHub::MuteResult::done);
    EXPECT_FALSE(media().paused_tracks[track]);
    EXPECT_FALSE(participant("alice").tracks.at(track).muted);
    EXPECT_EQ(hub().admin_mute("r1", "alice", "TR_none", true),
              SignalingHub::MuteResult::track_not_found);
    EXPECT_EQ(hub().admin_mute("r1", "zed", track, true),
              SignalingHub::MuteResult::participant_not_found);
    EXPECT_EQ(hub().admin_mute("r9", "alice", track, true),
              SignalingHub::MuteResult::room_not_found);
}

TEST_F(HubMediaTest, RestartIceAsksTheMediaPlaneForARestartingOffer) {
    Client& alice = join("alice");
    say(alice, {{"type", "restart_ice"}, {"target", "subscriber"}, {"id", 1}});
    EXPECT_EQ(alice.link.of_type("error").at(0)["code"], "no_transport");  // nothing offered yet
    sfu::SubscriberOffer offer;
    offer.sdp = "v=0 fake offer";
    offer.version = 1;
    offer.slots.push_back({"0", transport::MediaKind::video, "TR_x"});
    media().sessions.insert(alice.session);
    hub().on_subscriber_offer(alice.session, offer);
    say(alice, {{"type", "restart_ice"}, {"target", "publisher"}, {"id", 2}});
    EXPECT_EQ(alice.link.of_type("error").at(1)["code"], "malformed_message");
    EXPECT_EQ(alice.link.of_type("error").at(1)["ref"], 2);
    say(alice, {{"type", "restart_ice"}, {"id", 3}});
    EXPECT_EQ(alice.link.of_type("error").at(2)["code"], "malformed_message");
    EXPECT_TRUE(media().subscriber_restarts.empty());
    say(alice, {{"type", "restart_ice"}, {"target", "subscriber"}});
    EXPECT_EQ(media().subscriber_restarts, std::vector<SessionId>{alice.session});
}

TEST_F(HubMediaTest, MediaOutlivesADroppedSocketOnlyForTheGrace) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    publish(alice);
    hub().on_close(alice.session);
    EXPECT_TRUE(media().has(alice.session));  // within the grace
    EXPECT_TRUE(bob.link.of_type("participant_left").empty());
    hub().tick(now_ + std::chrono::seconds(1));
    EXPECT_TRUE(media().has(alice.session));
    hub().tick(Clock::now() + std::chrono::seconds(6));
    EXPECT_FALSE(media().has(alice.session));
    EXPECT_EQ(bob.link.of_type("participant_left").at(0)["reason"], "disconnected");
    EXPECT_EQ(stats_.audit_ejections_by_reason["reconnect_grace_expired"], 1u);
}

TEST_F(HubMediaTest, ClosingARoomEndsMediaKeptForTheGraceToo) {
    Client& alice = join("alice");
    Client& bob = join("bob");
    publish(alice);
    hub().on_close(alice.session);
    ASSERT_TRUE(media().has(alice.session));
    EXPECT_EQ(hub().close_room("r1"), 2u);
    EXPECT_FALSE(media().has(alice.session));
    EXPECT_EQ(bob.link.of_type("kicked").at(0)["reason"], "room_closed");
}

}  // namespace
}  // namespace rollcall::signaling

namespace rollcall::signaling {
namespace {

const char* kDataOnlyOffer =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 "
    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:"
    "99\r\na=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\n";

class HubDataTest : public test::HubFixture {
  protected:
    HubDataTest() { media_ = std::make_unique<test::FakeMedia>(); }

    Client& join_with(const std::string& identity, bool publish, bool data, bool subscribe) {
        json payload = token_for(identity);
        payload["video"]["canPublish"] = publish;
        payload["video"]["canPublishData"] = data;
        payload["video"]["canSubscribe"] = subscribe;
        Client& c = connect();
        say(c, {{"type", "join"}, {"token", test::hs256(payload)}});
        return c;
    }
    json offer(Client& who, const std::string& sdp) {
        say(who, {{"type", "publish"}, {"sdp", sdp}, {"id", "d"}});
        if (media_->publishes.size() > completed_) media_->complete(completed_++);
        return who.link.last();
    }
    std::size_t completed_ = 0;
};

TEST_F(HubDataTest, WithoutCanPublishADataOnlyConnectionIsAllowed) {
    Client& viewer = join_with("viewer", false, false, true);
    const json answer = offer(viewer, kDataOnlyOffer);
    ASSERT_EQ(answer["type"], "answer") << answer;
    EXPECT_EQ(answer["tracks"], json::array());
    const sfu::OfferPlan& plan = media_->publishes.at(0).plan;
    ASSERT_TRUE(plan.data);
    EXPECT_EQ(plan.data->identity, "viewer");
    EXPECT_FALSE(plan.data->may_send);  // no canPublishData
    EXPECT_TRUE(plan.data->may_receive);
}

TEST_F(HubDataTest, WithoutCanPublishMediaIsStillRefused) {
    Client& viewer = join_with("viewer", false, true, true);
    const json refused = offer(viewer, sample("chromium-156-offer.sdp"));
    EXPECT_EQ(refused["type"], "error");
    EXPECT_EQ(refused["code"], "permission_denied") << refused;
    EXPECT_TRUE(media_->publishes.empty());
}

TEST_F(HubDataTest, WithNoGrantForDataAtAllNothingIsOffered) {
    Client& mute = join_with("mute", false, false, false);
    const json refused = offer(mute, kDataOnlyOffer);
    EXPECT_EQ(refused["code"], "permission_denied") << refused;
    EXPECT_TRUE(media_->publishes.empty());
}

TEST_F(HubDataTest, TheSenderGrantTravelsWithThePlan) {
    Client& talker = join_with("talker", true, true, true);
    const json answer = offer(talker, kDataOnlyOffer);
    ASSERT_EQ(answer["type"], "answer") << answer;
    EXPECT_TRUE(media_->publishes.at(0).plan.data->may_send);
}

TEST_F(HubDataTest, DataClosedIsToldToTheParticipant) {
    Client& talker = join_with("talker", true, true, true);
    hub().on_data_closed(talker.session, "slow_receiver");
    const json told = talker.link.last();
    EXPECT_EQ(told["type"], "data_closed");
    EXPECT_EQ(told["reason"], "slow_receiver");
    EXPECT_NE(told["message"].get<std::string>().find("stopped reading"), std::string::npos);
}

// The subscriber's link cannot carry a video: it is told which track, and told again when
// the video comes back.
TEST_F(HubDataTest, AVideoTheLinkCannotCarryIsToldPausedThenActive) {
    Client& bob = join_with("bob", true, true, true);
    hub().on_video_off(bob.session, "TR_cam", true);
    json told = bob.link.last();
    EXPECT_EQ(told["type"], "stream_state");
    EXPECT_EQ(told["track"], "TR_cam");
    EXPECT_EQ(told["state"], "paused");
    EXPECT_EQ(told["reason"], "bandwidth");
    EXPECT_TRUE(told.contains("message"));
    hub().on_video_off(bob.session, "TR_cam", false);
    told = bob.link.last();
    EXPECT_EQ(told["state"], "active");
    EXPECT_FALSE(told.contains("message"));
}

}  // namespace
}  // namespace rollcall::signaling
