#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "signaling/Base64Url.hpp"
#include "signaling/TestTokens.hpp"
#include "signaling/Token.hpp"

namespace rollcall::signaling {
namespace {

using nlohmann::json;
using test::es256;
using test::good_payload;
using test::hs256;
using test::now_unix;
using test::sign;

class TokenTest : public ::testing::Test {
  protected:
    TokenKeys keys() const {
        TokenKeys k;
        k.hmac_secrets[test::kKey] = test::kSecret;
        k.ec_public_keys[test::kEsIssuer] = test::es256_public_pem();
        return k;
    }
    TokenError error_of(const std::string& token) const {
        return verifier_.verify(token, now_unix()).error;
    }

    TokenVerifier verifier_{keys(), {std::chrono::seconds(5), 4096}};
};

json es_payload() {
    json p = good_payload();
    p["iss"] = test::kEsIssuer;
    return p;
}

TEST_F(TokenTest, AcceptsHs256InLiveKitLayout) {
    TokenResult result = verifier_.verify(hs256(good_payload()), now_unix());
    ASSERT_TRUE(result.ok()) << result.detail;
    EXPECT_EQ(result.claims.algorithm, "HS256");
    EXPECT_EQ(result.claims.issuer, "testkey");
    EXPECT_EQ(result.claims.identity, "alice");
    EXPECT_EQ(result.claims.name, "Alice");
    EXPECT_EQ(result.claims.grants.room, "r1");
    EXPECT_TRUE(result.claims.grants.room_join);
    EXPECT_TRUE(result.claims.grants.can_publish);
    EXPECT_TRUE(result.claims.grants.can_subscribe);
    EXPECT_FALSE(result.claims.grants.room_admin);
}

TEST_F(TokenTest, AcceptsEs256FromConfiguredIssuer) {
    TokenResult result = verifier_.verify(es256(es_payload()), now_unix());
    ASSERT_TRUE(result.ok()) << result.detail;
    EXPECT_EQ(result.claims.algorithm, "ES256");
    EXPECT_EQ(result.claims.issuer, test::kEsIssuer);
}

TEST_F(TokenTest, MintedTokenVerifies) {
    TokenClaims claims;
    claims.identity = "bob";
    claims.grants.room = "r2";
    claims.grants.room_join = true;
    claims.expires_at = now_unix() + 60;
    TokenResult result =
        verifier_.verify(mint_hs256_token(test::kKey, test::kSecret, claims), now_unix());
    ASSERT_TRUE(result.ok()) << result.detail;
    EXPECT_EQ(result.claims.identity, "bob");
    EXPECT_EQ(result.claims.grants.room, "r2");
    EXPECT_FALSE(result.claims.grants.can_publish);
}

// --- algorithm ---
TEST_F(TokenTest, RefusesAlgNoneWithoutSignature) {
    EXPECT_EQ(error_of(sign({{"alg", "none"}}, good_payload())), TokenError::unsupported_algorithm);
}

TEST_F(TokenTest, RefusesAlgNoneEvenWithASignaturePart) {
    const std::string forged = sign({{"alg", "none"}}, good_payload()) + "AAAA";
    EXPECT_EQ(error_of(forged), TokenError::unsupported_algorithm);
}

TEST_F(TokenTest, RefusesAlgNoneInOtherCase) {
    const std::string body = hs256(good_payload());
    const std::string tail = body.substr(body.find('.'));
    EXPECT_EQ(error_of(base64url_encode(std::string_view(R"({"alg":"NoNe"})")) + tail),
              TokenError::unsupported_algorithm);
}

TEST_F(TokenTest, RefusesAlgorithmsOutsideTheAllowList) {
    const std::string body = hs256(good_payload());
    const std::string tail = body.substr(body.find('.'));
    for (const char* alg : {"HS512", "HS384", "RS256", "PS256", "ES512", "EdDSA"}) {
        json header = {{"alg", alg}};
        EXPECT_EQ(error_of(base64url_encode(header.dump()) + tail),
                  TokenError::unsupported_algorithm)
            << alg;
    }
}

TEST_F(TokenTest, RefusesHs256SignedWithAnEsIssuersPublicKey) {
    // Classic alg confusion: the attacker knows the public key and uses it as an HMAC secret.
    const std::string forged = hs256(es_payload(), test::es256_public_pem());
    EXPECT_EQ(error_of(forged), TokenError::unsupported_algorithm);
}

TEST_F(TokenTest, RefusesEs256ClaimingAnHmacIssuer) {
    EXPECT_EQ(error_of(es256(good_payload())), TokenError::unsupported_algorithm);
}

// --- signature ---
TEST_F(TokenTest, RefusesAFlippedSignatureByte) {
    std::string token = hs256(good_payload());
    token[token.size() - 5] = token[token.size() - 5] == 'A' ? 'B' : 'A';
    EXPECT_EQ(error_of(token), TokenError::invalid_signature);
}

TEST_F(TokenTest, RefusesTheWrongSecret) {
    EXPECT_EQ(error_of(hs256(good_payload(), "another-secret-that-is-long-enough-000")),
              TokenError::invalid_signature);
}

TEST_F(TokenTest, RefusesAPayloadChangedAfterSigning) {
    const std::string token = hs256(good_payload());
    json changed = good_payload();
    changed["video"]["roomAdmin"] = true;
    const std::string forged = token.substr(0, token.find('.') + 1) +
                               base64url_encode(changed.dump()) + token.substr(token.rfind('.'));
    EXPECT_EQ(error_of(forged), TokenError::invalid_signature);
}

TEST_F(TokenTest, RefusesEs256SignedByAnotherKey) {
    TokenKeys k;
    k.ec_public_keys[test::kEsIssuer] = test::other_es256_public_pem();
    TokenVerifier other(k, {});
    EXPECT_EQ(other.verify(es256(es_payload()), now_unix()).error, TokenError::invalid_signature);
}

TEST_F(TokenTest, RefusesEs256SignatureOfWrongLength) {
    std::string token = es256(es_payload());
    token.resize(token.rfind('.') + 1);
    token += base64url_encode(std::string(63, 'x'));
    EXPECT_EQ(error_of(token), TokenError::invalid_signature);
}

// --- time ---
TEST_F(TokenTest, RefusesExpired) {
    json p = good_payload();
    p["exp"] = now_unix() - 60;
    EXPECT_EQ(error_of(hs256(p)), TokenError::expired);
}

TEST_F(TokenTest, AllowsExpiryWithinLeeway) {
    json p = good_payload();
    p["exp"] = now_unix() - 2;
    EXPECT_EQ(error_of(hs256(p)), TokenError::none);
}

TEST_F(TokenTest, RefusesNotBeforeInTheFuture) {
    json p = good_payload();
    p["nbf"] = now_unix() + 120;
    EXPECT_EQ(error_of(hs256(p)), TokenError::not_yet_valid);
}

TEST_F(TokenTest, RefusesMissingExp) {
    json p = good_payload();
    p.erase("exp");
    EXPECT_EQ(error_of(hs256(p)), TokenError::missing_claim);
}

TEST_F(TokenTest, RefusesExpThatIsNotANumber) {
    json p = good_payload();
    p["exp"] = std::to_string(now_unix() + 60);
    EXPECT_EQ(error_of(hs256(p)), TokenError::malformed);
}

// --- issuer and claims ---
TEST_F(TokenTest, RefusesUnknownIssuer) {
    json p = good_payload();
    p["iss"] = "someone-else";
    EXPECT_EQ(error_of(hs256(p)), TokenError::unknown_issuer);
}

TEST_F(TokenTest, RefusesMissingIssuer) {
    json p = good_payload();
    p.erase("iss");
    EXPECT_EQ(error_of(hs256(p)), TokenError::missing_claim);
}

TEST_F(TokenTest, RefusesMissingVideoGrant) {
    json p = good_payload();
    p.erase("video");
    EXPECT_EQ(error_of(hs256(p)), TokenError::missing_claim);
}

TEST_F(TokenTest, RefusesNonBooleanGrantFlags) {
    json p = good_payload();
    p["video"]["roomJoin"] = "yes";
    EXPECT_EQ(error_of(hs256(p)), TokenError::malformed);
}

TEST_F(TokenTest, RefusesHiddenParticipants) {
    json p = good_payload();
    p["video"]["hidden"] = true;
    EXPECT_EQ(error_of(hs256(p)), TokenError::hidden_not_supported);
}

TEST_F(TokenTest, RefusesIdentityWithControlCharacters) {
    json p = good_payload();
    p["sub"] = "ali\nce";
    EXPECT_EQ(error_of(hs256(p)), TokenError::malformed);
}

// --- encoding ---
TEST_F(TokenTest, RefusesMalformedBase64) {
    std::string token = hs256(good_payload());
    token[3] = '*';
    EXPECT_EQ(error_of(token), TokenError::malformed);
}

TEST_F(TokenTest, RefusesPaddedBase64) {
    const std::string token = hs256(good_payload());
    const auto dot = token.find('.');
    EXPECT_EQ(error_of(token.substr(0, dot) + "=" + token.substr(dot)), TokenError::malformed);
}

TEST_F(TokenTest, RefusesMalformedJsonPayload) {
    const std::string input = base64url_encode(std::string_view(R"({"alg":"HS256"})")) + "." +
                              base64url_encode(std::string_view("{\"iss\":\"testkey\","));
    EXPECT_EQ(error_of(input + ".AAAA"), TokenError::malformed);
}

TEST_F(TokenTest, RefusesHeaderThatIsNotAnObject) {
    const std::string token = hs256(good_payload());
    EXPECT_EQ(
        error_of(base64url_encode(std::string_view("[\"HS256\"]")) + token.substr(token.find('.'))),
        TokenError::malformed);
}

TEST_F(TokenTest, RefusesWrongNumberOfParts) {
    const std::string token = hs256(good_payload());
    EXPECT_EQ(error_of(token.substr(0, token.rfind('.'))), TokenError::malformed);
    EXPECT_EQ(error_of(token + ".AAAA"), TokenError::malformed);
    EXPECT_EQ(error_of(""), TokenError::malformed);
    EXPECT_EQ(error_of(".."), TokenError::malformed);
}

TEST_F(TokenTest, RefusesCriticalHeaderParameters) {
    EXPECT_EQ(error_of(sign({{"alg", "HS256"}, {"crit", {"exp"}}}, good_payload())),
              TokenError::malformed);
}

TEST_F(TokenTest, RefusesTypOtherThanJwt) {
    EXPECT_EQ(error_of(sign({{"alg", "HS256"}, {"typ", "JWE"}}, good_payload())),
              TokenError::malformed);
}

TEST_F(TokenTest, RefusesOversizedToken) {
    json p = good_payload();
    p["padding"] = std::string(5000, 'x');
    EXPECT_EQ(error_of(hs256(p)), TokenError::too_large);
}

TEST_F(TokenTest, DetailNeverContainsTheToken) {
    json p = good_payload();
    p["exp"] = now_unix() - 600;
    const std::string token = hs256(p);
    TokenResult result = verifier_.verify(token, now_unix());
    EXPECT_EQ(result.detail.find(token.substr(token.rfind('.') + 1)), std::string::npos);
    EXPECT_EQ(result.detail.find(token.substr(0, 20)), std::string::npos);
}

TEST_F(TokenTest, ErrorCodesAreSnakeCaseTokenCodes) {
    EXPECT_EQ(error_code(TokenError::expired), "token_expired");
    EXPECT_EQ(error_code(TokenError::unsupported_algorithm), "token_unsupported_algorithm");
    EXPECT_EQ(error_code(TokenError::invalid_signature), "token_invalid_signature");
}

TEST(TokenVerifierKeys, RefusesAnIssuerKeyThatIsNotP256) {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> rsa(EVP_RSA_gen(2048), &EVP_PKEY_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_PUBKEY(bio.get(), rsa.get());
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    TokenKeys k;
    k.ec_public_keys["rsa"] = std::string(data, static_cast<std::size_t>(len));
    EXPECT_THROW(TokenVerifier(k, {}), std::invalid_argument);
    k.ec_public_keys["rsa"] = "not a pem";
    EXPECT_THROW(TokenVerifier(k, {}), std::invalid_argument);
}

}  // namespace
}  // namespace rollcall::signaling
