#include <gtest/gtest.h>

#include "transport/AddressPolicy.hpp"

namespace rollcall::transport {
namespace {

TEST(AddressPolicy, SortsAddressesIntoScopes) {
    EXPECT_EQ(address_scope("127.0.0.1"), AddressScope::loopback);
    EXPECT_EQ(address_scope("127.9.9.9"), AddressScope::loopback);
    EXPECT_EQ(address_scope("::1"), AddressScope::loopback);
    EXPECT_EQ(address_scope("10.0.0.5"), AddressScope::private_network);
    EXPECT_EQ(address_scope("172.16.0.1"), AddressScope::private_network);
    EXPECT_EQ(address_scope("172.31.255.255"), AddressScope::private_network);
    EXPECT_EQ(address_scope("172.32.0.1"), AddressScope::public_internet);
    EXPECT_EQ(address_scope("192.168.1.1"), AddressScope::private_network);
    EXPECT_EQ(address_scope("100.64.0.1"), AddressScope::private_network);
    EXPECT_EQ(address_scope("fd00::1"), AddressScope::private_network);
    EXPECT_EQ(address_scope("169.254.0.7"), AddressScope::link_local);
    EXPECT_EQ(address_scope("fe80::1"), AddressScope::link_local);
    EXPECT_EQ(address_scope("8.8.8.8"), AddressScope::public_internet);
    EXPECT_EQ(address_scope("2001:db8::1"), AddressScope::public_internet);
    EXPECT_EQ(address_scope("::ffff:10.1.2.3"), AddressScope::private_network);
    EXPECT_EQ(address_scope("::ffff:127.0.0.1"), AddressScope::loopback);
    for (const char* bad : {"0.0.0.0", "::", "224.0.0.1", "255.255.255.255", "ff02::1", "0.1.2.3",
                            "abc.local", "", "1.2.3", "999.1.1.1"}) {
        EXPECT_EQ(address_scope(bad), AddressScope::unusable) << bad;
    }
}

TEST(AddressPolicy, ProbesOnlyWhereTheServerItselfLives) {
    const std::vector<std::string> loopback_server{"127.0.0.1"};
    EXPECT_TRUE(candidate_address_allowed("127.0.0.1", loopback_server));
    EXPECT_TRUE(candidate_address_allowed("8.8.8.8", loopback_server));
    EXPECT_FALSE(candidate_address_allowed("10.0.0.5", loopback_server));
    EXPECT_FALSE(candidate_address_allowed("169.254.1.1", loopback_server));
    EXPECT_FALSE(candidate_address_allowed("0.0.0.0", loopback_server));
    EXPECT_FALSE(candidate_address_allowed("224.0.0.251", loopback_server));

    const std::vector<std::string> public_server{"203.0.113.7"};
    EXPECT_FALSE(candidate_address_allowed("127.0.0.1", public_server))
        << "never the server's own host";
    EXPECT_FALSE(candidate_address_allowed("192.168.0.10", public_server));
    EXPECT_TRUE(candidate_address_allowed("198.51.100.20", public_server));

    const std::vector<std::string> office_server{"10.1.0.2"};
    EXPECT_TRUE(candidate_address_allowed("10.9.9.9", office_server));
    EXPECT_TRUE(candidate_address_allowed("192.168.5.5", office_server)) << "private is one scope";
    EXPECT_FALSE(candidate_address_allowed("127.0.0.1", office_server));
}

TEST(AddressPolicy, ConfiguredScopesAreExactlyWhatIsProbed) {
    // A server on a private address whose participants all come from the internet.
    const LocalNetwork internet_only({"10.1.0.2"}, {AddressScope::public_internet});
    EXPECT_TRUE(candidate_address_allowed("198.51.100.20", internet_only));
    EXPECT_FALSE(candidate_address_allowed("10.9.9.9", internet_only));
    EXPECT_FALSE(candidate_address_allowed("127.0.0.1", internet_only));
    // A loopback test server told to accept private candidates too, and nothing unusable ever.
    const LocalNetwork lab({"127.0.0.1"}, {AddressScope::loopback, AddressScope::private_network});
    EXPECT_TRUE(candidate_address_allowed("127.0.0.1", lab));
    EXPECT_TRUE(candidate_address_allowed("192.168.1.1", lab));
    EXPECT_FALSE(candidate_address_allowed("8.8.8.8", lab));
    EXPECT_FALSE(candidate_address_allowed("0.0.0.0", lab));
    // Without configured scopes, the derived rule.
    EXPECT_TRUE(candidate_address_allowed("8.8.8.8", LocalNetwork({"127.0.0.1"})));
    EXPECT_EQ(parse_candidate_scope("link_local"), AddressScope::link_local);
    EXPECT_EQ(parse_candidate_scope("public"), AddressScope::public_internet);
    EXPECT_FALSE(parse_candidate_scope("unusable"));
    EXPECT_FALSE(parse_candidate_scope("Private"));
}

}  // namespace
}  // namespace rollcall::transport
