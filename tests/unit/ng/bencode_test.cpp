#include "gateway/ng/bencode.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace tandem::ng {
namespace {

value round_trip(const value& original) {
    auto decoded = decode(encode(original));
    EXPECT_TRUE(decoded.ok()) << (decoded.ok() ? "" : decoded.message());
    return decoded.ok() ? decoded.value() : value();
}

TEST(bencode, integers_round_trip) {
    for (const std::int64_t number :
         {std::int64_t{0}, std::int64_t{1}, std::int64_t{-1}, std::int64_t{42},
          std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min()}) {
        EXPECT_EQ(round_trip(value(number)), value(number));
    }
    EXPECT_EQ(encode(value(-17)), "i-17e");
    EXPECT_EQ(encode(value(0)), "i0e");
}

TEST(bencode, extreme_integers_decode) {
    auto max = decode("i9223372036854775807e");
    ASSERT_TRUE(max.ok());
    EXPECT_EQ(max->integer(), std::numeric_limits<std::int64_t>::max());
    auto min = decode("i-9223372036854775808e");
    ASSERT_TRUE(min.ok());
    EXPECT_EQ(min->integer(), std::numeric_limits<std::int64_t>::min());
}

TEST(bencode, strings_round_trip_binary_safe) {
    const std::string binary("a\0b\xff:e", 6);
    EXPECT_EQ(round_trip(value(binary)), value(binary));
    EXPECT_EQ(round_trip(value("")), value(""));
    EXPECT_EQ(encode(value("spam")), "4:spam");
    EXPECT_EQ(encode(value("")), "0:");
}

TEST(bencode, nested_structures_round_trip) {
    const value document(dict{
        {"command", value("offer")},
        {"flags", value(list{value("trust-address"), value("symmetric")})},
        {"replace", value(list{value("origin"), value("session-connection")})},
        {"nested", value(dict{{"a", value(list{value(1), value(list{}), value(dict{})})}})},
        {"number", value(-5)},
    });
    EXPECT_EQ(round_trip(document), document);
}

TEST(bencode, encoder_sorts_keys) {
    const value document(dict{{"b", value(1)}, {"a", value(2)}, {"B", value(3)}});
    EXPECT_EQ(encode(document), "d1:Bi3e1:ai2e1:bi1ee");
}

TEST(bencode, unsorted_keys_accepted_by_default_and_rejected_when_strict) {
    // Kamailio writes keys in the order it adds them, not sorted.
    const std::string unsorted = "d7:command4:ping4:abcdi1ee";
    auto lenient = decode(unsorted);
    ASSERT_TRUE(lenient.ok()) << lenient.message();
    EXPECT_EQ(lenient->find_string("command"), std::string_view("ping"));
    EXPECT_EQ(lenient->find_integer("abcd"), 1);

    decode_limits strict;
    strict.strict_keys = true;
    EXPECT_FALSE(decode(unsorted, strict).ok());
    EXPECT_TRUE(decode("d4:abcdi1e7:command4:pinge", strict).ok());
}

TEST(bencode, duplicate_keys_keep_the_first_value) {
    auto lenient = decode("d1:ai1e1:ai2ee");
    ASSERT_TRUE(lenient.ok());
    EXPECT_EQ(lenient->find_integer("a"), 1);
    decode_limits strict;
    strict.strict_keys = true;
    EXPECT_FALSE(decode("d1:ai1e1:ai2ee", strict).ok());
}

TEST(bencode, find_helpers_check_types) {
    auto decoded = decode("d3:inti7e3:str3:abc4:listle4:dictdee");
    ASSERT_TRUE(decoded.ok());
    const value& document = decoded.value();
    EXPECT_EQ(document.find_integer("int"), 7);
    EXPECT_EQ(document.find_string("str"), std::string_view("abc"));
    EXPECT_FALSE(document.find_string("int"));
    EXPECT_FALSE(document.find_integer("str"));
    EXPECT_FALSE(document.find_string("absent"));
    ASSERT_NE(document.find("list"), nullptr);
    EXPECT_TRUE(document.find("list")->is_list());
    EXPECT_TRUE(document.find("dict")->is_dict());
    EXPECT_EQ(document.find("absent"), nullptr);
    // Not a dict at all.
    EXPECT_EQ(value(5).find("int"), nullptr);
    EXPECT_FALSE(value("x").find_string("x"));
}

struct malformed_case {
    const char* name;
    std::string input;
};

class bencode_malformed : public ::testing::TestWithParam<malformed_case> {};

TEST_P(bencode_malformed, is_rejected) {
    auto decoded = decode(GetParam().input);
    EXPECT_FALSE(decoded.ok()) << GetParam().name;
    if (!decoded.ok()) {
        EXPECT_NE(decoded.message().find("bencode"), std::string::npos);
    }
}

INSTANTIATE_TEST_SUITE_P(
    all_classes, bencode_malformed,
    ::testing::Values(
        malformed_case{"empty", ""}, malformed_case{"truncated_string", "5:abc"},
        malformed_case{"length_past_end", "10:short"}, malformed_case{"length_without_colon", "3abc"},
        malformed_case{"length_only", "3"}, malformed_case{"huge_length", "99999999999999999999999999:x"},
        malformed_case{"length_over_limit", "2000000:x"}, malformed_case{"length_leading_zero", "03:abc"},
        malformed_case{"integer_empty", "ie"}, malformed_case{"integer_minus_only", "i-e"},
        malformed_case{"integer_negative_zero", "i-0e"}, malformed_case{"integer_leading_zero", "i03e"},
        malformed_case{"integer_negative_leading_zero", "i-03e"}, malformed_case{"integer_plus", "i+3e"},
        malformed_case{"integer_space", "i 3e"}, malformed_case{"integer_letters", "i12ae"},
        malformed_case{"integer_unterminated", "i12"},
        malformed_case{"integer_overflow", "i9223372036854775808e"},
        malformed_case{"integer_underflow", "i-9223372036854775809e"},
        malformed_case{"integer_very_long", "i123456789012345678901234567890e"},
        malformed_case{"list_unterminated", "li1e"}, malformed_case{"dict_unterminated", "d1:ai1e"},
        malformed_case{"dict_key_without_value", "d1:ae"}, malformed_case{"dict_key_integer", "di1ei2ee"},
        malformed_case{"dict_key_list", "dlei2ee"}, malformed_case{"dict_key_dict", "ddei2ee"},
        malformed_case{"stray_end", "e"}, malformed_case{"unknown_type", "x"},
        malformed_case{"trailing_bytes", "i1ei2e"}, malformed_case{"trailing_garbage_after_dict", "de "},
        malformed_case{"trailing_nul", std::string("4:spam\0", 7)}),
    [](const ::testing::TestParamInfo<malformed_case>& case_info) {
        return std::string(case_info.param.name);
    });

TEST(bencode, nesting_beyond_the_limit_is_rejected) {
    decode_limits limits;
    limits.max_depth = 4;
    EXPECT_TRUE(decode("llllee"
                       "ee",
                       limits)
                    .ok());
    EXPECT_FALSE(decode("lllllee"
                        "eee",
                        limits)
                     .ok());
    EXPECT_FALSE(decode("d1:ad1:ad1:ad1:ad1:adeeeeee", limits).ok());
}

TEST(bencode, deep_nesting_does_not_overflow_the_stack) {
    // A million opening brackets: must be rejected at max_depth, long
    // before recursion could exhaust the stack.
    const std::string deep = std::string(1'000'000, 'l') + std::string(1'000'000, 'e');
    auto decoded = decode(deep);
    ASSERT_FALSE(decoded.ok());
    EXPECT_NE(decoded.message().find("deep"), std::string::npos);
}

TEST(bencode, too_many_elements_is_rejected) {
    decode_limits limits;
    limits.max_elements = 10;
    std::string nine = "l";
    for (int i = 0; i < 9; ++i) {
        nine += "i1e";
    }
    nine += "e";
    EXPECT_TRUE(decode(nine, limits).ok());  // the list plus nine integers
    std::string ten = "l";
    for (int i = 0; i < 10; ++i) {
        ten += "i1e";
    }
    ten += "e";
    auto decoded = decode(ten, limits);
    ASSERT_FALSE(decoded.ok());
    EXPECT_NE(decoded.message().find("too many"), std::string::npos);
}

TEST(bencode, dict_keys_count_as_elements) {
    decode_limits limits;
    limits.max_elements = 4;
    EXPECT_TRUE(decode("d1:ai1ee", limits).ok());         // dict, key, value
    EXPECT_FALSE(decode("d1:ai1e1:bi2ee", limits).ok());  // dict + 2 keys + 2 values
}

TEST(bencode, string_limit_is_inclusive) {
    decode_limits limits;
    limits.max_string = 4;
    EXPECT_TRUE(decode("4:abcd", limits).ok());
    EXPECT_FALSE(decode("5:abcde", limits).ok());
}

TEST(bencode, error_names_the_offset) {
    auto decoded = decode("l4:spami1xe");
    ASSERT_FALSE(decoded.ok());
    EXPECT_NE(decoded.message().find("offset 9"), std::string::npos) << decoded.message();
}

}  // namespace
}  // namespace tandem::ng
