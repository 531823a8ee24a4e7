// What one SRTP protect and unprotect cost with the libsrtp2 this build links (not a test;
// numbers only): the per-packet floor of forwarding. 1,200-byte RTP packets, both profiles.
//   ninja -C build/dev rollcall_bench_srtp && build/dev/rollcall_bench_srtp [packets=200000]
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "transport/SrtpSession.hpp"

using namespace rollcall::transport;

namespace {

constexpr std::size_t kPayload = 1200;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// ns per packet for protect (sender) and unprotect (receiver), median of 5 rounds.
void measure(SrtpProfile profile, int packets) {
    std::array<std::uint8_t, 30> a{}, b{};
    for (std::size_t i = 0; i < a.size(); ++i)
        a[i] = static_cast<std::uint8_t>(i), b[i] = static_cast<std::uint8_t>(100 + i);
    const std::size_t key = srtp_key_length(profile) + srtp_salt_length(profile);
    auto sender = SrtpSession::create(profile, {a.data(), key}, {b.data(), key});
    auto receiver = SrtpSession::create(profile, {b.data(), key}, {a.data(), key});
    if (!sender || !receiver) {
        std::fprintf(stderr, "no SRTP session\n");
        std::exit(1);
    }
    std::vector<double> protect, unprotect;
    std::array<std::uint8_t, kPayload + SrtpSession::kMaxTrailer> packet{};
    std::uint16_t sequence = 0;
    for (int round = 0; round < 5; ++round) {
        double p = 0, u = 0;
        for (int i = 0; i < packets; ++i) {
            packet.fill(0x5a);
            packet[0] = 0x80, packet[1] = 96;
            packet[2] = static_cast<std::uint8_t>(sequence >> 8),
            packet[3] = static_cast<std::uint8_t>(sequence);
            ++sequence;
            packet[8] = 0x12, packet[9] = 0x34, packet[10] = 0x56, packet[11] = 0x78;
            std::size_t size = kPayload;
            const auto t0 = std::chrono::steady_clock::now();
            if (sender->protect_rtp(packet.data(), size, packet.size()) != SrtpResult::ok)
                std::exit(2);
            const auto t1 = std::chrono::steady_clock::now();
            if (receiver->unprotect_rtp(packet.data(), size) != SrtpResult::ok) std::exit(3);
            const auto t2 = std::chrono::steady_clock::now();
            p += std::chrono::duration<double, std::nano>(t1 - t0).count();
            u += std::chrono::duration<double, std::nano>(t2 - t1).count();
        }
        protect.push_back(p / packets);
        unprotect.push_back(u / packets);
    }
    std::printf("%-24s protect %6.0f ns  unprotect %6.0f ns\n",
                std::string(to_string(profile)).c_str(), median(protect), median(unprotect));
}

}  // namespace

int main(int argc, char** argv) {
    const int packets = argc > 1 ? std::atoi(argv[1]) : 200000;
    std::printf("%s, %zu-byte packets\n", srtp_library().c_str(), kPayload);
    measure(SrtpProfile::aead_aes_128_gcm, packets);
    measure(SrtpProfile::aes_cm_128_hmac_sha1_80, packets);
}
