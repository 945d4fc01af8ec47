#include "signaling/sip/listen.hpp"

#include <gtest/gtest.h>

namespace tandem::sip {
namespace {

using config::sip_listen;

TEST(group_listeners, udp_and_tcp_on_one_address_share_a_url) {
    auto groups = group_listeners({{"udp", "127.0.0.1", 5060}, {"tcp", "127.0.0.1", 5060}});
    ASSERT_TRUE(groups.ok()) << groups.message();
    ASSERT_EQ(groups->size(), 1U);
    EXPECT_EQ((*groups)[0].url, "sip:127.0.0.1:5060");
    EXPECT_EQ((*groups)[0].transports, (std::vector<std::string>{"udp", "tcp"}));
}

TEST(group_listeners, ipv6_literals_are_bracketed) {
    auto groups = group_listeners({{"udp", "::1", 5070}, {"tcp", "0.0.0.0", 5060}});
    ASSERT_TRUE(groups.ok()) << groups.message();
    ASSERT_EQ(groups->size(), 2U);
    EXPECT_EQ((*groups)[0].url, "sip:[::1]:5070;transport=udp");
    EXPECT_EQ((*groups)[1].url, "sip:0.0.0.0:5060;transport=tcp");
}

TEST(group_listeners, refuses_what_nua_cannot_bind) {
    EXPECT_FALSE(group_listeners({}).ok());
    EXPECT_FALSE(group_listeners({{"tls", "127.0.0.1", 5061}}).ok());
    EXPECT_FALSE(group_listeners({{"udp", "127.0.0.1", 0}}).ok());
    EXPECT_FALSE(group_listeners({{"udp", "", 5060}}).ok());
    const auto duplicate = group_listeners({{"udp", "127.0.0.1", 5060}, {"udp", "127.0.0.1", 5060}});
    ASSERT_FALSE(duplicate.ok());
    EXPECT_NE(duplicate.message().find("listed twice"), std::string::npos);
    const auto three =
        group_listeners({{"udp", "127.0.0.1", 5060}, {"udp", "127.0.0.2", 5060}, {"udp", "127.0.0.3", 5060}});
    ASSERT_FALSE(three.ok());
    EXPECT_NE(three.message().find("at most 2"), std::string::npos);
}

TEST(format_host_port, brackets_ipv6_only) {
    EXPECT_EQ(format_host_port("192.0.2.1", 5060), "192.0.2.1:5060");
    EXPECT_EQ(format_host_port("2001:db8::1", 5061), "[2001:db8::1]:5061");
}

}  // namespace
}  // namespace tandem::sip
