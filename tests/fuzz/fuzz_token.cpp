// Token verification over arbitrary bytes: must never crash, and must never accept a token
// under a key whose secret no input could know.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "signaling/Base64Url.hpp"
#include "signaling/Token.hpp"

using namespace rollcall::signaling;

namespace {
TokenVerifier make_verifier(const char* secret) {
    TokenKeys keys;
    keys.hmac_secrets["devkey"] = secret;
    return TokenVerifier(keys, {});
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // The seeds are signed with the dev secret: mutations near them reach claim parsing here.
    static const TokenVerifier seeded = make_verifier("rollcall-dev-secret-not-for-production-use");
    // No seed was signed with this one, so anything it accepts would be a forgery.
    static const TokenVerifier unknown =
        make_verifier("fuzz-only-secret-no-input-was-signed-with-0123");
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)seeded.verify(text, 1'700'000'000);
    if (unknown.verify(text, 1'700'000'000).ok()) std::abort();
    (void)base64url_decode(text);
    return 0;
}
