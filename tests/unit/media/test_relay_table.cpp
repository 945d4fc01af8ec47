#include <gtest/gtest.h>

#include "tests/unit/media/relay_fixture.hpp"

namespace tandem::media {
namespace {

using namespace tandem::media::test;

class relay_table_test : public relay_fixture {};

TEST_F(relay_table_test, upsert_installs_and_stats_need_the_right_id) {
    ASSERT_TRUE(upsert(rule_a()));
    ASSERT_NE(table.slot(port_a), nullptr);
    EXPECT_EQ(table.slot(port_a)->rule.destination, endpoint4(peer_b_ip, 5000));
    EXPECT_TRUE(table.stats(port_a, 1));
    EXPECT_FALSE(table.stats(port_a, 2));
    EXPECT_FALSE(table.stats(port_b, 1));
    EXPECT_FALSE(table.stats(port_a, 0));
    EXPECT_FALSE(table.stats(60000, 1));
    EXPECT_EQ(table.slot(port_b), nullptr);
}

TEST_F(relay_table_test, rejects_commands_it_cannot_apply) {
    stream_rule outside = rule_a();
    outside.local_port = 30000;  // the table has 20000 ports
    EXPECT_FALSE(upsert(outside));
    stream_rule no_id = rule_a();
    no_id.stream_id = 0;
    EXPECT_FALSE(upsert(no_id));
    EXPECT_FALSE(apply(relay_command::kind::remove, rule_a()));  // nothing there
    EXPECT_FALSE(apply(relay_command::kind::set_destination, rule_a()));
    EXPECT_EQ(table.commands_rejected(), 4U);
}

TEST_F(relay_table_test, re_upsert_of_the_same_stream_keeps_learning_and_stats) {
    ASSERT_TRUE(upsert(rule_a(flag_learn | flag_strict_source)));
    ASSERT_TRUE(send_from_a(4002).forwarded());
    ASSERT_TRUE(send_from_a(4002).forwarded());
    ASSERT_TRUE(table.events().pop());
    clock.advance_ms(10'000);  // locked on 4002

    // A re-INVITE moves B: new destination, same stream.
    stream_rule moved = rule_a(flag_learn | flag_strict_source);
    moved.destination = endpoint4(peer_b_ip, 6000);
    ASSERT_TRUE(upsert(moved));
    EXPECT_EQ(stats_of(port_a, 1).packets, 2U);
    ASSERT_TRUE(send_from_a(4002).forwarded());
    EXPECT_EQ(destination_port_of_last_frame(), 6000);
    EXPECT_EQ(send_from_a(4004).verdict, relay_counter::dropped_source);  // still locked
    EXPECT_FALSE(table.events().pop());
    EXPECT_EQ(stats_of(port_a, 1).packets, 3U);
    EXPECT_EQ(stats_of(port_a, 1).errors, 1U);
}

TEST_F(relay_table_test, re_upsert_without_a_destination_keeps_the_learned_one) {
    ASSERT_TRUE(upsert(rule_a(flag_learn)));
    stream_rule b = rule_b();
    b.destination = media_endpoint{};  // A's address not known from SDP
    ASSERT_TRUE(upsert(b));
    EXPECT_EQ(send_from_b().verdict, relay_counter::dropped_no_destination);
    ASSERT_TRUE(send_from_a(4008).forwarded());  // learned: B's destination follows
    ASSERT_TRUE(upsert(b));                      // control re-sends the rule it has
    ASSERT_TRUE(send_from_b().forwarded());
    EXPECT_EQ(destination_port_of_last_frame(), 4008);
}

TEST_F(relay_table_test, changed_expected_source_restarts_learning) {
    ASSERT_TRUE(upsert(rule_a(flag_learn | flag_strict_source)));
    ASSERT_TRUE(send_from_a(4002).forwarded());
    ASSERT_TRUE(table.events().pop());
    clock.advance_ms(10'000);
    EXPECT_EQ(send_from_a(4010).verdict, relay_counter::dropped_source);

    stream_rule moved = rule_a(flag_learn | flag_strict_source);
    moved.expected_source = endpoint4(peer_a_ip, 4010);  // the peer's SDP changed
    ASSERT_TRUE(upsert(moved));
    ASSERT_TRUE(send_from_a(4010).forwarded());
    const auto event = table.events().pop();
    ASSERT_TRUE(event);
    EXPECT_EQ(event->source.port, 4010);
    EXPECT_EQ(stats_of(port_a, 1).packets, 2U);  // statistics survive
}

TEST_F(relay_table_test, upsert_of_a_new_stream_resets_the_slot) {
    ASSERT_TRUE(upsert(rule_a(flag_learn | flag_strict_source)));
    ASSERT_TRUE(send_from_a(4002).forwarded());
    clock.advance_ms(10'000);
    stream_rule next = rule_a(flag_learn | flag_strict_source);
    next.stream_id = 77;
    ASSERT_TRUE(upsert(next));
    EXPECT_FALSE(table.stats(port_a, 1));
    EXPECT_EQ(stats_of(port_a, 77).packets, 0U);
    EXPECT_TRUE(send_from_a(4004).forwarded());  // learning from scratch
    EXPECT_EQ(stats_of(port_a, 77).packets, 1U);
}

TEST_F(relay_table_test, remove_needs_the_matching_stream) {
    ASSERT_TRUE(upsert(rule_a()));
    stream_rule stale = rule_a();
    stale.stream_id = 99;
    EXPECT_FALSE(apply(relay_command::kind::remove, stale));
    EXPECT_TRUE(table.stats(port_a, 1));
    EXPECT_TRUE(apply(relay_command::kind::remove, rule_a()));
    EXPECT_FALSE(table.stats(port_a, 1));
    EXPECT_EQ(table.slot(port_a), nullptr);
    EXPECT_EQ(send_from_a().verdict, relay_counter::dropped_no_stream);
}

TEST_F(relay_table_test, set_destination_redirects) {
    ASSERT_TRUE(upsert(rule_b()));
    stream_rule redirect = rule_b();
    redirect.destination = endpoint4(peer_a_ip, 4444);
    redirect.flags = flag_blackhole;  // only the destination is taken
    ASSERT_TRUE(apply(relay_command::kind::set_destination, redirect));
    ASSERT_TRUE(send_from_b().forwarded());
    EXPECT_EQ(destination_port_of_last_frame(), 4444);
    stream_rule wrong = redirect;
    wrong.stream_id = 3;
    EXPECT_FALSE(apply(relay_command::kind::set_destination, wrong));
}

TEST_F(relay_table_test, apply_all_drains_the_ring_between_bursts) {
    spsc_ring<relay_command> ring(8);
    ASSERT_TRUE(ring.push(relay_command{relay_command::kind::upsert, rule_a()}));
    ASSERT_TRUE(ring.push(relay_command{relay_command::kind::upsert, rule_b()}));
    stream_rule redirect = rule_b();
    redirect.destination = endpoint4(peer_a_ip, 4500);
    ASSERT_TRUE(ring.push(relay_command{relay_command::kind::set_destination, redirect}));
    ASSERT_TRUE(ring.push(relay_command{relay_command::kind::remove, rule_a()}));
    EXPECT_EQ(table.apply_all(ring), 4U);
    EXPECT_TRUE(ring.empty());
    EXPECT_EQ(table.slot(port_a), nullptr);
    ASSERT_NE(table.slot(port_b), nullptr);
    EXPECT_EQ(table.slot(port_b)->rule.destination.port, 4500);
    EXPECT_EQ(table.apply_all(ring), 0U);
}

TEST_F(relay_table_test, sibling_is_the_stream_sending_from_our_port) {
    ASSERT_TRUE(upsert(rule_a()));
    EXPECT_EQ(table.sibling_of(*table.slot(port_a)), nullptr);
    ASSERT_TRUE(upsert(rule_b()));
    EXPECT_EQ(table.sibling_of(*table.slot(port_a)), table.slot(port_b));
    EXPECT_EQ(table.sibling_of(*table.slot(port_b)), table.slot(port_a));
    stream_rule unrelated = rule_b();
    unrelated.egress_port = 12000;  // port_b's stream now sends from elsewhere
    ASSERT_TRUE(upsert(unrelated));
    EXPECT_EQ(table.sibling_of(*table.slot(port_a)), nullptr);
}

TEST(relay_table_alone, clock_rate_defaults_to_8000) {
    EXPECT_EQ(stream_rule{}.clock_rate_hz, 8000U);
    relay_table small(relay_table_config{16, 3});
    EXPECT_EQ(small.ports(), 16U);
    EXPECT_EQ(small.events().capacity(), 4U);
}

TEST(relay_counter_specs, names_follow_the_metrics_convention) {
    EXPECT_STREQ(relay_counter_specs[0].name, "tandem_relay_forwarded_total");
    EXPECT_STREQ(relay_counter_specs[static_cast<std::size_t>(relay_counter::dropped_malformed)].name,
                 "tandem_relay_dropped_malformed_total");
    for (const auto& spec : relay_counter_specs) {
        EXPECT_FALSE(spec.is_gauge);
        EXPECT_NE(std::string(spec.help), "");
    }
}

}  // namespace
}  // namespace tandem::media
