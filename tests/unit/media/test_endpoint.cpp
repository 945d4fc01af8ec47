#include <gtest/gtest.h>

#include "dataplane/media/relay.hpp"

namespace tandem::media {
namespace {

TEST(media_endpoint, parses_and_prints_ipv4) {
    const auto e = make_endpoint("192.0.2.1", 4000);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->family, 4);
    EXPECT_EQ(e->address[0], 192);
    EXPECT_EQ(e->address[3], 1);
    EXPECT_EQ(e->address[4], 0);
    EXPECT_TRUE(e->known());
    EXPECT_EQ(to_string(*e), "192.0.2.1:4000");
}

TEST(media_endpoint, parses_and_prints_ipv6_with_or_without_brackets) {
    const auto plain = make_endpoint("2001:db8::1", 4000);
    const auto bracketed = make_endpoint("[2001:db8::1]", 4000);
    ASSERT_TRUE(plain);
    ASSERT_TRUE(bracketed);
    EXPECT_EQ(*plain, *bracketed);
    EXPECT_EQ(plain->family, 6);
    EXPECT_EQ(to_string(*plain), "[2001:db8::1]:4000");
}

TEST(media_endpoint, rejects_names_and_garbage) {
    EXPECT_FALSE(make_endpoint("example.com", 4000));
    EXPECT_FALSE(make_endpoint("", 4000));
    EXPECT_FALSE(make_endpoint("[]", 4000));
    EXPECT_FALSE(make_endpoint("192.0.2.1:4000", 4000));
    EXPECT_FALSE(make_endpoint("[192.0.2.1", 4000));
}

TEST(media_endpoint, port_zero_is_not_known) {
    const auto e = make_endpoint("192.0.2.1", 0);
    ASSERT_TRUE(e);
    EXPECT_FALSE(e->known());
    EXPECT_FALSE(media_endpoint{}.known());
    EXPECT_EQ(to_string(media_endpoint{}), "unknown");
}

}  // namespace
}  // namespace tandem::media
