#include "transport/SrtpSession.hpp"

#include <arpa/inet.h>
#include <srtp2/srtp.h>

#include <climits>
#include <mutex>
#include <vector>

#include "transport/Census.hpp"

namespace rollcall::transport {

namespace {

constexpr unsigned long kReplayWindow = 1024;  // packets; video bursts reorder a little

bool ensure_srtp_initialised() {
    static std::once_flag once;
    static bool ok = false;
    std::call_once(once, [] { ok = srtp_init() == srtp_err_status_ok; });
    return ok;
}

void set_policy(srtp_crypto_policy_t& rtp, srtp_crypto_policy_t& rtcp, SrtpProfile profile) {
    if (profile == SrtpProfile::aead_aes_128_gcm) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&rtcp);
    } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&rtcp);
    }
}

SrtpResult map_error(srtp_err_status_t status) {
    switch (status) {
        case srtp_err_status_ok:
            return SrtpResult::ok;
        case srtp_err_status_replay_fail:
        case srtp_err_status_replay_old:
            return SrtpResult::replayed;
        case srtp_err_status_auth_fail:
            return SrtpResult::auth_failed;
        default:
            return SrtpResult::error;
    }
}

srtp_t create_context(SrtpProfile profile, std::span<const std::uint8_t> key_salt,
                      srtp_ssrc_type_t direction) {
    std::vector<std::uint8_t> key(key_salt.begin(), key_salt.end());
    srtp_policy_t policy{};
    set_policy(policy.rtp, policy.rtcp, profile);
    policy.ssrc.type = direction;
    policy.key = key.data();
    policy.window_size = kReplayWindow;
    policy.allow_repeat_tx = 0;
    policy.next = nullptr;
    srtp_t context = nullptr;
    if (srtp_create(&context, &policy) != srtp_err_status_ok) return nullptr;
    return context;
}

}  // namespace

std::string_view to_string(SrtpProfile profile) noexcept {
    return profile == SrtpProfile::aead_aes_128_gcm ? "AEAD_AES_128_GCM"
                                                    : "AES_CM_128_HMAC_SHA1_80";
}

std::string srtp_library() {
    return std::string(srtp_get_version_string()) + " (" ROLLCALL_SRTP_BACKEND ")";
}

std::size_t srtp_key_length(SrtpProfile) noexcept {
    return 16;
}
std::size_t srtp_salt_length(SrtpProfile profile) noexcept {
    return profile == SrtpProfile::aead_aes_128_gcm ? 12 : 14;
}

struct SrtpSession::Contexts {
    srtp_t outbound = nullptr;
    srtp_t inbound = nullptr;
    ~Contexts() {
        if (outbound) srtp_dealloc(outbound);
        if (inbound) srtp_dealloc(inbound);
    }
};

SrtpSession::SrtpSession(SrtpProfile profile, std::unique_ptr<Contexts> contexts)
    : profile_(profile), contexts_(std::move(contexts)) {
    census().srtp_sessions.fetch_add(1, std::memory_order_relaxed);
}

SrtpSession::~SrtpSession() {
    census().srtp_sessions.fetch_sub(1, std::memory_order_relaxed);
}

std::unique_ptr<SrtpSession> SrtpSession::create(SrtpProfile profile,
                                                 std::span<const std::uint8_t> local_key_salt,
                                                 std::span<const std::uint8_t> remote_key_salt) {
    const std::size_t expected = srtp_key_length(profile) + srtp_salt_length(profile);
    if (!ensure_srtp_initialised() || local_key_salt.size() != expected ||
        remote_key_salt.size() != expected) {
        return nullptr;
    }
    auto contexts = std::make_unique<Contexts>();
    contexts->outbound = create_context(profile, local_key_salt, ssrc_any_outbound);
    contexts->inbound = create_context(profile, remote_key_salt, ssrc_any_inbound);
    if (!contexts->outbound || !contexts->inbound) return nullptr;
    return std::unique_ptr<SrtpSession>(new SrtpSession(profile, std::move(contexts)));
}

void SrtpSession::forget_outbound(std::uint32_t ssrc) noexcept {
    srtp_remove_stream(contexts_->outbound, htonl(ssrc));  // absent: nothing to do
}

void SrtpSession::forget_inbound(std::uint32_t ssrc) noexcept {
    srtp_remove_stream(contexts_->inbound, htonl(ssrc));
}

SrtpResult SrtpSession::protect_rtp(std::uint8_t* data, std::size_t& size,
                                    std::size_t capacity) noexcept {
    if (size > INT_MAX || capacity < size + kMaxTrailer) return SrtpResult::no_room;
    int length = static_cast<int>(size);
    const SrtpResult result = map_error(srtp_protect(contexts_->outbound, data, &length));
    if (result == SrtpResult::ok) size = static_cast<std::size_t>(length);
    return result;
}

SrtpResult SrtpSession::protect_rtcp(std::uint8_t* data, std::size_t& size,
                                     std::size_t capacity) noexcept {
    if (size > INT_MAX || capacity < size + kMaxTrailer + 4)
        return SrtpResult::no_room;  // + SRTCP index
    int length = static_cast<int>(size);
    const SrtpResult result = map_error(srtp_protect_rtcp(contexts_->outbound, data, &length));
    if (result == SrtpResult::ok) size = static_cast<std::size_t>(length);
    return result;
}

SrtpResult SrtpSession::unprotect_rtp(std::uint8_t* data, std::size_t& size) noexcept {
    if (size > INT_MAX) return SrtpResult::error;
    int length = static_cast<int>(size);
    const SrtpResult result = map_error(srtp_unprotect(contexts_->inbound, data, &length));
    if (result == SrtpResult::ok) size = static_cast<std::size_t>(length);
    return result;
}

SrtpResult SrtpSession::unprotect_rtcp(std::uint8_t* data, std::size_t& size) noexcept {
    if (size > INT_MAX) return SrtpResult::error;
    int length = static_cast<int>(size);
    const SrtpResult result = map_error(srtp_unprotect_rtcp(contexts_->inbound, data, &length));
    if (result == SrtpResult::ok) size = static_cast<std::size_t>(length);
    return result;
}

}  // namespace rollcall::transport
