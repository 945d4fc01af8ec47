#include "signaling/sip/sip_counters.hpp"

#include <gtest/gtest.h>

#include <prometheus/registry.h>

#include "gateway/metrics/metrics.hpp"

namespace tandem::sip {
namespace {

TEST(method_label, known_methods_pass_and_others_collapse) {
    EXPECT_EQ(method_label("INVITE"), "INVITE");
    EXPECT_EQ(method_label("OPTIONS"), "OPTIONS");
    EXPECT_EQ(method_label("invite"), "other");  // methods are case-sensitive (RFC 3261 7.1)
    EXPECT_EQ(method_label("FROBNICATE"), "other");
    EXPECT_EQ(method_label(""), "other");
}

TEST(sip_counters, counts_by_method_and_code) {
    prometheus::Registry registry;
    sip_counters counters(registry);
    counters.request_received("OPTIONS");
    counters.request_received("OPTIONS");
    counters.request_received("X-HOSTILE-1");
    counters.request_received("X-HOSTILE-2");
    counters.response_sent("INVITE", 503);
    counters.response_sent("INVITE", 42);

    const std::string text = metrics::render_text(registry);
    EXPECT_NE(text.find("tandem_sip_requests_total{method=\"OPTIONS\"} 2"), std::string::npos) << text;
    EXPECT_NE(text.find("tandem_sip_requests_total{method=\"other\"} 2"), std::string::npos) << text;
    EXPECT_NE(text.find("tandem_sip_responses_total{code=\"503\",method=\"INVITE\"} 1"), std::string::npos)
        << text;
    EXPECT_NE(text.find("tandem_sip_responses_total{code=\"other\",method=\"INVITE\"} 1"), std::string::npos)
        << text;
}

TEST(sip_counters, final_non_2xx_responses_count_as_rejections) {
    prometheus::Registry registry;
    sip_counters counters(registry);
    counters.response_sent("INVITE", 100);
    counters.response_sent("OPTIONS", 200);
    counters.response_sent("REGISTER", 405);
    counters.response_sent("FROBNICATE", 501);
    counters.response_sent("INVITE", 42);

    const std::string text = metrics::render_text(registry);
    EXPECT_NE(text.find("tandem_sip_requests_rejected_total{code=\"405\",method=\"REGISTER\"} 1"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("tandem_sip_requests_rejected_total{code=\"501\",method=\"other\"} 1"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("tandem_sip_requests_rejected_total{code=\"100\""), std::string::npos) << text;
    EXPECT_EQ(text.find("tandem_sip_requests_rejected_total{code=\"200\""), std::string::npos) << text;
    EXPECT_EQ(text.find("tandem_sip_requests_rejected_total{code=\"other\""), std::string::npos) << text;
}

}  // namespace
}  // namespace tandem::sip
