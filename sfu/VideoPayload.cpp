#include "sfu/VideoPayload.hpp"

#include <algorithm>
#include <cctype>

namespace rollcall::sfu {

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::optional<VideoPayloadInfo> parse_vp8(std::span<const std::uint8_t> p) noexcept {
    // X R N S R PID | I L T K RSV | M PictureID (7 or 15) | TL0PICIDX | TID Y KEYIDX
    if (p.empty()) return std::nullopt;
    VideoPayloadInfo info;
    std::size_t at = 1;
    const bool start = (p[0] & 0x10) != 0 && (p[0] & 0x07) == 0;
    if (p[0] & 0x80) {
        if (p.size() < 2) return std::nullopt;
        const std::uint8_t x = p[1];
        at = 2;
        if (x & 0x80) {  // I: picture id
            if (at >= p.size()) return std::nullopt;
            info.picture_id_at = at;
            if (p[at] & 0x80) {
                if (at + 1 >= p.size()) return std::nullopt;
                info.picture_id_15bit = true;
                info.picture_id = static_cast<std::uint16_t>(((p[at] & 0x7f) << 8) | p[at + 1]);
                at += 2;
            } else {
                info.picture_id = p[at] & 0x7f;
                at += 1;
            }
        }
        if (x & 0x40) {  // L: TL0PICIDX
            if (at >= p.size()) return std::nullopt;
            info.tl0_at = at;
            info.tl0 = p[at];
            at += 1;
        }
        if (x & 0x30) at += 1;  // T or K: TID / Y / KEYIDX
    }
    if (at >= p.size()) return std::nullopt;  // a descriptor with no VP8 payload after it
    // RFC 6386 §9.1: the frame tag's P bit is 0 on a keyframe, whose header then carries the
    // start code 9d 01 2a and the 14-bit width and height.
    info.keyframe = start && (p[at] & 0x01) == 0;
    if (info.keyframe && at + 10 <= p.size() && p[at + 3] == 0x9d && p[at + 4] == 0x01 &&
        p[at + 5] == 0x2a) {
        info.width = static_cast<std::uint16_t>((p[at + 6] | (p[at + 7] << 8)) & 0x3fff);
        info.height = static_cast<std::uint16_t>((p[at + 8] | (p[at + 9] << 8)) & 0x3fff);
    }
    return info;
}

bool h264_key_nal(std::uint8_t type) noexcept {
    return type == 5 || type == 7;  // IDR slice, SPS (which precedes an IDR)
}

std::optional<VideoPayloadInfo> parse_h264(std::span<const std::uint8_t> p) noexcept {
    // RFC 6184 §5: a single NAL unit, STAP-A (24) or FU-A (28).
    if (p.empty()) return std::nullopt;
    VideoPayloadInfo info;
    const std::uint8_t type = p[0] & 0x1f;
    if (type == 24) {
        std::size_t at = 1;
        while (at + 2 < p.size()) {
            const std::size_t size = (std::size_t{p[at]} << 8) | p[at + 1];
            at += 2;
            if (size == 0 || at + size > p.size()) break;
            if (h264_key_nal(p[at] & 0x1f)) info.keyframe = true;
            at += size;
        }
    } else if (type == 28) {
        if (p.size() < 2) return std::nullopt;
        info.keyframe = (p[1] & 0x80) != 0 && h264_key_nal(p[1] & 0x1f);  // start of a fragment
    } else {
        info.keyframe = h264_key_nal(type);
    }
    return info;
}

}  // namespace

VideoCodec video_codec(std::string_view name) noexcept {
    if (iequals(name, "VP8")) return VideoCodec::vp8;
    if (iequals(name, "H264")) return VideoCodec::h264;
    if (iequals(name, "VP9")) return VideoCodec::vp9;
    return VideoCodec::other;
}

std::optional<VideoPayloadInfo> parse_video_payload(
    VideoCodec codec, std::span<const std::uint8_t> payload) noexcept {
    switch (codec) {
        case VideoCodec::vp8:
            return parse_vp8(payload);
        case VideoCodec::h264:
            return parse_h264(payload);
        default:
            return std::nullopt;
    }
}

void write_vp8_picture_id(std::span<std::uint8_t> payload, const VideoPayloadInfo& info,
                          std::uint16_t picture_id) noexcept {
    const std::size_t at = info.picture_id_at;
    if (at == 0) return;
    if (info.picture_id_15bit) {
        if (at + 1 >= payload.size()) return;
        payload[at] = static_cast<std::uint8_t>(0x80 | ((picture_id >> 8) & 0x7f));
        payload[at + 1] = static_cast<std::uint8_t>(picture_id);
    } else if (at < payload.size()) {
        payload[at] = static_cast<std::uint8_t>(picture_id & 0x7f);
    }
}

void write_vp8_tl0(std::span<std::uint8_t> payload, const VideoPayloadInfo& info,
                   std::uint8_t tl0) noexcept {
    if (info.tl0_at != 0 && info.tl0_at < payload.size()) payload[info.tl0_at] = tl0;
}

}  // namespace rollcall::sfu
