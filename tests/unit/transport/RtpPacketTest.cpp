#include <gtest/gtest.h>

#include <vector>

#include "transport/RtpPacket.hpp"

namespace rollcall::transport {
namespace {

using Bytes = std::vector<std::uint8_t>;

TEST(RtpPacket, ParsesAFixedHeader) {
    Bytes bytes = {
        0x80, 0xe0, 0x12, 0x34,  // V=2, marker, PT 96, seq 0x1234
        0x00, 0x00, 0x10, 0x00,  // timestamp 4096
        0xde, 0xad, 0xbe, 0xef,  // SSRC
        0x01, 0x02, 0x03,        // payload
    };
    auto p = RtpPacket::parse(bytes);
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->marker());
    EXPECT_EQ(p->payload_type(), 96);
    EXPECT_EQ(p->sequence(), 0x1234);
    EXPECT_EQ(p->timestamp(), 4096u);
    EXPECT_EQ(p->ssrc(), 0xdeadbeefu);
    EXPECT_EQ(p->header_size(), 12u);
    EXPECT_EQ(p->payload().size(), 3u);
    EXPECT_FALSE(p->has_extensions());
}

TEST(RtpPacket, ParsesCsrcsOneByteExtensionsAndPadding) {
    Bytes bytes = {
        0xb1, 0x6f, 0x00, 0x01,  // V=2, P, X, CC=1; PT 111
        0x00, 0x00, 0x00, 0x02,  // timestamp
        0x00, 0x00, 0x00, 0x03,  // SSRC
        0x00, 0x00, 0x00, 0x04,  // CSRC
        0xbe, 0xde, 0x00, 0x02,  // one-byte extensions, 2 words
        0x10, 0xff,              // id 1, len 1: audio level
        0x00,                    // padding byte
        0x41, 0x61, 0x62, 0x00,  // id 4, len 2: mid "ab", then padding
        0x00, 0xaa, 0xbb,        // payload
        0x00, 0x02,              // RTP padding, count 2
    };
    auto p = RtpPacket::parse(bytes);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->csrc_count(), 1);
    EXPECT_EQ(p->csrc(0), 4u);
    EXPECT_EQ(p->header_size(), 28u);
    EXPECT_EQ(p->padding_size(), 2u);
    ASSERT_EQ(p->payload().size(), 2u);
    EXPECT_EQ(p->payload()[0], 0xaa);
    auto level = p->extension(1);
    ASSERT_TRUE(level);
    EXPECT_EQ((*level)[0], 0xff);
    auto mid = p->extension(4);
    ASSERT_TRUE(mid);
    EXPECT_EQ(std::string(mid->begin(), mid->end()), "ab");
    EXPECT_FALSE(p->extension(2));
}

TEST(RtpPacket, ParsesTwoByteExtensions) {
    Bytes bytes = {
        0x90, 0x60, 0x00, 0x01, 0,    0,    0,    1,
        0,    0,    0,    1,    0x10, 0x00, 0x00, 0x02,  // two-byte profile, 2 words
        0x05, 0x03, 'x',  'y',                           // id 5, len 3
        'z',  0x00, 0x00, 0x00,                          // then padding
    };
    auto p = RtpPacket::parse(bytes);
    ASSERT_TRUE(p);
    auto ext = p->extension(5);
    ASSERT_TRUE(ext);
    EXPECT_EQ(std::string(ext->begin(), ext->end()), "xyz");
}

TEST(RtpPacket, RewritesInPlace) {
    Bytes bytes = {0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xaa};
    auto p = RtpPacket::parse(bytes);
    ASSERT_TRUE(p);
    p->set_ssrc(0x01020304);
    p->set_sequence(65535);
    p->set_timestamp(0xfffffff0);
    p->set_payload_type(111);
    p->set_marker(true);
    EXPECT_EQ(bytes[8], 0x01);
    EXPECT_EQ(p->ssrc(), 0x01020304u);
    EXPECT_EQ(p->sequence(), 65535);
    EXPECT_EQ(p->timestamp(), 0xfffffff0u);
    EXPECT_EQ(p->payload_type(), 111);
    EXPECT_TRUE(p->marker());
    EXPECT_EQ(bytes[12], 0xaa);
}

TEST(RtpPacket, RefusesWhatOverruns) {
    Bytes short_header = {0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0};
    EXPECT_FALSE(RtpPacket::parse(short_header));
    Bytes wrong_version = {0x40, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
    EXPECT_FALSE(RtpPacket::parse(wrong_version));
    Bytes csrcs = {0x82, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};  // CC=2, one present
    EXPECT_FALSE(RtpPacket::parse(csrcs));
    Bytes extension = {0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0x00, 0x05, 0x10, 0};
    EXPECT_FALSE(RtpPacket::parse(extension));
    Bytes padding_zero = {0xa0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xaa, 0x00};
    EXPECT_FALSE(RtpPacket::parse(padding_zero));
    Bytes padding_too_big = {0xa0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xaa, 0x03};
    EXPECT_FALSE(RtpPacket::parse(padding_too_big));
}

TEST(RtpPacket, ExtensionElementOverrunIsNotFound) {
    Bytes bytes = {0x90, 0x60, 0,    1,    0,    0,    0,    1,    0,   0, 0,
                   1,    0xbe, 0xde, 0x00, 0x01, 0x1f, 0x00, 0x00, 0x00};  // id 1 claims 16 bytes
                                                                           // inside a 4-byte block
    auto p = RtpPacket::parse(bytes);
    ASSERT_TRUE(p);
    EXPECT_FALSE(p->extension(1));
}

}  // namespace
}  // namespace rollcall::transport
