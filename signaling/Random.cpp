#include "signaling/Random.hpp"

#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

namespace rollcall::signaling {

std::string random_id(std::string_view prefix, std::size_t length) {
    static constexpr char kChars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string id(prefix);
    while (id.size() < prefix.size() + length) {
        unsigned char bytes[32];
        if (RAND_bytes(bytes, sizeof(bytes)) != 1) throw std::runtime_error("RAND_bytes failed");
        for (unsigned char b : bytes) {
            if (b >= 248) continue;  // 248 = 62 * 4: rejection keeps the choice uniform
            id.push_back(kChars[b % 62]);
            if (id.size() == prefix.size() + length) break;
        }
    }
    return id;
}

}  // namespace rollcall::signaling
