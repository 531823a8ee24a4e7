#include <gtest/gtest.h>

#include "signaling/Base64Url.hpp"

namespace rollcall::signaling {
namespace {

std::string decode_text(std::string_view text) {
    auto bytes = base64url_decode(text);
    return bytes ? std::string(bytes->begin(), bytes->end()) : std::string("<invalid>");
}

TEST(Base64Url, EncodesRfc4648VectorsWithoutPadding) {
    EXPECT_EQ(base64url_encode(std::string_view("")), "");
    EXPECT_EQ(base64url_encode(std::string_view("f")), "Zg");
    EXPECT_EQ(base64url_encode(std::string_view("fo")), "Zm8");
    EXPECT_EQ(base64url_encode(std::string_view("foo")), "Zm9v");
    EXPECT_EQ(base64url_encode(std::string_view("foobar")), "Zm9vYmFy");
}

TEST(Base64Url, UsesTheUrlSafeAlphabet) {
    const std::uint8_t bytes[] = {0xfb, 0xff, 0xbf};  // "+/+/" in standard base64
    EXPECT_EQ(base64url_encode(std::span<const std::uint8_t>(bytes)), "-_-_");
}

TEST(Base64Url, RoundTripsEveryByteValue) {
    std::vector<std::uint8_t> all(256);
    for (int i = 0; i < 256; ++i) all[i] = static_cast<std::uint8_t>(i);
    for (std::size_t n = 0; n <= all.size(); n += 17) {
        std::span<const std::uint8_t> part(all.data(), n);
        auto decoded = base64url_decode(base64url_encode(part));
        ASSERT_TRUE(decoded);
        EXPECT_EQ(*decoded, std::vector<std::uint8_t>(part.begin(), part.end()));
    }
}

TEST(Base64Url, DecodesVectors) {
    EXPECT_EQ(decode_text("Zm9vYmFy"), "foobar");
    EXPECT_EQ(decode_text("Zm8"), "fo");
}

TEST(Base64Url, RefusesPaddingWhitespaceAndForeignAlphabet) {
    EXPECT_FALSE(base64url_decode("Zm8="));
    EXPECT_FALSE(base64url_decode("Zm 8"));
    EXPECT_FALSE(base64url_decode("+/+/"));
    EXPECT_FALSE(base64url_decode("Zm9v\n"));
}

TEST(Base64Url, RefusesImpossibleLength) {
    EXPECT_FALSE(base64url_decode("Zm9vY"));
}

TEST(Base64Url, RefusesNonCanonicalTrailingBits) {
    EXPECT_TRUE(base64url_decode("Zg"));
    EXPECT_FALSE(base64url_decode("Zh"));  // same byte, stray low bits
}

}  // namespace
}  // namespace rollcall::signaling
