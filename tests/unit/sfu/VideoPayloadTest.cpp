#include <gtest/gtest.h>

#include <vector>

#include "sfu/VideoPayload.hpp"

namespace rollcall::sfu {
namespace {

using Bytes = std::vector<std::uint8_t>;

TEST(VideoPayload, ReadsAVp8KeyframeDescriptorAndSize) {
    // X S | I L T | M picture id 0x1234 | TL0 9 | TID | frame tag, start code, 640×360
    Bytes p = {0x90, 0xE0, 0x92, 0x34, 0x09, 0x40, 0x10, 0x00, 0x00,
               0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01, 0xAA};
    auto info = parse_video_payload(VideoCodec::vp8, p);
    ASSERT_TRUE(info);
    EXPECT_TRUE(info->keyframe);
    EXPECT_EQ(info->width, 640);
    EXPECT_EQ(info->height, 360);
    EXPECT_TRUE(info->picture_id_15bit);
    EXPECT_EQ(info->picture_id, 0x1234);
    EXPECT_EQ(info->tl0, 9);
    write_vp8_picture_id(p, *info, 0x7fff);
    write_vp8_tl0(p, *info, 200);
    EXPECT_EQ(p[2], 0xff);
    EXPECT_EQ(p[3], 0xff);
    EXPECT_EQ(p[4], 200);
    EXPECT_EQ(p[5], 0x40);  // nothing else moved
}

TEST(VideoPayload, TellsDeltaFramesAndLaterPacketsFromKeyframes) {
    const Bytes delta = {0x90, 0x80, 0x05, 0x11, 0x00, 0x00};  // 7-bit picture id, P bit set
    auto info = parse_video_payload(VideoCodec::vp8, delta);
    ASSERT_TRUE(info);
    EXPECT_FALSE(info->keyframe);
    EXPECT_FALSE(info->picture_id_15bit);
    EXPECT_EQ(info->picture_id, 5);
    const Bytes middle = {0x80, 0x80, 0x05, 0x10, 0x00};  // S=0: not a frame's start
    EXPECT_FALSE(parse_video_payload(VideoCodec::vp8, middle)->keyframe);
    const Bytes plain = {0x10, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00};
    auto simple = parse_video_payload(VideoCodec::vp8, plain);  // no extension byte
    ASSERT_TRUE(simple);
    EXPECT_TRUE(simple->keyframe);
    EXPECT_EQ(simple->width, 320);
    EXPECT_EQ(simple->height, 240);
    EXPECT_EQ(simple->picture_id_at, 0u);
}

TEST(VideoPayload, RefusesTruncatedDescriptors) {
    for (const Bytes& b : {Bytes{}, Bytes{0x90}, Bytes{0x90, 0x80}, Bytes{0x90, 0x80, 0x80},
                           Bytes{0x90, 0xC0, 0x01}, Bytes{0x90, 0x20, 0x00}}) {
        EXPECT_FALSE(parse_video_payload(VideoCodec::vp8, b)) << b.size();
    }
}

TEST(VideoPayload, FindsH264Keyframes) {
    EXPECT_TRUE(parse_video_payload(VideoCodec::h264, Bytes{0x65, 0x88})->keyframe);   // IDR
    EXPECT_FALSE(parse_video_payload(VideoCodec::h264, Bytes{0x41, 0x9a})->keyframe);  // P slice
    // STAP-A: SPS (2 bytes), PPS (2 bytes).
    EXPECT_TRUE(
        parse_video_payload(VideoCodec::h264, Bytes{0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce})
            ->keyframe);
    EXPECT_FALSE(parse_video_payload(VideoCodec::h264, Bytes{0x78, 0, 9, 0x67, 0x42})
                     ->keyframe);  // overruns
    EXPECT_TRUE(parse_video_payload(VideoCodec::h264, Bytes{0x7c, 0x85, 0x00})
                    ->keyframe);  // FU-A start, IDR
    EXPECT_FALSE(
        parse_video_payload(VideoCodec::h264, Bytes{0x7c, 0x05, 0x00})->keyframe);  // FU-A middle
    EXPECT_FALSE(parse_video_payload(VideoCodec::other, Bytes{0x65}));
}

}  // namespace
}  // namespace rollcall::sfu
