#include <gtest/gtest.h>

#include <deque>
#include <vector>

#include "transport/DtlsTransport.hpp"
#include "transport/RtpPacket.hpp"

namespace rollcall::transport {
namespace {

// One end of an in-memory link: what it sends is queued for the other end.
struct End : DtlsTransport::Listener {
    std::deque<std::vector<std::uint8_t>> outbox;
    std::optional<DtlsKeys> keys;
    std::string failure;
    bool closed = false;

    void on_dtls_send(std::span<const std::uint8_t> d) override {
        outbox.emplace_back(d.begin(), d.end());
    }
    void on_dtls_connected(const DtlsKeys& k) override { keys = k; }
    void on_dtls_failed(std::string_view reason) override { failure = std::string(reason); }
    void on_dtls_closed() override { closed = true; }
};

void pump(End& a, DtlsTransport& ta, End& b, DtlsTransport& tb) {
    for (int round = 0; round < 50 && (!a.outbox.empty() || !b.outbox.empty()); ++round) {
        while (!a.outbox.empty()) {
            auto d = std::move(a.outbox.front());
            a.outbox.pop_front();
            tb.receive(d);
        }
        while (!b.outbox.empty()) {
            auto d = std::move(b.outbox.front());
            b.outbox.pop_front();
            ta.receive(d);
        }
    }
}

class DtlsTransportTest : public ::testing::Test {
  protected:
    std::shared_ptr<const DtlsIdentity> client_id_ = DtlsIdentity::generate();
    std::shared_ptr<const DtlsIdentity> server_id_ = DtlsIdentity::generate();
    End client_end_, server_end_;
    DtlsTransport client_{client_id_, client_end_};
    DtlsTransport server_{server_id_, server_end_};

    void handshake() {
        server_.start(DtlsRole::server);
        client_.start(DtlsRole::client);
        pump(client_end_, client_, server_end_, server_);
    }
};

TEST_F(DtlsTransportTest, IdentityHasASha256Fingerprint) {
    EXPECT_EQ(client_id_->fingerprint().algorithm, "sha-256");
    EXPECT_EQ(client_id_->fingerprint().value.size(), 95u);
    EXPECT_NE(client_id_->fingerprint().value, server_id_->fingerprint().value);
}

TEST_F(DtlsTransportTest, HandshakesDtls12AndPrefersGcm) {
    ASSERT_TRUE(client_.set_remote_fingerprint(server_id_->fingerprint()));
    ASSERT_TRUE(server_.set_remote_fingerprint(client_id_->fingerprint()));
    handshake();
    ASSERT_EQ(client_.state(), DtlsState::connected) << client_end_.failure;
    ASSERT_EQ(server_.state(), DtlsState::connected) << server_end_.failure;
    EXPECT_EQ(client_.protocol_version(), "DTLSv1.2");
    EXPECT_EQ(server_.cipher(), "ECDHE-ECDSA-AES128-GCM-SHA256");
    ASSERT_TRUE(client_end_.keys && server_end_.keys);
    EXPECT_EQ(client_end_.keys->profile, SrtpProfile::aead_aes_128_gcm);
    EXPECT_EQ(client_end_.keys->local_key_salt, server_end_.keys->remote_key_salt);
    EXPECT_EQ(client_end_.keys->remote_key_salt, server_end_.keys->local_key_salt);
    EXPECT_EQ(server_.peer_fingerprint(), client_id_->fingerprint().value);
}

TEST_F(DtlsTransportTest, SrtpKeysFromTheHandshakeInteroperate) {
    ASSERT_TRUE(client_.set_remote_fingerprint(server_id_->fingerprint()));
    ASSERT_TRUE(server_.set_remote_fingerprint(client_id_->fingerprint()));
    handshake();
    ASSERT_TRUE(client_end_.keys && server_end_.keys);
    auto sender = SrtpSession::create(client_end_.keys->profile, client_end_.keys->local_key_salt,
                                      client_end_.keys->remote_key_salt);
    auto receiver = SrtpSession::create(server_end_.keys->profile, server_end_.keys->local_key_salt,
                                        server_end_.keys->remote_key_salt);
    ASSERT_TRUE(sender && receiver);

    std::vector<std::uint8_t> packet(12 + 100 + SrtpSession::kMaxTrailer, 0x5a);
    const std::vector<std::uint8_t> header = {0x80, 0x60, 0x00, 0x07, 0,    0,
                                              0,    1,    0x12, 0x34, 0x56, 0x78};
    std::copy(header.begin(), header.end(), packet.begin());
    std::size_t size = 112;
    ASSERT_EQ(sender->protect_rtp(packet.data(), size, packet.size()), SrtpResult::ok);
    EXPECT_EQ(size, 112u + 16u);  // GCM tag
    std::vector<std::uint8_t> replay(packet.begin(), packet.begin() + static_cast<long>(size));
    ASSERT_EQ(receiver->unprotect_rtp(packet.data(), size), SrtpResult::ok);
    EXPECT_EQ(size, 112u);
    EXPECT_EQ(packet[50], 0x5a);
    std::size_t replay_size = replay.size();
    EXPECT_EQ(receiver->unprotect_rtp(replay.data(), replay_size), SrtpResult::replayed);

    std::vector<std::uint8_t> tampered(12 + 100 + SrtpSession::kMaxTrailer, 0x11);
    std::copy(header.begin(), header.end(), tampered.begin());
    tampered[3] = 0x08;
    std::size_t tampered_size = 112;
    ASSERT_EQ(sender->protect_rtp(tampered.data(), tampered_size, tampered.size()), SrtpResult::ok);
    tampered[40] ^= 1;
    EXPECT_EQ(receiver->unprotect_rtp(tampered.data(), tampered_size), SrtpResult::auth_failed);
}

TEST_F(DtlsTransportTest, FingerprintMismatchFailsClosedOnBothEnds) {
    auto stranger = DtlsIdentity::generate();
    ASSERT_TRUE(client_.set_remote_fingerprint(server_id_->fingerprint()));
    ASSERT_TRUE(server_.set_remote_fingerprint(stranger->fingerprint()));  // not the client's
    handshake();
    EXPECT_EQ(server_.state(), DtlsState::failed);
    EXPECT_FALSE(server_end_.keys);
    EXPECT_NE(client_.state(), DtlsState::connected);
    EXPECT_FALSE(client_end_.keys);
}

TEST_F(DtlsTransportTest, ClientRefusesAServerWithTheWrongCertificate) {
    auto stranger = DtlsIdentity::generate();
    ASSERT_TRUE(client_.set_remote_fingerprint(stranger->fingerprint()));
    ASSERT_TRUE(server_.set_remote_fingerprint(client_id_->fingerprint()));
    handshake();
    EXPECT_EQ(client_.state(), DtlsState::failed);
    EXPECT_NE(server_.state(), DtlsState::connected);
}

TEST_F(DtlsTransportTest, RefusesEmptyAndMalformedFingerprints) {
    EXPECT_FALSE(server_.set_remote_fingerprint({"sha-256", ""}));
    EXPECT_FALSE(server_.set_remote_fingerprint({"sha-256", "AB:CD"}));
    EXPECT_FALSE(server_.set_remote_fingerprint({"md5", client_id_->fingerprint().value}));
    EXPECT_FALSE(server_.set_remote_fingerprint(
        {"sha-1", "00:11:22:33:44:55:66:77:88:99:00:11:22:33:44:55:66:77:88:99"}));
    server_.start(DtlsRole::server);  // no fingerprint: refuses to run
    EXPECT_EQ(server_.state(), DtlsState::failed);
    EXPECT_FALSE(server_end_.failure.empty());
}

TEST_F(DtlsTransportTest, CloseNotifyReachesThePeer) {
    ASSERT_TRUE(client_.set_remote_fingerprint(server_id_->fingerprint()));
    ASSERT_TRUE(server_.set_remote_fingerprint(client_id_->fingerprint()));
    handshake();
    ASSERT_EQ(server_.state(), DtlsState::connected);
    client_.close();
    pump(client_end_, client_, server_end_, server_);
    EXPECT_TRUE(server_end_.closed);
    EXPECT_EQ(server_.state(), DtlsState::closed);
}

// Records after the handshake: a datagram of many one-byte application-data records is read
// whole, so nothing piles up however many such datagrams come; one of more records than a
// datagram may carry is dropped before OpenSSL sees it.
TEST_F(DtlsTransportTest, RecordsAfterTheHandshakeNeverPileUp) {
    ASSERT_TRUE(client_.set_remote_fingerprint(server_id_->fingerprint()));
    ASSERT_TRUE(server_.set_remote_fingerprint(client_id_->fingerprint()));
    handshake();
    ASSERT_EQ(server_.state(), DtlsState::connected);
    auto datagram_of = [&](std::size_t records) {
        std::vector<std::uint8_t> datagram;
        const std::uint8_t byte = 0x42;
        for (std::size_t i = 0; i < records; ++i) {
            EXPECT_TRUE(client_.send(std::span(&byte, 1)));
            for (const auto& d : client_end_.outbox)
                datagram.insert(datagram.end(), d.begin(), d.end());
            client_end_.outbox.clear();
        }
        return datagram;
    };
    for (int i = 0; i < 2000; ++i) {  // fresh records each time
        server_.receive(datagram_of(DtlsTransport::kMaxRecordsPerDatagram));
        ASSERT_EQ(server_.buffered(), 0u) << "after datagram " << i;
    }
    const auto full = datagram_of(DtlsTransport::kMaxRecordsPerDatagram);
    ASSERT_EQ(dtls_record_count(full), DtlsTransport::kMaxRecordsPerDatagram);
    for (int i = 0; i < 20000; ++i) {
        server_.receive(full);  // replays: refused, never kept
        ASSERT_EQ(server_.buffered(), 0u) << "after replay " << i;
    }
    EXPECT_EQ(server_.state(), DtlsState::connected);
    const auto oversized = datagram_of(DtlsTransport::kMaxRecordsPerDatagram + 1);
    server_.receive(oversized);
    EXPECT_EQ(server_.datagrams_dropped(), 1u);
    EXPECT_EQ(server_.buffered(), 0u);
    // And a close_notify still gets through.
    client_.close();
    pump(client_end_, client_, server_end_, server_);
    EXPECT_TRUE(server_end_.closed);
}

TEST(DtlsRecords, CountsWellFormedRecordsAndRefusesTheRest) {
    const std::vector<std::uint8_t> one = {23, 0xfe, 0xfd, 0, 1, 0,    0,   0,
                                           0,  0,    1,    0, 2, 0xaa, 0xbb};
    EXPECT_EQ(dtls_record_count(one), 1u);
    std::vector<std::uint8_t> two = one;
    two.insert(two.end(), one.begin(), one.end());
    EXPECT_EQ(dtls_record_count(two), 2u);
    EXPECT_EQ(dtls_record_count(std::span(one).first(14)),
              std::nullopt);  // length runs past the end
    EXPECT_EQ(dtls_record_count(std::span(one).first(5)), std::nullopt);  // a header cut short
    std::vector<std::uint8_t> not_dtls = one;
    not_dtls[0] = 0x80;  // RTP
    EXPECT_EQ(dtls_record_count(not_dtls), std::nullopt);
    EXPECT_EQ(dtls_record_count({}), 0u);
}

TEST_F(DtlsTransportTest, GarbageDuringTheHandshakeFailsOnlyThatTransport) {
    ASSERT_TRUE(server_.set_remote_fingerprint(client_id_->fingerprint()));
    server_.start(DtlsRole::server);
    const std::vector<std::uint8_t> garbage = {0x16, 0xfe, 0xfd, 0, 0,    0,    0, 0, 0,
                                               0,    0,    0,    0, 0xff, 0xff, 1, 2, 3};
    server_.receive(garbage);
    EXPECT_NE(server_.state(), DtlsState::connected);
}

TEST(SrtpSession, RefusesWrongKeyLengths) {
    std::vector<std::uint8_t> key(28), short_key(10);
    EXPECT_FALSE(SrtpSession::create(SrtpProfile::aead_aes_128_gcm, short_key, key));
    EXPECT_TRUE(SrtpSession::create(SrtpProfile::aead_aes_128_gcm, key, key));
    std::vector<std::uint8_t> cm_key(30);
    EXPECT_TRUE(SrtpSession::create(SrtpProfile::aes_cm_128_hmac_sha1_80, cm_key, cm_key));
    EXPECT_FALSE(SrtpSession::create(SrtpProfile::aes_cm_128_hmac_sha1_80, key, key));
}

TEST(SrtpSession, ProtectNeedsHeadroomForTheTag) {
    std::vector<std::uint8_t> key(28);
    auto session = SrtpSession::create(SrtpProfile::aead_aes_128_gcm, key, key);
    std::vector<std::uint8_t> packet = {0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xaa};
    std::size_t size = packet.size();
    EXPECT_EQ(session->protect_rtp(packet.data(), size, packet.size()), SrtpResult::no_room);
}

}  // namespace
}  // namespace rollcall::transport
