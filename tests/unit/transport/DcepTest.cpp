#include <gtest/gtest.h>

#include "transport/Dcep.hpp"

namespace rollcall::transport {
namespace {

TEST(DcepTest, OpenRoundTrips) {
    DataChannelOpen open;
    open.type = DataChannelType::partial_reliable_rexmit_unordered;
    open.priority = 256;
    open.reliability_parameter = 3;
    open.label = "chat";
    open.protocol = "rollcall";
    const auto bytes = write_dcep_open(open);
    ASSERT_EQ(bytes.size(), 12u + 4 + 8);
    std::string error;
    const auto parsed = parse_dcep_open(bytes, error);
    ASSERT_TRUE(parsed) << error;
    EXPECT_EQ(parsed->label, "chat");
    EXPECT_EQ(parsed->protocol, "rollcall");
    EXPECT_EQ(parsed->reliability_parameter, 3u);
    EXPECT_FALSE(parsed->ordered());
    EXPECT_FALSE(parsed->reliable());
}

TEST(DcepTest, ReliableChannelsIgnoreTheReliabilityParameter) {
    DataChannelOpen open;
    open.reliability_parameter = 99;
    open.label = "x";
    std::string error;
    const auto parsed = parse_dcep_open(write_dcep_open(open), error);
    ASSERT_TRUE(parsed);
    EXPECT_TRUE(parsed->reliable());
    EXPECT_TRUE(parsed->ordered());
    EXPECT_EQ(parsed->reliability_parameter, 0u);
}

TEST(DcepTest, RefusesMalformedOpens) {
    DataChannelOpen open;
    open.label = "chat";
    auto bytes = write_dcep_open(open);
    std::string error;
    auto truncated = bytes;
    truncated.pop_back();
    EXPECT_FALSE(parse_dcep_open(truncated, error));
    auto trailing = bytes;
    trailing.push_back(0);
    EXPECT_FALSE(parse_dcep_open(trailing, error));
    auto unknown = bytes;
    unknown[1] = 0x03;
    EXPECT_FALSE(parse_dcep_open(unknown, error));
    EXPECT_EQ(error, "unknown channel type");
    auto ack = bytes;
    ack[0] = kDcepAck;
    EXPECT_FALSE(parse_dcep_open(ack, error));
    open.label.assign(kMaxDcepString + 1, 'a');
    EXPECT_FALSE(parse_dcep_open(write_dcep_open(open), error));
    EXPECT_FALSE(parse_dcep_open({}, error));
}

TEST(DcepTest, AckIsOneByte) {
    EXPECT_TRUE(is_dcep_ack(write_dcep_ack()));
    const std::vector<std::uint8_t> longer = {kDcepAck, 0};
    EXPECT_FALSE(is_dcep_ack(longer));
}

}  // namespace
}  // namespace rollcall::transport
