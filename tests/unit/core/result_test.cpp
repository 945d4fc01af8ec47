#include <string>

#include <gtest/gtest.h>

#include "gateway/core/clock.hpp"
#include "gateway/core/result.hpp"

namespace tandem {
namespace {

result<int> parse_digit(char c) {
    if (c < '0' || c > '9') {
        return make_error(std::string("not a digit: ") + c);
    }
    return c - '0';
}

TEST(result, carries_value_or_error) {
    auto good = parse_digit('7');
    ASSERT_TRUE(good.ok());
    EXPECT_EQ(*good, 7);
    auto bad = parse_digit('x');
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.message(), "not a digit: x");
}

TEST(status, default_is_ok) {
    status fine;
    EXPECT_TRUE(fine.ok());
    status broken = make_error("no port");
    EXPECT_FALSE(broken.ok());
    EXPECT_EQ(broken.message(), "no port");
}

TEST(manual_clock, moves_only_when_advanced) {
    manual_clock time(5'000'000);
    EXPECT_EQ(time.now_ms(), 5);
    time.advance_ms(10);
    EXPECT_EQ(time.now_ms(), 15);
    time.advance_ns(500'000);
    EXPECT_EQ(time.now_ns(), 15'500'000);
}

}  // namespace
}  // namespace tandem
