// Our consent check against an independent STUN implementation: libnice's own stun library
// (the one that answers ICE checks in browsers' peers like libnice-based clients) must accept
// our request, and we must accept exactly its answer to it.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>

#include <cstring>

#include "transport/StunCheck.hpp"

namespace rollcall::transport {
namespace {

constexpr char kPassword[] = "peerPasswordOf22CharsOrMore";
const StunTransactionId kId{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

bool password_for(StunAgent*, StunMessage*, uint8_t* username, uint16_t length, uint8_t** password,
                  size_t* password_length, void*) {
    if (std::string(reinterpret_cast<char*>(username), length) != "peer:ours") return false;
    *password = reinterpret_cast<uint8_t*>(const_cast<char*>(kPassword));
    *password_length = std::strlen(kPassword);
    return true;
}

// The peer (libnice's stun usage) validates our request and answers it.
struct Answer {
    StunValidationStatus validation = STUN_VALIDATION_BAD_REQUEST;
    StunUsageIceReturn reply = STUN_USAGE_ICE_RETURN_ERROR;
    std::vector<std::uint8_t> bytes;
};

Answer answer(std::vector<std::uint8_t> request) {
    StunAgent agent;
    static const uint16_t known[] = {
        STUN_ATTRIBUTE_USERNAME,        STUN_ATTRIBUTE_MESSAGE_INTEGRITY, STUN_ATTRIBUTE_PRIORITY,
        STUN_ATTRIBUTE_ICE_CONTROLLING, STUN_ATTRIBUTE_ICE_CONTROLLED,    0};
    stun_agent_init(&agent, known, STUN_COMPATIBILITY_RFC5389,
                    static_cast<StunAgentUsageFlags>(STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS |
                                                     STUN_AGENT_USAGE_USE_FINGERPRINT));
    Answer out;
    StunMessage message;
    out.validation = stun_agent_validate(&agent, &message, request.data(), request.size(),
                                         &password_for, nullptr);
    if (out.validation != STUN_VALIDATION_SUCCESS) return out;
    EXPECT_FALSE(stun_usage_ice_conncheck_use_candidate(&message));
    EXPECT_EQ(stun_usage_ice_conncheck_priority(&message), 0x6effffffu);
    std::array<std::uint8_t, 512> buffer{};
    std::size_t length = buffer.size();
    StunMessage reply;
    sockaddr_storage source{};
    reinterpret_cast<sockaddr_in*>(&source)->sin_family = AF_INET;
    bool control = false;  // the peer is controlled; we claimed controlling
    out.reply = stun_usage_ice_conncheck_create_reply(
        &agent, &message, &reply, buffer.data(), &length, &source, sizeof(sockaddr_in), &control,
        42, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    out.bytes.assign(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(length));
    return out;
}

ConsentCheck check() {
    return ConsentCheck{"peer:ours", kPassword, true, 0x0123456789abcdefULL, 0x6effffffu};
}

TEST(StunCheck, APeerAcceptsOurConsentCheckAndWeAcceptOnlyItsAnswer) {
    const auto request = write_binding_request(kId, check());
    const Answer peer = answer(request);
    ASSERT_EQ(peer.validation, STUN_VALIDATION_SUCCESS);
    ASSERT_EQ(peer.reply, STUN_USAGE_ICE_RETURN_SUCCESS);
    EXPECT_EQ(binding_success_id(peer.bytes), kId);
    EXPECT_TRUE(is_binding_success(peer.bytes, kId, kPassword));

    // Anyone without the password, another transaction, a changed byte: no consent.
    EXPECT_FALSE(is_binding_success(peer.bytes, kId, "anotherPasswordOf22Chars"));
    StunTransactionId other = kId;
    other[11] ^= 1;
    EXPECT_FALSE(is_binding_success(peer.bytes, other, kPassword));
    for (std::size_t i = 20; i < peer.bytes.size(); i += 7) {
        auto tampered = peer.bytes;
        tampered[i] ^= 0x10;
        EXPECT_FALSE(is_binding_success(tampered, kId, kPassword)) << "byte " << i;
    }
    // Our own request is not an answer.
    EXPECT_FALSE(binding_success_id(request));
    EXPECT_FALSE(is_binding_success(request, kId, kPassword));
}

TEST(StunCheck, APeerRefusesOurCheckWithTheWrongPasswordOrUsername) {
    ConsentCheck wrong = check();
    wrong.password = "anotherPasswordOf22Chars";
    EXPECT_NE(answer(write_binding_request(kId, wrong)).validation, STUN_VALIDATION_SUCCESS);
    wrong = check();
    wrong.username = "someone:ours";
    EXPECT_NE(answer(write_binding_request(kId, wrong)).validation, STUN_VALIDATION_SUCCESS);
    auto corrupted = write_binding_request(kId, check());
    corrupted[corrupted.size() - 1] ^= 1;  // FINGERPRINT
    EXPECT_NE(answer(corrupted).validation, STUN_VALIDATION_SUCCESS);
}

TEST(StunCheck, AnswersWithoutIntegrityOrMalformedAreRefused) {
    const auto good = answer(write_binding_request(kId, check())).bytes;
    ASSERT_FALSE(good.empty());
    // Header only, claiming success: no MESSAGE-INTEGRITY.
    std::vector<std::uint8_t> bare(good.begin(), good.begin() + 20);
    bare[2] = bare[3] = 0;
    EXPECT_EQ(binding_success_id(bare), kId);
    EXPECT_FALSE(is_binding_success(bare, kId, kPassword));
    // A length field that disagrees with the datagram, an attribute running past the end.
    auto longer = good;
    longer.push_back(0);
    EXPECT_FALSE(binding_success_id(longer));
    auto overrun = bare;
    overrun.insert(overrun.end(), {0x00, 0x08, 0x00, 0x40, 0, 0, 0, 0});
    overrun[3] = 8;
    EXPECT_FALSE(is_binding_success(overrun, kId, kPassword));
    for (std::size_t n = 0; n < good.size(); ++n)
        EXPECT_FALSE(is_binding_success(std::span(good.data(), n), kId, kPassword)) << n;
}

}  // namespace
}  // namespace rollcall::transport
