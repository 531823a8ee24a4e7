#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rollcall::sfu {

// Why the media layer refused or failed a request. Each is a signaling error code
// (docs/protocol.md) under the same name: to_string gives it.
enum class MediaError : std::uint8_t {
    none,
    // The description itself.
    sdp_malformed,
    sdes_not_supported,
    unsupported_transport,
    bundle_required,
    rtcp_mux_required,
    fingerprint_missing,
    ice_credentials_missing,
    no_media,
    bad_candidate,
    // The session's media.
    fingerprint_changed,
    already_publishing,
    no_transport,
    stale_answer,
    transport_failed,
    ice_restart_failed,
    media_busy,
};

std::string_view to_string(MediaError error) noexcept;

// An outcome: none, or an error and a message for a person.
struct MediaResult {
    MediaError code = MediaError::none;
    std::string message;

    bool ok() const noexcept { return code == MediaError::none; }
};

}  // namespace rollcall::sfu
