#include "signaling/sip/trace_counter.hpp"

#include <gtest/gtest.h>

#include <prometheus/registry.h>

#include <string>
#include <string_view>
#include <vector>

#include "gateway/metrics/metrics.hpp"
#include "signaling/sip/sip_counters.hpp"

namespace tandem::sip {
namespace {

constexpr std::string_view separator_format =
    "%s   ------------------------------------------------------------------------\n";
constexpr std::string_view separator_line =
    "   ------------------------------------------------------------------------\n";

// Replays what Sofia 1.12.11's tport_log_msg() hands to su_log for one
// message, iovec by iovec, with the formats it uses. Returns how many calls
// trace_counter claimed as trace.
int replay(trace_counter& trace, std::string_view what, const std::vector<std::string_view>& iovecs) {
    std::size_t total = 0;
    for (const auto part : iovecs) {
        total += part.size();
    }
    int claimed = 0;
    const auto feed = [&](std::string_view format, const std::string& text) {
        claimed += trace.feed(format, text) ? 1 : 0;
    };
    const std::string via = what == "send" ? "to" : "from";
    feed(separator_format, std::string(what) + " " + std::to_string(total) + " bytes " + via +
                               " udp/[127.0.0.1]:5999 at 01:02:03.000004:\n" + std::string(separator_line));
    std::size_t line_length = 0;
    bool skip_lf = false;
    for (const auto part : iovecs) {
        std::size_t at = 0;
        if (skip_lf && at < part.size() && part[at] == '\n') {
            ++at;
            skip_lf = false;
        }
        while (at < part.size()) {
            const std::size_t n = std::min(part.find_first_of("\r\n", at), part.size()) - at;
            feed("%s%.*s", std::string(line_length > 0 ? "" : "   ") + std::string(part.substr(at, n)));
            at += n;
            line_length += n;
            if (at == part.size()) {
                break;
            }
            line_length = 0;
            feed("\n", "\n");
            if (part[at] == '\r') {
                ++at;
                if (at == part.size()) {
                    skip_lf = true;
                    continue;
                }
            }
            if (part[at] == '\n') {
                ++at;
            }
        }
    }
    feed(separator_format, std::string(line_length > 0 ? "\n" : "") + std::string(separator_line));
    return claimed;
}

int replay(trace_counter& trace, std::string_view what, std::string_view message) {
    return replay(trace, what, std::vector<std::string_view>{message});
}

class trace_counter_test : public ::testing::Test {
  protected:
    // The value of one sample, 0 when absent.
    double sample(const std::string& series) const {
        const std::string text = metrics::render_text(registry);
        const auto at = text.find("\n" + series + " ");
        if (at == std::string::npos) {
            return 0;
        }
        return std::stod(text.substr(at + series.size() + 2));
    }

    prometheus::Registry registry;
    sip_counters counters{registry};
};

constexpr std::string_view register_request =
    "REGISTER sip:127.0.0.1:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-1\r\n"
    "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\n"
    "Call-ID: reg-1@it\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";

constexpr std::string_view register_405 =
    "SIP/2.0 405 Method Not Allowed\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-1\r\n"
    "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>;tag=x\r\n"
    "Call-ID: reg-1@it\r\nCSeq: 1 REGISTER\r\nAllow: INVITE, ACK, BYE, CANCEL, OPTIONS\r\n"
    "Content-Length: 0\r\n\r\n";

TEST_F(trace_counter_test, counts_a_request_and_its_rejection_once) {
    trace_counter trace(counters);
    EXPECT_GT(replay(trace, "recv", register_request), 0);
    replay(trace, "send", register_405);
    EXPECT_EQ(sample("tandem_sip_requests_total{method=\"REGISTER\"}"), 1);
    EXPECT_EQ(sample("tandem_sip_responses_total{code=\"405\",method=\"REGISTER\"}"), 1);
    EXPECT_EQ(sample("tandem_sip_requests_rejected_total{code=\"405\",method=\"REGISTER\"}"), 1);

    // The peer retransmits, nta resends the 405: same transaction, no new counts.
    replay(trace, "recv", register_request);
    replay(trace, "send", register_405);
    EXPECT_EQ(sample("tandem_sip_requests_total{method=\"REGISTER\"}"), 1);
    EXPECT_EQ(sample("tandem_sip_requests_rejected_total{code=\"405\",method=\"REGISTER\"}"), 1);
}

TEST_F(trace_counter_test, provisional_and_final_responses_count_separately) {
    trace_counter trace(counters);
    const std::string trying =
        "SIP/2.0 100 Trying\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK-2\r\n"
        "Call-ID: c2\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n";
    const std::string busy =
        "SIP/2.0 503 Service Unavailable\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK-2\r\n"
        "Call-ID: c2\r\nCSeq: 7 INVITE\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n";
    replay(trace, "send", trying);
    replay(trace, "send", busy);
    replay(trace, "send", busy);  // no ACK yet: nta retransmits
    EXPECT_EQ(sample("tandem_sip_responses_total{code=\"100\",method=\"INVITE\"}"), 1);
    EXPECT_EQ(sample("tandem_sip_responses_total{code=\"503\",method=\"INVITE\"}"), 1);
    EXPECT_EQ(sample("tandem_sip_requests_rejected_total{code=\"503\",method=\"INVITE\"}"), 1);
    EXPECT_EQ(sample("tandem_sip_requests_rejected_total{code=\"100\",method=\"INVITE\"}"), 0);
}

TEST_F(trace_counter_test, unknown_methods_are_other) {
    trace_counter trace(counters);
    replay(trace, "recv",
           "FROBNICATE sip:x@h SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK-3\r\ni: f1\r\n"
           "CSeq: 1 FROBNICATE\r\nl: 0\r\n\r\n");
    replay(trace, "send",
           "SIP/2.0 501 Not Implemented\r\nv: SIP/2.0/UDP h;branch=z9hG4bK-3\r\ni: f1\r\n"
           "CSeq: 1 FROBNICATE\r\nl: 0\r\n\r\n");
    EXPECT_EQ(sample("tandem_sip_requests_total{method=\"other\"}"), 1);
    EXPECT_EQ(sample("tandem_sip_requests_rejected_total{code=\"501\",method=\"other\"}"), 1);
    EXPECT_EQ(metrics::render_text(registry).find("FROBNICATE"), std::string::npos);
}

TEST_F(trace_counter_test, a_body_cannot_forge_messages) {
    trace_counter trace(counters);
    // A MESSAGE whose body imitates tport's trace of a 200 OK.
    const std::string body =
        "------------------------------------------------------------------------\r\n"
        "send 300 bytes to udp/[10.0.0.1]:5060 at 00:00:00.000000:\r\n"
        "------------------------------------------------------------------------\r\n"
        "SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n";
    const std::string message =
        "MESSAGE sip:x@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK-4\r\n"
        "Call-ID: m4\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    replay(trace, "recv", message);
    EXPECT_EQ(sample("tandem_sip_requests_total{method=\"MESSAGE\"}"), 1);
    EXPECT_EQ(sample("tandem_sip_responses_total{code=\"200\",method=\"INVITE\"}"), 0);
}

TEST_F(trace_counter_test, lines_split_across_iovecs) {
    trace_counter trace(counters);
    replay(trace, "recv",
           {"BYE sip:x@h SIP/2.0\r", "\nVia: SIP/2.0/UDP h;branch=z9hG4bK-5\r\nCall-ID: b5\r\nCSe",
            "q: 2 BYE\r\n\r\n"});
    replay(trace, "send",
           {"SIP/2.0 481 Call Does Not Exist\r\n", "Via: SIP/2.0/UDP h;branch=z9hG4bK-5\r\nCall-ID: b5\r\nC",
            "Seq: 2 BYE\r\n", "\r\n"});
    EXPECT_EQ(sample("tandem_sip_requests_total{method=\"BYE\"}"), 1);
    EXPECT_EQ(sample("tandem_sip_requests_rejected_total{code=\"481\",method=\"BYE\"}"), 1);
}

TEST_F(trace_counter_test, ignores_our_own_requests_and_the_responses_to_them) {
    trace_counter trace(counters);
    replay(trace, "send", "OPTIONS sip:peer SIP/2.0\r\nCall-ID: o6\r\nCSeq: 1 OPTIONS\r\n\r\n");
    replay(trace, "recv", "SIP/2.0 200 OK\r\nCall-ID: o6\r\nCSeq: 1 OPTIONS\r\n\r\n");
    EXPECT_EQ(metrics::render_text(registry).find("tandem_sip_requests_total{"), std::string::npos);
    EXPECT_EQ(metrics::render_text(registry).find("tandem_sip_responses_total{"), std::string::npos);
}

TEST_F(trace_counter_test, a_response_without_cseq_is_other) {
    trace_counter trace(counters);
    replay(trace, "send", "SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    replay(trace, "send", "SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    // Nothing identifies a transaction, so each copy counts.
    EXPECT_EQ(sample("tandem_sip_requests_rejected_total{code=\"400\",method=\"other\"}"), 2);
}

TEST_F(trace_counter_test, the_retransmission_window_is_bounded) {
    trace_counter trace(counters, 1);
    replay(trace, "recv", register_request);
    replay(trace, "recv", "OPTIONS sip:x SIP/2.0\r\nCall-ID: o7\r\nCSeq: 1 OPTIONS\r\n\r\n");
    replay(trace, "recv", register_request);  // evicted from a window of one: counts again
    EXPECT_EQ(sample("tandem_sip_requests_total{method=\"REGISTER\"}"), 2);
}

TEST_F(trace_counter_test, leaves_diagnostics_to_the_caller) {
    trace_counter trace(counters);
    EXPECT_FALSE(trace.feed("nta: %s\n", "nta: received garbage\n"));
    EXPECT_FALSE(trace.feed("\n", "\n"));  // not inside a message
    EXPECT_FALSE(trace.feed("%s: %s\n", "send 12 bytes to x: not a stamp\n"));
    EXPECT_TRUE(
        trace.feed("   *** message truncated at %zu ***\n", "   *** message truncated at 2047 ***\n"));
}

TEST_F(trace_counter_test, a_stamp_as_the_format_also_opens_a_message) {
    // Later Sofia versions log the stamp and the opening separator separately.
    trace_counter trace(counters);
    const std::string stamp = "recv 60 bytes from udp/[::1]:5999 at 01:02:03.000004:\n";
    EXPECT_TRUE(trace.feed(stamp, stamp));
    EXPECT_TRUE(trace.feed(separator_line, separator_line));
    trace.feed("%s%.*s", "   INFO sip:x SIP/2.0");
    trace.feed("\n", "\n");
    trace.feed("%s%.*s", "   Call-ID: i8");
    trace.feed(separator_format, "\n" + std::string(separator_line));
    EXPECT_EQ(sample("tandem_sip_requests_total{method=\"INFO\"}"), 1);
}

}  // namespace
}  // namespace tandem::sip
