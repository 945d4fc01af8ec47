#include "gateway/ng/ng_message.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tandem::ng {
namespace {

TEST(ng_message, parses_cookie_and_dict) {
    auto parsed = parse_message("5025_3 d7:command4:pinge");
    ASSERT_TRUE(parsed.ok()) << parsed.message();
    EXPECT_EQ(parsed->cookie, "5025_3");
    EXPECT_EQ(parsed->body.find_string("command"), std::string_view("ping"));
}

TEST(ng_message, format_then_parse_round_trips) {
    const value body(
        dict{{"command", value("offer")}, {"call-id", value("abc@host")}, {"sdp", value("v=0\r\n")}});
    const std::string datagram = format_message("cookie-1", body);
    EXPECT_EQ(datagram.rfind("cookie-1 d", 0), 0U);
    auto parsed = parse_message(datagram);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->cookie, "cookie-1");
    EXPECT_EQ(parsed->body, body);
}

TEST(ng_message, rejects_bad_framing) {
    EXPECT_FALSE(parse_message("").ok());
    EXPECT_FALSE(parse_message("nocookie").ok());
    EXPECT_FALSE(parse_message(" d7:command4:pinge").ok());           // empty cookie
    EXPECT_FALSE(parse_message("c ").ok());                           // empty body
    EXPECT_FALSE(parse_message("c li1ee").ok());                      // not a dict
    EXPECT_FALSE(parse_message("c 4:ping").ok());                     // not a dict
    EXPECT_FALSE(parse_message("c d7:command4:pinge junk").ok());     // trailing bytes
    EXPECT_FALSE(parse_message("c  d7:command4:pinge").ok());         // two spaces
    EXPECT_FALSE(parse_message(std::string(257, 'x') + " de").ok());  // cookie too long
    EXPECT_TRUE(parse_message(std::string(256, 'x') + " de").ok());
}

TEST(ng_message, peek_cookie_finds_the_prefix) {
    EXPECT_EQ(peek_cookie("abc d7:command4:pinge"), "abc");
    EXPECT_EQ(peek_cookie("abc garbage"), "abc");
    EXPECT_EQ(peek_cookie("abc "), "abc");
    EXPECT_EQ(peek_cookie("nospace"), "");
    EXPECT_EQ(peek_cookie(" leading"), "");
    EXPECT_EQ(peek_cookie(""), "");
    EXPECT_EQ(peek_cookie(std::string(257, 'x') + " de"), "");
}

TEST(ng_message, error_reply_has_rtpengine_shape) {
    const value reply = make_error_reply("Unknown call-id");
    EXPECT_EQ(encode(reply), "d12:error-reason15:Unknown call-id6:result5:errore");
    EXPECT_EQ(format_message("c1", reply), "c1 d12:error-reason15:Unknown call-id6:result5:errore");
}

}  // namespace
}  // namespace tandem::ng
