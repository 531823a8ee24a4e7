#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace rollcall::transport {

// The DTLS-SRTP profiles rollcall negotiates, in its order of preference (RFC 5764, RFC 7714).
enum class SrtpProfile : std::uint8_t { aead_aes_128_gcm, aes_cm_128_hmac_sha1_80 };

std::string_view to_string(SrtpProfile profile) noexcept;
std::size_t srtp_key_length(SrtpProfile profile) noexcept;
// Which libsrtp2 this build links, e.g. "libsrtp2 2.5.0 (openssl)".
std::string srtp_library();
std::size_t srtp_salt_length(SrtpProfile profile) noexcept;

enum class SrtpResult : std::uint8_t { ok, replayed, auth_failed, no_room, error };

// One direction pair of SRTP/SRTCP contexts (libsrtp2): outbound keyed with our key,
// inbound with the peer's. Replay protection is on; retransmitting the same index is not
// allowed. Protect works in place and needs kMaxTrailer bytes of headroom after the packet.
class SrtpSession {
  public:
    static constexpr std::size_t kMaxTrailer = 16 + 128;  // SRTP_MAX_TRAILER_LEN

    // Keys are key || salt, as DTLS-SRTP exports them for each side. nullptr on failure.
    static std::unique_ptr<SrtpSession> create(SrtpProfile profile,
                                               std::span<const std::uint8_t> local_key_salt,
                                               std::span<const std::uint8_t> remote_key_salt);
    ~SrtpSession();
    SrtpSession(const SrtpSession&) = delete;
    SrtpSession& operator=(const SrtpSession&) = delete;

    // `size` in, protected size out.
    SrtpResult protect_rtp(std::uint8_t* data, std::size_t& size, std::size_t capacity) noexcept;
    SrtpResult protect_rtcp(std::uint8_t* data, std::size_t& size, std::size_t capacity) noexcept;
    // `size` in, plain size out.
    SrtpResult unprotect_rtp(std::uint8_t* data, std::size_t& size) noexcept;
    SrtpResult unprotect_rtcp(std::uint8_t* data, std::size_t& size) noexcept;

    // libsrtp keeps a stream per SSRC it has seen, until the session ends; a long-lived
    // subscriber connection sees a new SSRC for every track it ever received. These drop one
    // (an SSRC we no longer send on, or no longer accept).
    void forget_outbound(std::uint32_t ssrc) noexcept;
    void forget_inbound(std::uint32_t ssrc) noexcept;

    SrtpProfile profile() const noexcept { return profile_; }

  private:
    struct Contexts;
    SrtpSession(SrtpProfile profile, std::unique_ptr<Contexts> contexts);

    SrtpProfile profile_;
    std::unique_ptr<Contexts> contexts_;
};

}  // namespace rollcall::transport
