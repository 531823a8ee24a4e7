// Token verification over arbitrary bytes: must never crash, and must never accept.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "signaling/Base64Url.hpp"
#include "signaling/Token.hpp"

using namespace rollcall::signaling;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const TokenVerifier verifier = [] {
        TokenKeys keys;
        keys.hmac_secrets["devkey"] = "rollcall-dev-secret-not-for-production-use";
        return TokenVerifier(keys, {});
    }();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    TokenResult result = verifier.verify(text, 1'700'000'000);
    // Random bytes that verify would mean a forged HMAC: impossible unless the corpus
    // holds a real token, and seeds hold only tokens with broken signatures.
    if (result.ok()) std::abort();
    (void)base64url_decode(text);
    return 0;
}
