#include "sfu/MediaError.hpp"

namespace rollcall::sfu {

std::string_view to_string(MediaError error) noexcept {
    switch (error) {
        case MediaError::none:
            return "none";
        case MediaError::sdp_malformed:
            return "sdp_malformed";
        case MediaError::sdes_not_supported:
            return "sdes_not_supported";
        case MediaError::unsupported_transport:
            return "unsupported_transport";
        case MediaError::bundle_required:
            return "bundle_required";
        case MediaError::rtcp_mux_required:
            return "rtcp_mux_required";
        case MediaError::fingerprint_missing:
            return "fingerprint_missing";
        case MediaError::ice_credentials_missing:
            return "ice_credentials_missing";
        case MediaError::no_media:
            return "no_media";
        case MediaError::bad_candidate:
            return "bad_candidate";
        case MediaError::fingerprint_changed:
            return "fingerprint_changed";
        case MediaError::already_publishing:
            return "already_publishing";
        case MediaError::no_transport:
            return "no_transport";
        case MediaError::stale_answer:
            return "stale_answer";
        case MediaError::transport_failed:
            return "transport_failed";
        case MediaError::ice_restart_failed:
            return "ice_restart_failed";
        case MediaError::media_busy:
            return "media_busy";
    }
    return "media_error";
}

}  // namespace rollcall::sfu
