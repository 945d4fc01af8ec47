#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "dataplane/control/ng_control.hpp"
#include "dataplane/media/relay_table.hpp"
#include "dataplane/media/worker_rings.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/metrics/metrics.hpp"

namespace tandem::dataplane::control {
namespace {

constexpr const char* offer_sdp =
    "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

ng::value offer(const std::string& call_id) {
    return ng::value(ng::dict{{"command", ng::value("offer")},
                              {"call-id", ng::value(call_id)},
                              {"from-tag", ng::value("a")},
                              {"sdp", ng::value(offer_sdp)}});
}

class control_test : public ::testing::Test {
  protected:
    control_test()
        : rings(1, media::relay_table_config{40000, 1024}, 1024), control(settings(), rings, time) {}
    static media::media_settings settings() {
        media::media_settings out;
        out.ipv4_address = "192.0.2.2";
        out.port_min = 30000;
        out.port_max = 30099;
        return out;
    }
    manual_clock time;
    media::worker_rings rings;
    ng_control control;
};

TEST_F(control_test, drain_refuses_new_calls_and_shows_in_metrics) {
    EXPECT_EQ(control.handle(offer("one"), {"192.0.2.50:5060"}).find_string("result").value_or(""), "ok");
    auto reply = control.handle(ng::value(ng::dict{{"command", ng::value("drain")}}), {"127.0.0.1:1"});
    EXPECT_EQ(reply.find_string("draining").value_or(""), "yes");
    EXPECT_EQ(control.handle(offer("two"), {}).find_string("result").value_or(""), "load limit");
    const auto text = metrics::render_text(*control.collector());
    EXPECT_NE(text.find("tandem_sessions 1"), std::string::npos) << text;
    EXPECT_NE(text.find("tandem_draining 1"), std::string::npos) << text;
    EXPECT_NE(text.find("tandem_offers_rejected_total{reason=\"draining\"} 1"), std::string::npos) << text;
    EXPECT_NE(text.find("tandem_ports_free 96"), std::string::npos) << text;
    reply =
        control.handle(ng::value(ng::dict{{"command", ng::value("drain")}, {"enable", ng::value("no")}}), {});
    EXPECT_EQ(reply.find_string("draining").value_or(""), "no");
    EXPECT_EQ(control.handle(offer("two"), {}).find_string("result").value_or(""), "ok");
}

TEST_F(control_test, commands_reach_the_worker_ring_and_tick_applies_timeouts) {
    ASSERT_EQ(control.handle(offer("one"), {}).find_string("result").value_or(""), "ok");
    std::size_t commands = 0;
    while (rings.commands(0).pop()) {
        ++commands;
    }
    EXPECT_EQ(commands, 4U);  // RTP and RTCP rules for both sides
    time.advance_ms(61'000);
    control.tick();
    const auto text = metrics::render_text(*control.collector());
    EXPECT_NE(text.find("tandem_sessions 0"), std::string::npos) << text;
    EXPECT_NE(text.find("tandem_sessions_ended_total{reason=\"timeout\"} 1"), std::string::npos) << text;
}

TEST(relay_totals, packets_and_errors_per_lcore) {
    auto counters = std::make_shared<metrics::worker_counters>(media::relay_counter_specs, 2);
    counters->add(0, static_cast<std::size_t>(media::relay_counter::forwarded), 10);
    counters->add(1, static_cast<std::size_t>(media::relay_counter::dropped_source), 2);
    counters->add(1, static_cast<std::size_t>(media::relay_counter::dropped_no_stream), 3);
    const auto text = metrics::render_text(*make_relay_totals_collector(counters, {"1", "2"}));
    EXPECT_NE(text.find("tandem_packets_total{lcore=\"1\"} 10"), std::string::npos) << text;
    EXPECT_NE(text.find("tandem_errors_total{lcore=\"2\"} 5"), std::string::npos) << text;
}

}  // namespace
}  // namespace tandem::dataplane::control
