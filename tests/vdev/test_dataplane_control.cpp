#include <gtest/gtest.h>

#include "dataplane/control/ng_handler.hpp"

namespace tandem::dataplane::control {
namespace {

const ng::request_context from_test{"127.0.0.1:40000"};

TEST(ng_handler, ping_answers_pong) {
    const ng::value request(ng::dict{{"command", ng::value("ping")}});
    const auto reply = make_request_handler()(request, from_test);
    EXPECT_EQ(reply.find_string("result"), "pong");
}

TEST(ng_handler, unknown_command_is_an_error) {
    const ng::value request(ng::dict{{"command", ng::value("offer")}, {"call-id", ng::value("x")}});
    const auto reply = handle_request(request, from_test);
    EXPECT_EQ(reply.find_string("result"), "error");
    EXPECT_EQ(reply.find_string("error-reason"), "unknown command");
}

TEST(ng_handler, missing_or_non_string_command_is_an_error) {
    for (const auto& request : {ng::value(ng::dict{}), ng::value(ng::dict{{"command", ng::value(7)}})}) {
        const auto reply = handle_request(request, from_test);
        EXPECT_EQ(reply.find_string("result"), "error");
        EXPECT_TRUE(reply.find_string("error-reason"));
    }
}

}  // namespace
}  // namespace tandem::dataplane::control
