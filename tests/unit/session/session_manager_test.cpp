#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dataplane/media/port_pool.hpp"
#include "dataplane/media/relay_table.hpp"
#include "dataplane/media/session_manager.hpp"
#include "dataplane/packet/bytes.hpp"
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

ng::value request(std::string command,
                  std::initializer_list<std::pair<const std::string, ng::value>> extra = {}) {
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
    const auto port_toward_b = offered.media[0].port;   // B sends here
    const auto port_toward_a = answered.media[0].port;  // A sends here
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
        auto frame =
            test::udp4(peer_a_ip, 4000, port_toward_a, test::rtp_payload(sequence, sequence * 160U, 0x1234));
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

    const auto deleted = manager.handle(
        request("delete", {{"call-id", ng::value("call-1")}, {"from-tag", ng::value("tag-a")}}));
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
    const auto& stream =
        queried.find("tags")->find("tag-a")->find("medias")->items()[0].find("streams")->items()[0];
    EXPECT_EQ(stream.find("endpoint")->find_integer("port").value_or(0), 61000);
    EXPECT_EQ(stream.find("advertised endpoint")->find_integer("port").value_or(0), 4000);
}

TEST_F(sessions, flags_asymmetric_and_strict_source_reach_the_rules) {
    const auto offered =
        sdp_of(offer("call-1", offer_sdp, ng::list{ng::value("asymmetric"), ng::value("strict-source")}));
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
        "m=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=audio 0 RTP/AVP "
        "8\r\n";
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
    EXPECT_EQ(reason(manager.handle(
                  request("offer", {{"from-tag", ng::value("a")}, {"sdp", ng::value(offer_sdp)}}))),
              "No call-id in message");
    EXPECT_EQ(reason(manager.handle(
                  request("offer", {{"call-id", ng::value("x")}, {"sdp", ng::value(offer_sdp)}}))),
              "No from-tag in message");
    EXPECT_EQ(
        reason(manager.handle(request("offer", {{"call-id", ng::value("x")}, {"from-tag", ng::value("a")}}))),
        "No SDP body in message");
    EXPECT_EQ(reason(offer("x", "v=0\r\nm=audio 99999 RTP/AVP 0\r\n")).rfind("Failed to parse SDP", 0), 0U);
    EXPECT_EQ(reason(answer("nobody")), "Unknown call-id");
    EXPECT_EQ(reason(manager.handle(request("query", {{"call-id", ng::value("nobody")}}))),
              "Unknown call-id");
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
    auto first = tiny.handle(request(
        "offer", {{"call-id", ng::value("a")}, {"from-tag", ng::value("t")}, {"sdp", ng::value(offer_sdp)}}));
    EXPECT_EQ(first.find_string("result").value_or(""), "ok");
    auto second = tiny.handle(request(
        "offer", {{"call-id", ng::value("b")}, {"from-tag", ng::value("t")}, {"sdp", ng::value(offer_sdp)}}));
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
    auto reply =
        manager.handle(request("delete", {{"call-id", ng::value("call-1")}, {"delete delay", ng::value(5)}}));
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
    EXPECT_EQ(stats.find("statistics")->find("totalstatistics")->find_integer("managedsessions").value_or(-1),
              2);
    EXPECT_EQ(manager.handle(request("ping")).find_string("result").value_or(""), "pong");
}

// ---------------------------------------------------------------------------
// SSRC continuity, asymmetric rtcp-mux and ended-stream quality, end to end
// through the relay table the manager drives.

// Relays frames built in the test through the workers' table.
struct frame_relay {
    frame_relay() {
        EXPECT_TRUE(neighbours.add_static(ip_address::v4(test::gateway_ip), test::gateway_mac));
        EXPECT_TRUE(neighbours.add_static(ip_address::v4(peer_a_ip), test::peer_mac));
    }
    relay_result operator()(relay_table& table, std::vector<std::uint8_t>& frame, std::int64_t now_ns) {
        const auto what = packet::classify(frame, network.identity);
        return relay_udp(table, neighbours, network, frame, what, now_ns, {});
    }
    neighbour_table neighbours;
    port_network network = test::network();
};

std::uint32_t rtp_ssrc_of(const std::vector<std::uint8_t>& frame) {
    return packet::load_be32(frame, 42 + 8);
}
std::uint16_t rtp_sequence_of(const std::vector<std::uint8_t>& frame) {
    return packet::load_be16(frame, 42 + 2);
}

TEST_F(sessions, ssrc_continuity_is_on_by_default_and_off_with_a_flag) {
    const auto plain = sdp_of(offer("on"));
    ASSERT_NE(workers.table.slot(plain.media[0].port), nullptr);
    EXPECT_TRUE(workers.table.slot(plain.media[0].port)->rule.flags & flag_ssrc_continuity);

    const auto off = sdp_of(offer("off", offer_sdp, ng::list{ng::value("no-SSRC-continuity")}));
    EXPECT_FALSE(workers.table.slot(off.media[0].port)->rule.flags & flag_ssrc_continuity);
    // It sticks for the call until turned back on.
    EXPECT_FALSE(workers.table.slot(sdp_of(offer("off")).media[0].port)->rule.flags & flag_ssrc_continuity);
    const auto back = sdp_of(offer("off", offer_sdp, ng::list{ng::value("SSRC_continuity")}));
    EXPECT_TRUE(workers.table.slot(back.media[0].port)->rule.flags & flag_ssrc_continuity);
}

TEST_F(sessions, a_reinvite_to_another_server_keeps_the_receivers_stream_continuous) {
    sdp_of(offer());
    const auto port_toward_a = sdp_of(answer()).media[0].port;
    frame_relay relay;
    for (std::uint16_t sequence = 1; sequence <= 5; ++sequence) {
        auto frame =
            test::udp4(peer_a_ip, 4000, port_toward_a, test::rtp_payload(sequence, sequence * 160U, 0x1111));
        ASSERT_TRUE(relay(workers.table, frame, time.now_ns()).forwarded());
        time.advance_ms(20);
    }
    // The re-INVITE moves A's media to a media server elsewhere.
    std::string moved = offer_sdp;
    moved.replace(moved.find("c=IN IP4 192.0.2.10"), 19, "c=IN IP4 192.0.2.11");
    moved.replace(moved.find("m=audio 4000"), 12, "m=audio 7000");
    sdp_of(offer("call-1", moved.c_str()));
    EXPECT_EQ(workers.table.slot(port_toward_a)->rule.expected_source, *make_endpoint("192.0.2.11", 7000));
    ASSERT_TRUE(
        relay.neighbours.add_static(ip_address::v4(packet::ipv4_address{192, 0, 2, 11}), test::peer_mac));
    for (std::uint16_t index = 0; index < 3; ++index) {
        auto frame = test::udp4(
            packet::ipv4_address{192, 0, 2, 11}, 7000, port_toward_a,
            test::rtp_payload(static_cast<std::uint16_t>(31000 + index), 99'000U + index * 160U, 0x2222));
        ASSERT_TRUE(relay(workers.table, frame, time.now_ns()).forwarded());
        EXPECT_EQ(rtp_ssrc_of(frame), 0x1111U);
        EXPECT_EQ(rtp_sequence_of(frame), 6 + index);
        EXPECT_TRUE(test::udp_checksum_valid(frame, 14, 34));
        time.advance_ms(20);
    }
}

TEST_F(sessions, asymmetric_rtcp_mux_sends_muxed_rtcp_to_the_other_sides_rtcp_port) {
    std::string muxed = offer_sdp;
    muxed += "a=rtcp-mux\r\n";
    // A muxes; B is offered no mux (demux), and we accept mux toward A.
    const auto offered =
        sdp_of(manager.handle(request("offer", {{"call-id", ng::value("asym")},
                                                {"from-tag", ng::value("tag-a")},
                                                {"sdp", ng::value(muxed)},
                                                {"rtcp-mux", ng::value(ng::list{ng::value("demux")})}})));
    EXPECT_FALSE(sdp::rtcp_mux(offered.media[0]));
    const auto answered =
        sdp_of(manager.handle(request("answer", {{"call-id", ng::value("asym")},
                                                 {"from-tag", ng::value("tag-a")},
                                                 {"to-tag", ng::value("tag-b")},
                                                 {"sdp", ng::value(answer_sdp)},
                                                 {"rtcp-mux", ng::value(ng::list{ng::value("accept")})}})));
    EXPECT_TRUE(sdp::rtcp_mux(answered.media[0]));
    const auto port_toward_a = answered.media[0].port;
    const auto port_toward_b = offered.media[0].port;
    const auto* a_rtp = workers.table.slot(port_toward_a);
    ASSERT_NE(a_rtp, nullptr);
    EXPECT_TRUE(a_rtp->rule.flags & flag_rtcp_mux);
    EXPECT_EQ(a_rtp->rule.rtcp_egress_port, port_toward_b + 1);
    EXPECT_EQ(a_rtp->rule.rtcp_destination, test::endpoint4(peer_b_ip, 5001));
    const auto* b_rtcp = workers.table.slot(static_cast<std::uint16_t>(port_toward_b + 1));
    ASSERT_NE(b_rtcp, nullptr);
    EXPECT_EQ(b_rtcp->rule.egress_port, port_toward_a);
    EXPECT_EQ(b_rtcp->rule.destination, test::endpoint4(peer_a_ip, 4000));
    // B's RTP rule has no split: B does not mux.
    EXPECT_EQ(workers.table.slot(port_toward_b)->rule.rtcp_egress_port, 0);

    frame_relay relay;
    auto rtcp = test::udp4(peer_a_ip, 4000, port_toward_a, test::rtcp_rr(0xa, {}));
    ASSERT_TRUE(relay(workers.table, rtcp, time.now_ns()).forwarded());
    EXPECT_EQ(packet::load_be16(rtcp, 34), port_toward_b + 1);
    EXPECT_EQ(packet::load_be16(rtcp, 36), 5001);

    // B's RTCP arrives from a NAT port: every worker is told where A's
    // muxed RTCP must go now.
    auto from_b =
        test::udp4(peer_b_ip, 6001, static_cast<std::uint16_t>(port_toward_b + 1), test::rtcp_rr(0xb, {}));
    ASSERT_TRUE(relay(workers.table, from_b, time.now_ns()).forwarded());
    workers.sent.clear();
    manager.poll();
    const auto told = std::find_if(workers.sent.begin(), workers.sent.end(), [](const relay_command& c) {
        return c.what == relay_command::kind::set_rtcp_destination;
    });
    ASSERT_NE(told, workers.sent.end());
    EXPECT_EQ(told->rule.local_port, port_toward_a);
    EXPECT_EQ(told->rule.rtcp_destination, test::endpoint4(peer_b_ip, 6001));
    EXPECT_EQ(workers.table.slot(port_toward_a)->rule.rtcp_destination, test::endpoint4(peer_b_ip, 6001));
}

TEST_F(sessions, learned_rtp_of_a_muxed_side_steers_the_other_sides_rtcp_too) {
    std::string muxed = offer_sdp;
    muxed += "a=rtcp-mux\r\n";
    const auto offered =
        sdp_of(manager.handle(request("offer", {{"call-id", ng::value("asym")},
                                                {"from-tag", ng::value("tag-a")},
                                                {"sdp", ng::value(muxed)},
                                                {"rtcp-mux", ng::value(ng::list{ng::value("demux")})}})));
    const auto answered =
        sdp_of(manager.handle(request("answer", {{"call-id", ng::value("asym")},
                                                 {"from-tag", ng::value("tag-a")},
                                                 {"to-tag", ng::value("tag-b")},
                                                 {"sdp", ng::value(answer_sdp)},
                                                 {"rtcp-mux", ng::value(ng::list{ng::value("accept")})}})));
    frame_relay relay;
    auto rtp = test::udp4(peer_a_ip, 61000, answered.media[0].port, test::rtp_payload(1, 160, 7));
    ASSERT_TRUE(relay(workers.table, rtp, time.now_ns()).forwarded());
    workers.sent.clear();
    manager.poll();
    const auto b_rtcp_port = static_cast<std::uint16_t>(offered.media[0].port + 1);
    const auto told = std::find_if(workers.sent.begin(), workers.sent.end(), [&](const relay_command& c) {
        return c.what == relay_command::kind::set_destination && c.rule.local_port == b_rtcp_port;
    });
    ASSERT_NE(told, workers.sent.end());
    EXPECT_EQ(told->rule.destination, test::endpoint4(peer_a_ip, 61000));
}

TEST_F(sessions, query_and_delete_carry_rtcp_reports_per_stream) {
    const auto offered = sdp_of(offer());
    sdp_of(answer());
    frame_relay relay;
    // B reports on its RTCP port what it receives from A: 25% lost, 3 in
    // all, jitter 80 units (10 ms at 8 kHz).
    auto rr = test::udp4(peer_b_ip, 5001, static_cast<std::uint16_t>(offered.media[0].port + 1),
                         test::rtcp_rr(0xb, {test::report_block_values{0xa, 64, 3, 100, 80, 0, 0}}));
    ASSERT_TRUE(relay(workers.table, rr, time.now_ns()).forwarded());

    const auto queried = manager.handle(request("query", {{"call-id", ng::value("call-1")}}));
    const auto& b_streams =
        queried.find("tags")->find("tag-b")->find("medias")->items()[0].find("streams")->items();
    ASSERT_EQ(b_streams.size(), 2U);
    const auto* rtcp = b_streams[0].find("rtcp");
    ASSERT_NE(rtcp, nullptr) << ng::encode(queried);
    EXPECT_EQ(rtcp->find_integer("packets").value_or(-1), 1);
    EXPECT_EQ(rtcp->find_integer("fraction lost").value_or(-1), 64);
    EXPECT_EQ(rtcp->find_integer("packets lost").value_or(-1), 3);
    EXPECT_EQ(rtcp->find_integer("jitter").value_or(-1), 10);
    EXPECT_EQ(rtcp->find("rtt ms"), nullptr);       // not measured
    EXPECT_EQ(b_streams[1].find("rtcp"), nullptr);  // on the RTP stream only
    // rtpengine's keys are all still there.
    for (const char* key : {"local port", "endpoint", "advertised endpoint", "last packet", "flags", "stats",
                            "SSRC", "packets lost", "packets expected", "jitter"}) {
        EXPECT_NE(b_streams[0].find(key), nullptr) << key;
    }
    const auto deleted = manager.handle(request("delete", {{"call-id", ng::value("call-1")}}));
    const auto& deleted_b =
        deleted.find("tags")->find("tag-b")->find("medias")->items()[0].find("streams")->items();
    EXPECT_EQ(deleted_b[0].find("rtcp")->find_integer("fraction lost").value_or(-1), 64);
}

TEST_F(sessions, ended_calls_report_each_streams_quality) {
    std::vector<stream_quality> ended;
    media_settings settings = make_settings();
    settings.on_stream_ended = [&](const stream_quality& quality) { ended.push_back(quality); };
    table_workers local;
    session_manager observed(settings, local, time);
    const auto offered = sdp_of(observed.handle(request(
        "offer",
        {{"call-id", ng::value("q")}, {"from-tag", ng::value("tag-a")}, {"sdp", ng::value(offer_sdp)}})));
    const auto answered = sdp_of(observed.handle(request("answer", {{"call-id", ng::value("q")},
                                                                    {"from-tag", ng::value("tag-a")},
                                                                    {"to-tag", ng::value("tag-b")},
                                                                    {"sdp", ng::value(answer_sdp)}})));
    frame_relay relay;
    // A sends 1..10 without 6: one lost.
    for (std::uint16_t sequence = 1; sequence <= 10; ++sequence) {
        if (sequence != 6) {
            auto frame = test::udp4(peer_a_ip, 4000, answered.media[0].port,
                                    test::rtp_payload(sequence, sequence * 160U, 0x1234));
            ASSERT_TRUE(relay(local.table, frame, time.now_ns()).forwarded());
        }
        time.advance_ms(20);
    }
    auto rr = test::udp4(peer_b_ip, 5001, static_cast<std::uint16_t>(offered.media[0].port + 1),
                         test::rtcp_rr(0xb, {test::report_block_values{0x1234, 64, 3, 100, 80, 0, 0}}));
    ASSERT_TRUE(relay(local.table, rr, time.now_ns()).forwarded());
    time.advance_ms(800);
    EXPECT_TRUE(ended.empty());
    observed.handle(request("delete", {{"call-id", ng::value("q")}}));

    ASSERT_EQ(ended.size(), 2U);
    const auto side = [&](const std::string& tag) {
        const auto found =
            std::find_if(ended.begin(), ended.end(), [&](const auto& q) { return q.tag == tag; });
        EXPECT_NE(found, ended.end()) << tag;
        return found == ended.end() ? stream_quality{} : *found;
    };
    const auto a = side("tag-a");
    EXPECT_EQ(a.call_id, "q");
    EXPECT_EQ(a.media_index, 1U);
    EXPECT_EQ(a.media_type, "audio");
    EXPECT_EQ(a.local_port, answered.media[0].port);
    EXPECT_EQ(a.ssrc, 0x1234U);
    EXPECT_EQ(a.packets, 9U);
    // RFC 3550 A.1: the first packet is probation, counting starts at 2.
    EXPECT_EQ(a.packets_expected, 9U);
    EXPECT_EQ(a.packets_lost, 1U);
    EXPECT_DOUBLE_EQ(a.loss_percent, 100.0 / 9.0);
    EXPECT_DOUBLE_EQ(a.jitter_ms, 0.0);
    EXPECT_DOUBLE_EQ(a.duration_s, 1.0);
    EXPECT_EQ(a.rtcp_packets, 0U);

    const auto b = side("tag-b");
    EXPECT_EQ(b.local_port, offered.media[0].port);
    EXPECT_EQ(b.packets, 0U);
    EXPECT_DOUBLE_EQ(b.loss_percent, 0.0);
    EXPECT_EQ(b.rtcp_packets, 1U);
    EXPECT_DOUBLE_EQ(b.rtcp_fraction_lost_percent, 25.0);
    EXPECT_EQ(b.rtcp_packets_lost, 3);
    EXPECT_DOUBLE_EQ(b.rtcp_jitter_ms, 10.0);
    EXPECT_FALSE(b.rtt_ms.has_value());

    // Calls that time out are harvested too.
    ended.clear();
    sdp_of(observed.handle(
        request("offer",
                {{"call-id", ng::value("t")}, {"from-tag", ng::value("x")}, {"sdp", ng::value(offer_sdp)}})));
    time.advance_ms(61'000);
    observed.poll();
    EXPECT_EQ(observed.sessions(), 0U);
    EXPECT_EQ(ended.size(), 2U);
}

}  // namespace
}  // namespace tandem::media
