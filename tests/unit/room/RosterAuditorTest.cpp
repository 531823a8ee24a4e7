#include <gtest/gtest.h>

#include "room/RosterAuditor.hpp"

namespace rollcall::room {
namespace {

using sfu::PeerRole;

const transport::SdpFingerprint kAliceFp{"sha-256", "AA:AA"};
const transport::SdpFingerprint kOtherFp{"sha-256", "BB:BB"};

// A room with alice (session 1, publishing track TA) and bob (session 2, subscribed to TA).
Room two_people() {
    Room room;
    room.name = "r";
    Participant alice;
    alice.identity = "alice";
    alice.session = 1;
    alice.grants.can_publish = alice.grants.can_subscribe = true;
    alice.publisher_fingerprint = kAliceFp;
    alice.tracks["TA"] = Track{"TA", "video", "camera", "0", "VP8", false};
    Participant bob;
    bob.identity = "bob";
    bob.session = 2;
    bob.grants.can_subscribe = true;
    bob.subscriber_fingerprint = kOtherFp;
    bob.subscriptions.insert("TA");
    room.participants["alice"] = alice;
    room.participants["bob"] = bob;
    return room;
}

sfu::TransportFact transport(sfu::TransportId id, sfu::SessionId session, PeerRole role,
                             transport::SdpFingerprint signaled = {}, std::string peer = "") {
    sfu::TransportFact fact;
    fact.id = id;
    fact.session = session;
    fact.role = role;
    fact.signaled = std::move(signaled);
    fact.peer_fingerprint = std::move(peer);
    fact.connected = !fact.peer_fingerprint.empty();
    return fact;
}

// What honest code produces: alice's publisher transport, bob's subscriber transport
// carrying alice's track.
sfu::RoomTruth honest() {
    sfu::RoomTruth truth;
    truth.room = "r";
    truth.transports = {transport(10, 1, PeerRole::publisher, kAliceFp, kAliceFp.value),
                        transport(11, 2, PeerRole::subscriber, kOtherFp, kOtherFp.value)};
    sfu::ConsumerFact sink;
    sink.transport = 11;
    sink.subscriber = 2;
    sink.track_id = "TA";
    sink.publisher = 1;
    sink.active = true;
    truth.consumers = {sink};
    return truth;
}

TEST(RosterAuditor, HonestRoomHasNoFindings) {
    const Room room = two_people();
    EXPECT_TRUE(RosterAuditor::audit(&room, honest()).empty());
}

TEST(RosterAuditor, TransportOfSomeoneNotOnTheRosterIsClosed) {
    const Room room = two_people();
    sfu::RoomTruth truth = honest();
    truth.transports.push_back(transport(12, 99, PeerRole::subscriber));
    auto findings = RosterAuditor::audit(&room, truth);
    ASSERT_EQ(findings.size(), 2u);  // the stray, and a peer count above the roster's
    EXPECT_EQ(findings[0].audit_class, AuditClass::not_on_roster);
    EXPECT_EQ(findings[0].action, Finding::Action::close_transport);
    EXPECT_EQ(findings[0].transport, 12u);
    EXPECT_EQ(findings[1].audit_class, AuditClass::peer_count);
}

TEST(RosterAuditor, AfterALeaveEverythingOfThatSessionIsHidden) {
    Room room = two_people();
    room.participants.erase("bob");
    auto findings = RosterAuditor::audit(&room, honest());
    ASSERT_EQ(findings.size(), 2u);
    EXPECT_EQ(findings[0].audit_class, AuditClass::not_on_roster);
    EXPECT_EQ(findings[0].transport, 11u);  // its consumer goes with it: no separate finding
    EXPECT_EQ(findings[1].audit_class, AuditClass::peer_count);
}

TEST(RosterAuditor, MissingRoomMakesEveryTransportHidden) {
    auto findings = RosterAuditor::audit(nullptr, honest());
    EXPECT_EQ(
        std::count_if(findings.begin(), findings.end(),
                      [](const Finding& f) { return f.audit_class == AuditClass::not_on_roster; }),
        2);
}

TEST(RosterAuditor, SecondTransportInOneRoleIsClosedAndTheFirstKept) {
    const Room room = two_people();
    sfu::RoomTruth truth = honest();
    truth.transports.push_back(transport(13, 1, PeerRole::publisher));
    auto findings = RosterAuditor::audit(&room, truth);
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].audit_class, AuditClass::too_many_transports);
    EXPECT_EQ(findings[0].transport, 13u);
    EXPECT_EQ(findings[0].identity, "alice");
}

TEST(RosterAuditor, PublisherTransportWithoutAnOfferOrGrantIsClosed) {
    const Room room = two_people();
    sfu::RoomTruth truth = honest();
    truth.transports.push_back(
        transport(14, 2, PeerRole::publisher));  // bob never offered, may not publish
    auto findings = RosterAuditor::audit(&room, truth);
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].audit_class, AuditClass::too_many_transports);
    EXPECT_EQ(findings[0].transport, 14u);
}

TEST(RosterAuditor, PeerWithAnotherCertificateIsClosed) {
    const Room room = two_people();
    sfu::RoomTruth truth = honest();
    truth.transports[0].peer_fingerprint = kOtherFp.value;
    auto findings = RosterAuditor::audit(&room, truth);
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].audit_class, AuditClass::fingerprint_mismatch);
    EXPECT_EQ(findings[0].transport, 10u);
}

TEST(RosterAuditor, TransportToldToExpectAnotherFingerprintIsClosed) {
    const Room room = two_people();
    sfu::RoomTruth truth = honest();
    truth.transports[0].signaled = kOtherFp;
    truth.transports[0].peer_fingerprint.clear();  // not even connected yet
    auto findings = RosterAuditor::audit(&room, truth);
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].audit_class, AuditClass::fingerprint_mismatch);
}

TEST(RosterAuditor, ConsumerWithoutSubscriptionIsDroppedNotItsTransport) {
    Room room = two_people();
    room.participants["bob"].subscriptions.clear();
    auto findings = RosterAuditor::audit(&room, honest());
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].audit_class, AuditClass::unauthorized_consumer);
    EXPECT_EQ(findings[0].action, Finding::Action::drop_consumer);
    EXPECT_EQ(findings[0].transport, 11u);
    EXPECT_EQ(findings[0].track_id, "TA");
    EXPECT_EQ(findings[0].identity, "bob");
}

TEST(RosterAuditor, ConsumerOfATrackTheRosterDoesNotKnowIsDropped) {
    Room room = two_people();
    room.participants["alice"].tracks.clear();  // unpublished; bob's subscription stayed by mistake
    auto findings = RosterAuditor::audit(&room, honest());
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].audit_class, AuditClass::unauthorized_consumer);
}

TEST(RosterAuditor, ConsumerForASubscriberWhoMayNotSubscribeIsDropped) {
    Room room = two_people();
    room.participants["bob"].grants.can_subscribe = false;
    auto findings = RosterAuditor::audit(&room, honest());
    // Its transport may not exist either; the consumer goes with it.
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].audit_class, AuditClass::too_many_transports);
}

TEST(RosterAuditor, DisconnectedParticipantsAreOverdueOnlyAfterTheGrace) {
    Roster roster({});
    Participant alice;
    alice.identity = "alice";
    alice.session = 1;
    roster.join("r", alice);
    const auto t0 = Clock::now();
    EXPECT_FALSE(roster.mark_disconnected("r", "alice", 2, t0));  // another session's drop
    EXPECT_TRUE(roster.mark_disconnected("r", "alice", 1, t0));
    EXPECT_TRUE(
        RosterAuditor::overdue(roster, t0 + std::chrono::seconds(2), std::chrono::seconds(3))
            .empty());
    auto due =
        RosterAuditor::overdue(roster, t0 + std::chrono::seconds(3), std::chrono::seconds(3));
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0], std::make_pair(std::string("r"), std::string("alice")));
}

TEST(Roster, FirstFingerprintBindsAndAnotherIsRefused) {
    Roster roster({});
    Participant alice;
    alice.identity = "alice";
    alice.session = 1;
    roster.join("r", alice);
    EXPECT_TRUE(roster.bind_fingerprint("r", "alice", PeerRole::publisher, kAliceFp));
    EXPECT_TRUE(roster.bind_fingerprint("r", "alice", PeerRole::publisher, kAliceFp));
    EXPECT_FALSE(roster.bind_fingerprint("r", "alice", PeerRole::publisher, kOtherFp));
    EXPECT_TRUE(roster.bind_fingerprint("r", "alice", PeerRole::subscriber,
                                        kOtherFp));  // its own per connection
    EXPECT_EQ(*roster.find("r", "alice")->publisher_fingerprint, kAliceFp);
}

TEST(Roster, AReleasedFingerprintLetsTheNextConnectionBindItsOwnButOnlyForItsSession) {
    Roster roster({});
    Participant alice;
    alice.identity = "alice";
    alice.session = 1;
    roster.join("r", alice);
    ASSERT_TRUE(roster.bind_fingerprint("r", "alice", PeerRole::publisher, kAliceFp));
    roster.release_fingerprint("r", "alice", /*session=*/2, PeerRole::publisher);  // not the holder
    EXPECT_FALSE(roster.bind_fingerprint("r", "alice", PeerRole::publisher, kOtherFp));
    roster.release_fingerprint("r", "alice", /*session=*/1,
                               PeerRole::subscriber);  // the other connection
    EXPECT_FALSE(roster.bind_fingerprint("r", "alice", PeerRole::publisher, kOtherFp));
    roster.release_fingerprint("r", "alice", /*session=*/1, PeerRole::publisher);
    EXPECT_TRUE(roster.bind_fingerprint("r", "alice", PeerRole::publisher, kOtherFp));
    EXPECT_EQ(*roster.find("r", "alice")->publisher_fingerprint, kOtherFp);
}

}  // namespace
}  // namespace rollcall::room

namespace rollcall::room {
namespace {

sfu::DataFact data_on(sfu::TransportId transport, sfu::SessionId session, PeerRole role,
                      bool receives) {
    sfu::DataFact data;
    data.transport = transport;
    data.session = session;
    data.role = role;
    data.connected = true;
    data.receives = receives;
    data.channels = {"chat"};
    return data;
}

// Bob may subscribe but not publish: a publishing connection that carries only data is his to
// hold, and the room's data is his to receive.
TEST(RosterAuditor, ADataOnlyConnectionNeedsNoPublishGrant) {
    Room room = two_people();
    room.participants["bob"].publisher_fingerprint = kOtherFp;
    sfu::RoomTruth truth = honest();
    truth.transports.push_back(transport(12, 2, PeerRole::publisher, kOtherFp, kOtherFp.value));
    truth.data = {data_on(10, 1, PeerRole::publisher, true),
                  data_on(12, 2, PeerRole::publisher, true)};
    EXPECT_TRUE(RosterAuditor::audit(&room, truth).empty());

    // The same connection publishing a track is not his to hold.
    sfu::ProducerFact track;
    track.track_id = "TB";
    track.publisher = 2;
    truth.producers.push_back(track);
    const auto findings = RosterAuditor::audit(&room, truth);
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].audit_class, AuditClass::too_many_transports);
    EXPECT_EQ(findings[0].transport, 12u);
}

TEST(RosterAuditor, ADataAssociationOnAReceivingConnectionIsClosed) {
    const Room room = two_people();
    sfu::RoomTruth truth = honest();
    truth.data = {data_on(11, 2, PeerRole::subscriber, true)};
    const auto findings = RosterAuditor::audit(&room, truth);
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].audit_class, AuditClass::unauthorized_data);
    EXPECT_EQ(findings[0].action, Finding::Action::close_data);
    EXPECT_EQ(findings[0].transport, 11u);
    EXPECT_EQ(findings[0].identity, "bob");
    EXPECT_EQ(to_string(findings[0].audit_class), "unauthorized_data");
}

TEST(RosterAuditor, RoomDataToSomeoneWhoMayNotSubscribeIsClosed) {
    Room room = two_people();
    room.participants["alice"].grants.can_subscribe = false;
    sfu::RoomTruth truth = honest();
    truth.data = {data_on(10, 1, PeerRole::publisher, true)};
    auto findings = RosterAuditor::audit(&room, truth);
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].audit_class, AuditClass::unauthorized_data);
    EXPECT_EQ(findings[0].identity, "alice");
    // Sending only (nothing delivered to her) is hers to do.
    truth.data = {data_on(10, 1, PeerRole::publisher, false)};
    EXPECT_TRUE(RosterAuditor::audit(&room, truth).empty());
}

TEST(RosterAuditor, DataOfAHiddenTransportGoesWithIt) {
    const Room room = two_people();
    sfu::RoomTruth truth = honest();
    truth.transports.push_back(transport(13, 99, PeerRole::publisher));
    truth.data = {data_on(13, 99, PeerRole::publisher, true)};
    const auto findings = RosterAuditor::audit(&room, truth);
    ASSERT_EQ(findings.size(), 2u);  // the transport, and the peer count
    EXPECT_EQ(findings[0].audit_class, AuditClass::not_on_roster);
}

}  // namespace
}  // namespace rollcall::room
