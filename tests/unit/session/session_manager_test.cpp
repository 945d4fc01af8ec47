#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dataplane/media/port_pool.hpp"
#include "dataplane/media/relay_table.hpp"
#include "dataplane/media/session_manager.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/sdp/sdp.hpp"
#include "tests/unit/media/media_frames.hpp"

namespace tandem::media {
namespace {

using test::peer_a_ip;
using test::peer_b_ip;

// A fake that behaves: one real worker table, commands applied at once.
class table_workers final : public relay_workers {
  public:
    bool send(const relay_command& command) override {
        sent.push_back(command);
        table.apply(command);
        return true;
    }
    std::optional<relay_event> next_event() override { return table.events().pop(); }
    [[nodiscard]] std::optional<stream_stats_snapshot> stats(std::uint16_t local_port,
                                                             std::uint32_t stream_id) const override {
        return table.stats(local_port, stream_id);
    }

    relay_table table;
    std::vector<relay_command> sent;
};

constexpr const char* offer_sdp =
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\n"
    "m=audio 4000 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n"
    "a=candidate:1 1 UDP 2130706431 192.0.2.10 4000 typ host\r\n"
    "a=ice-ufrag:abcd\r\n"
    "a=ice-pwd:0123456789abcdefghijkl\r\n"
    "a=sendrecv\r\n";

constexpr const char* answer_sdp =
    "v=0\r\n"
    "o=bob 1 1 IN IP4 198.51.100.20\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.20\r\n"
    "t=0 0\r\n"
    "m=audio 5000 RTP/AVP 0 101\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=sendrecv\r\n";

ng::value request(std::string command, std::initializer_list<std::pair<const std::string, ng::value>> extra = {}) {
    ng::dict entries(extra);
    entries.emplace("command", ng::value(std::move(command)));
    return ng::value(std::move(entries));
}

class sessions : public ::testing::Test {
  protected:
    sessions() : manager(make_settings(), workers, time) {}

    static media_settings make_settings() {
        media_settings settings;
        settings.ipv4_address = "192.0.2.2";
        settings.ipv6_address = "2001:db8::2";
        settings.port_min = 30000;
        settings.port_max = 30099;
        settings.max_sessions = 5;
        settings.timeout_s = 60;
        settings.silent_timeout_s = 600;
        return settings;
    }

    ng::value offer(const std::string& call_id = "call-1", const char* sdp = offer_sdp, ng::list flags = {}) {
        return manager.handle(request("offer", {{"call-id", ng::value(call_id)},
                                                {"from-tag", ng::value("tag-a")},
                                                {"sdp", ng::value(sdp)},
                                                {"flags", ng::value(std::move(flags))}}));
    }
    ng::value answer(const std::string& call_id = "call-1", const char* sdp = answer_sdp) {
        return manager.handle(request("answer", {{"call-id", ng::value(call_id)},
                                                 {"from-tag", ng::value("tag-a")},
                                                 {"to-tag", ng::value("tag-b")},
                                                 {"sdp", ng::value(sdp)}}));
    }
    static sdp::session_description sdp_of(const ng::value& reply) {
        EXPECT_EQ(reply.find_string("result").value_or(""), "ok") << ng::encode(reply);
        auto parsed = sdp::parse(reply.find_string("sdp").value_or(""));
        EXPECT_TRUE(parsed.ok()) << parsed.message();
        return parsed.ok() ? parsed.value() : sdp::session_description{};
    }
    static std::string reason(const ng::value& reply) {
        return std::string(reply.find_string("error-reason").value_or(""));
    }

    manual_clock time{1'000'000'000};
    table_workers workers;
    session_manager manager;
};

TEST_F(sessions, offer_rewrites_address_port_rtcp_and_drops_ice) {
    const auto rewritten = sdp_of(offer());
    ASSERT_EQ(rewritten.media.size(), 1U);
    const auto& audio = rewritten.media[0];
    EXPECT_GE(audio.port, 30000);
    EXPECT_LE(audio.port, 30099);
    EXPECT_EQ(audio.port % 2, 0);
    ASSERT_TRUE(rewritten.connection.has_value());
    EXPECT_EQ(rewritten.connection->address, "192.0.2.2");
    const auto rtcp = sdp::rtcp(audio);
    ASSERT_TRUE(rtcp.has_value());
    EXPECT_EQ(rtcp->port, audio.port + 1);
    EXPECT_TRUE(sdp::candidates(audio).empty());
    EXPECT_FALSE(sdp::ice_ufrag(rewritten, 0).has_value());
    EXPECT_EQ(sdp::direction(rewritten, 0), sdp::media_direction::sendrecv);
    EXPECT_EQ(audio.formats, (std::vector<std::string>{"0", "8", "101"}));
    EXPECT_EQ(manager.sessions(), 1U);
}

TEST_F(sessions, answer_gives_the_offerer_the_other_port_and_media_flows_both_ways) {
    const auto offered = sdp_of(offer());
    const auto answered = sdp_of(answer());
    const auto port_toward_b = offered.media[0].port;  // B sends here
    const auto port_toward_a = answered.media[0].port; // A sends here
    EXPECT_NE(port_toward_a, port_toward_b);
    EXPECT_EQ(answered.connection->address, "192.0.2.2");

    const auto* a_slot = workers.table.slot(port_toward_a);
    const auto* b_slot = workers.table.slot(port_toward_b);
    ASSERT_NE(a_slot, nullptr);
    ASSERT_NE(b_slot, nullptr);
    EXPECT_EQ(a_slot->rule.egress_port, port_toward_b);
    EXPECT_EQ(a_slot->rule.destination, test::endpoint4(peer_b_ip, 5000));
    EXPECT_EQ(a_slot->rule.expected_source, test::endpoint4(peer_a_ip, 4000));
    EXPECT_EQ(b_slot->rule.egress_port, port_toward_a);
    EXPECT_EQ(b_slot->rule.destination, test::endpoint4(peer_a_ip, 4000));
    // RTCP on the odd ports, crossing the same way.
    const auto* a_rtcp = workers.table.slot(static_cast<std::uint16_t>(port_toward_a + 1));
    ASSERT_NE(a_rtcp, nullptr);
    EXPECT_EQ(a_rtcp->rule.egress_port, port_toward_b + 1);
    EXPECT_EQ(a_rtcp->rule.destination, test::endpoint4(peer_b_ip, 5001));
    EXPECT_TRUE(a_rtcp->rule.flags & flag_rtcp);
    EXPECT_TRUE(a_slot->rule.flags & flag_learn);
}

TEST_F(sessions, relayed_packets_show_in_query_and_delete_totals) {
    sdp_of(offer());
    const auto answered = sdp_of(answer());
    const auto port_toward_a = answered.media[0].port;

    neighbour_table neighbours;
    ASSERT_TRUE(neighbours.add_static(ip_address::v4(peer_b_ip), test::peer_mac));
    ASSERT_TRUE(neighbours.add_static(ip_address::v4(test::gateway_ip), test::gateway_mac));
    const auto network = test::network();
    for (std::uint16_t sequence = 1; sequence <= 10; ++sequence) {
        auto frame = test::udp4(peer_a_ip, 4000, port_toward_a, test::rtp_payload(sequence, sequence * 160U, 0x1234));
        const auto what = packet::classify(frame, network.identity);
        const auto result = relay_udp(workers.table, neighbours, network, frame, what, time.now_ns(), {});
        ASSERT_TRUE(result.forwarded()) << static_cast<int>(result.verdict);
    }
    const auto queried = manager.handle(request("query", {{"call-id", ng::value("call-1")}}));
    ASSERT_EQ(queried.find_string("result").value_or(""), "ok") << ng::encode(queried);
    const auto* totals = queried.find("totals");
    ASSERT_NE(totals, nullptr);
    EXPECT_EQ(totals->find("RTP")->find_integer("packets").value_or(-1), 10);
    const auto* tag_a = queried.find("tags")->find("tag-a");
    ASSERT_NE(tag_a, nullptr);
    EXPECT_EQ(tag_a->find_string("in dialogue with").value_or(""), "tag-b");
    const auto& stream = tag_a->find("medias")->items()[0].find("streams")->items()[0];
    EXPECT_EQ(stream.find_integer("local port").value_or(0), port_toward_a);
    EXPECT_EQ(stream.find("stats")->find_integer("packets").value_or(0), 10);
    EXPECT_EQ(stream.find_integer("SSRC").value_or(0), 0x1234);

    const auto deleted = manager.handle(request("delete", {{"call-id", ng::value("call-1")},
                                                           {"from-tag", ng::value("tag-a")}}));
    EXPECT_EQ(deleted.find_string("result").value_or(""), "ok");
    EXPECT_EQ(deleted.find("totals")->find("RTP")->find_integer("packets").value_or(-1), 10);
    EXPECT_EQ(manager.sessions(), 0U);
    EXPECT_EQ(manager.free_port_pairs(), manager.total_port_pairs());
    EXPECT_EQ(workers.table.slot(port_toward_a), nullptr);
}

TEST_F(sessions, reoffer_keeps_ports_and_follows_a_port_change_and_hold) {
    const auto first = sdp_of(offer());
    sdp_of(answer());
    const auto port_toward_b = first.media[0].port;

    std::string moved = offer_sdp;
    moved.replace(moved.find("m=audio 4000"), 12, "m=audio 4100");
    moved.replace(moved.find("a=sendrecv"), 10, "a=sendonly");
    const auto second = sdp_of(offer("call-1", moved.c_str()));
    EXPECT_EQ(second.media[0].port, port_toward_b);
    EXPECT_EQ(sdp::direction(second, 0), sdp::media_direction::sendonly);
    // B's packets now go to A's new port.
    const auto* b_slot = workers.table.slot(port_toward_b);
    ASSERT_NE(b_slot, nullptr);
    EXPECT_EQ(b_slot->rule.destination, test::endpoint4(peer_a_ip, 4100));
    EXPECT_EQ(manager.sessions(), 1U);
}

TEST_F(sessions, learned_source_steers_the_other_direction) {
    sdp_of(offer());
    const auto answered = sdp_of(answer());
    const auto port_toward_a = answered.media[0].port;
    neighbour_table neighbours;
    ASSERT_TRUE(neighbours.add_static(ip_address::v4(test::gateway_ip), test::gateway_mac));
    ASSERT_TRUE(neighbours.add_static(ip_address::v4(peer_a_ip), test::peer_mac));
    const auto network = test::network();
    // A is behind a NAT: its packets come from port 61000, not 4000.
    auto frame = test::udp4(peer_a_ip, 61000, port_toward_a, test::rtp_payload(1, 160, 7));
    const auto what = packet::classify(frame, network.identity);
    ASSERT_TRUE(relay_udp(workers.table, neighbours, network, frame, what, time.now_ns(), {}).forwarded());
    workers.sent.clear();
    manager.poll();
    ASSERT_FALSE(workers.sent.empty());
    EXPECT_EQ(workers.sent.back().what, relay_command::kind::set_destination);
    EXPECT_EQ(workers.sent.back().rule.destination, test::endpoint4(peer_a_ip, 61000));
    const auto queried = manager.handle(request("query", {{"call-id", ng::value("call-1")}}));
    const auto& stream = queried.find("tags")->find("tag-a")->find("medias")->items()[0].find("streams")->items()[0];
    EXPECT_EQ(stream.find("endpoint")->find_integer("port").value_or(0), 61000);
    EXPECT_EQ(stream.find("advertised endpoint")->find_integer("port").value_or(0), 4000);
}

TEST_F(sessions, flags_asymmetric_and_strict_source_reach_the_rules) {
    const auto offered = sdp_of(offer("call-1", offer_sdp, ng::list{ng::value("asymmetric"), ng::value("strict-source")}));
    const auto* slot = workers.table.slot(offered.media[0].port);
    ASSERT_NE(slot, nullptr);
    EXPECT_FALSE(slot->rule.flags & flag_learn);
    EXPECT_TRUE(slot->rule.flags & flag_strict_source);
}

TEST_F(sessions, sip_source_address_replaces_the_sdp_address) {
    auto reply = manager.handle(request(
        "offer", {{"call-id", ng::value("nat")},
                  {"from-tag", ng::value("a")},
                  {"sdp", ng::value(offer_sdp)},
                  {"flags", ng::value(ng::list{ng::value("SIP-source-address")})},
                  {"received-from", ng::value(ng::list{ng::value("IP4"), ng::value("203.0.113.7")})}}));
    const auto offered = sdp_of(reply);
    auto answered = sdp_of(manager.handle(request("answer", {{"call-id", ng::value("nat")},
                                                              {"from-tag", ng::value("a")},
                                                              {"to-tag", ng::value("b")},
                                                              {"sdp", ng::value(answer_sdp)}})));
    const auto* toward_a = workers.table.slot(offered.media[0].port);
    ASSERT_NE(toward_a, nullptr);
    const auto expected = make_endpoint("203.0.113.7", 4000);
    ASSERT_TRUE(expected.has_value());
    EXPECT_EQ(toward_a->rule.destination, *expected);
    (void)answered;
}

TEST_F(sessions, replace_origin_and_rtcp_mux_pass_through) {
    std::string muxed = offer_sdp;
    muxed += "a=rtcp-mux\r\n";
    auto reply = manager.handle(request("offer", {{"call-id", ng::value("mux")},
                                                  {"from-tag", ng::value("a")},
                                                  {"sdp", ng::value(muxed)},
                                                  {"replace", ng::value(ng::list{ng::value("origin")})}}));
    const auto offered = sdp_of(reply);
    EXPECT_EQ(offered.origin.address, "192.0.2.2");
    EXPECT_TRUE(sdp::rtcp_mux(offered.media[0]));

    reply = manager.handle(request("offer", {{"call-id", ng::value("demux")},
                                             {"from-tag", ng::value("a")},
                                             {"sdp", ng::value(muxed)},
                                             {"rtcp-mux", ng::value(ng::list{ng::value("demux")})}}));
    EXPECT_FALSE(sdp::rtcp_mux(sdp_of(reply).media[0]));
}

TEST_F(sessions, ipv6_offer_gets_our_ipv6_address) {
    const char* v6 =
        "v=0\r\no=- 1 1 IN IP6 2001:db8::10\r\ns=-\r\nc=IN IP6 2001:db8::10\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 0\r\n";
    const auto offered = sdp_of(offer("v6", v6));
    EXPECT_EQ(offered.connection->family, sdp::address_family::ip6);
    EXPECT_EQ(offered.connection->address, "2001:db8::2");
}

TEST_F(sessions, two_media_sections_get_two_port_pairs_and_port_zero_none) {
    const char* two =
        "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=audio 0 RTP/AVP 8\r\n";
    const auto offered = sdp_of(offer("two", two));
    ASSERT_EQ(offered.media.size(), 3U);
    EXPECT_NE(offered.media[0].port, offered.media[1].port);
    EXPECT_NE(offered.media[1].port, 0);
    EXPECT_EQ(offered.media[2].port, 0);
    EXPECT_EQ(manager.total_port_pairs() - manager.free_port_pairs(), 4U);
}

TEST_F(sessions, malformed_requests_get_rtpengine_error_reasons) {
    EXPECT_EQ(reason(manager.handle(ng::value(ng::dict{}))), "No command in message");
    EXPECT_EQ(reason(manager.handle(request("dance"))), "Unrecognized command");
    EXPECT_EQ(reason(manager.handle(request("offer", {{"from-tag", ng::value("a")}, {"sdp", ng::value(offer_sdp)}}))),
              "No call-id in message");
    EXPECT_EQ(reason(manager.handle(request("offer", {{"call-id", ng::value("x")}, {"sdp", ng::value(offer_sdp)}}))),
              "No from-tag in message");
    EXPECT_EQ(reason(manager.handle(request("offer", {{"call-id", ng::value("x")}, {"from-tag", ng::value("a")}}))),
              "No SDP body in message");
    EXPECT_EQ(reason(offer("x", "v=0\r\nm=audio 99999 RTP/AVP 0\r\n")).rfind("Failed to parse SDP", 0), 0U);
    EXPECT_EQ(reason(answer("nobody")), "Unknown call-id");
    EXPECT_EQ(reason(manager.handle(request("query", {{"call-id", ng::value("nobody")}}))), "Unknown call-id");
    EXPECT_EQ(manager.sessions(), 0U);
    // Unknown keys are ignored, as rtpengine does.
    auto reply = manager.handle(request("offer", {{"call-id", ng::value("y")},
                                                  {"from-tag", ng::value("a")},
                                                  {"sdp", ng::value(offer_sdp)},
                                                  {"x-vendor-thing", ng::value(ng::list{ng::value(1)})}}));
    EXPECT_EQ(reply.find_string("result").value_or(""), "ok");
}

TEST_F(sessions, load_limit_and_drain_refuse_new_calls_but_keep_existing_ones) {
    for (int index = 0; index < 5; ++index) {
        sdp_of(offer("call-" + std::to_string(index)));
    }
    auto refused = offer("call-5");
    EXPECT_EQ(refused.find_string("result").value_or(""), "load limit");
    EXPECT_EQ(manager.totals().offers_rejected_load, 1U);
    sdp_of(offer("call-0"));  // a re-offer of an existing call still works

    manager.set_draining(true);
    manager.handle(request("delete", {{"call-id", ng::value("call-4")}}));
    EXPECT_EQ(offer("call-9").find_string("result").value_or(""), "load limit");
    sdp_of(answer("call-1"));  // existing calls go on
    EXPECT_EQ(manager.totals().offers_rejected_drain, 1U);
}

TEST_F(sessions, running_out_of_ports_fails_cleanly_without_leaking) {
    media_settings small = make_settings();
    small.port_min = 30000;
    small.port_max = 30005;  // three pairs: one call of one stream needs two
    table_workers local;
    session_manager tiny(small, local, time);
    auto first = tiny.handle(request("offer", {{"call-id", ng::value("a")}, {"from-tag", ng::value("t")},
                                               {"sdp", ng::value(offer_sdp)}}));
    EXPECT_EQ(first.find_string("result").value_or(""), "ok");
    auto second = tiny.handle(request("offer", {{"call-id", ng::value("b")}, {"from-tag", ng::value("t")},
                                                {"sdp", ng::value(offer_sdp)}}));
    EXPECT_EQ(reason(second), "Ran out of ports");
    EXPECT_EQ(tiny.free_port_pairs(), 1U);
    tiny.handle(request("delete", {{"call-id", ng::value("a")}}));
    EXPECT_EQ(tiny.free_port_pairs(), 3U);
}

TEST_F(sessions, no_media_times_out_and_hold_uses_the_silent_timeout) {
    sdp_of(offer("active"));
    std::string held = offer_sdp;
    held.replace(held.find("a=sendrecv"), 10, "a=sendonly");
    sdp_of(offer("held", held.c_str()));
    time.advance_ms(59'000);
    manager.poll();
    EXPECT_EQ(manager.sessions(), 2U);
    time.advance_ms(2'000);
    manager.poll();
    EXPECT_EQ(manager.sessions(), 1U);
    EXPECT_EQ(manager.totals().sessions_timed_out, 1U);
    time.advance_ms(600'000);
    manager.poll();
    EXPECT_EQ(manager.sessions(), 0U);
    EXPECT_EQ(manager.totals().sessions_silent_timed_out, 1U);
}

TEST_F(sessions, delete_delay_keeps_the_call_until_it_expires) {
    sdp_of(offer());
    auto reply = manager.handle(request("delete", {{"call-id", ng::value("call-1")}, {"delete delay", ng::value(5)}}));
    EXPECT_EQ(reply.find_string("result").value_or(""), "ok");
    manager.poll();
    EXPECT_EQ(manager.sessions(), 1U);
    time.advance_ms(5'000);
    manager.poll();
    EXPECT_EQ(manager.sessions(), 0U);
}

TEST_F(sessions, list_and_statistics) {
    sdp_of(offer("one"));
    sdp_of(offer("two"));
    const auto listed = manager.handle(request("list"));
    ASSERT_NE(listed.find("calls"), nullptr);
    EXPECT_EQ(listed.find("calls")->items().size(), 2U);
    const auto stats = manager.handle(request("statistics"));
    const auto* current = stats.find("statistics")->find("currentstatistics");
    ASSERT_NE(current, nullptr);
    EXPECT_EQ(current->find_integer("sessionstotal").value_or(-1), 2);
    EXPECT_EQ(stats.find("statistics")->find("totalstatistics")->find_integer("managedsessions").value_or(-1), 2);
    EXPECT_EQ(manager.handle(request("ping")).find_string("result").value_or(""), "pong");
}

}  // namespace
}  // namespace tandem::media
