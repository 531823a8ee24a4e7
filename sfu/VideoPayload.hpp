#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace rollcall::sfu {

enum class VideoCodec : std::uint8_t { vp8, h264, vp9, other };
VideoCodec video_codec(std::string_view name) noexcept;

// What the forwarding path reads from one video packet's payload: whether it starts a
// keyframe, the frame size a VP8 keyframe states, and where the VP8 payload descriptor
// (RFC 7741 §4.2) keeps its picture id and TL0PICIDX, so a consumer can rewrite them in
// place. Every offset is checked against the payload; nothing is read beyond it.
struct VideoPayloadInfo {
    bool keyframe = false;                // the first packet of a keyframe
    std::uint16_t width = 0, height = 0;  // VP8 keyframes only; 0 when unknown
    // VP8: offsets into the payload, 0 when absent.
    std::size_t picture_id_at = 0;
    bool picture_id_15bit = false;
    std::uint16_t picture_id = 0;
    std::size_t tl0_at = 0;
    std::uint8_t tl0 = 0;
};

std::optional<VideoPayloadInfo> parse_video_payload(VideoCodec codec,
                                                    std::span<const std::uint8_t> payload) noexcept;

// Writes a picture id (7 or 15 bits, as the descriptor had) and TL0PICIDX where `info` found
// them in `payload`.
void write_vp8_picture_id(std::span<std::uint8_t> payload, const VideoPayloadInfo& info,
                          std::uint16_t picture_id) noexcept;
void write_vp8_tl0(std::span<std::uint8_t> payload, const VideoPayloadInfo& info,
                   std::uint8_t tl0) noexcept;

}  // namespace rollcall::sfu
