// The data plane's io layer on DPDK virtual devices. EAL starts once for
// the whole program (a gtest environment); each test builds a net_ring port
// from two rings: the test enqueues frames on the port's rx ring and reads
// what the worker sent from its tx ring.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/io/eal.hpp"
#include "dataplane/io/idle_backoff.hpp"
#include "dataplane/io/port.hpp"
#include "dataplane/io/port_metrics.hpp"
#include "dataplane/io/worker.hpp"
#include "dataplane/packet/build.hpp"
#include "dataplane/packet/headers.hpp"
#include "gateway/metrics/metrics.hpp"
#include "tests/vdev/vdev_support.hpp"

namespace tandem::dataplane::io {
namespace {

using bytes = std::vector<std::uint8_t>;

config::dataplane_config test_dataplane_config() {
    return test::vdev_dataplane_config("tandem-vdev");
}

using test::eal_environment;
[[maybe_unused]] auto* const environment =
    ::testing::AddGlobalTestEnvironment(new eal_environment("test_dataplane_vdev", "tandem-vdev"));

const packet::mac_address peer_mac{0x02, 0, 0, 0, 0, 0x01};
const packet::ipv4_address peer_ip{192, 0, 2, 1};
const packet::ipv4_address our_ip{192, 0, 2, 2};

using test::ring_port;

packet::ipv4_flow flow_to_us(const ring_port& ring) {
    return {peer_mac, ring.mac(), peer_ip, our_ip};
}

class worker_test : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(ring.ok());
        free_before_ = rte_mempool_avail_count(eal_environment::pool());
    }
    void TearDown() override {
        if (!ring.ok()) {
            return;
        }
        ring.drain();
        EXPECT_EQ(rte_mempool_avail_count(eal_environment::pool()), free_before_) << "an mbuf leaked";
    }

    worker make_worker(polling_mode polling = polling_mode::busy) {
        worker_settings settings;
        settings.index = 0;
        settings.queues = {ring.queue()};
        settings.burst_size = 32;
        settings.polling = polling;
        return worker(std::move(settings), counters, quit);
    }

    std::uint64_t counter(worker_counter which) const {
        return counters.get(0, static_cast<std::size_t>(which));
    }

    unsigned free_before_ = 0;
    ring_port ring;
    metrics::worker_counters counters{worker_counter_specs, 1};
    std::atomic<bool> quit{false};
};

TEST(eal_arguments, built_from_the_config) {
    auto dataplane = test_dataplane_config();
    config::port_config tap;
    tap.device = "net_tap0,iface=tandem0";
    config::port_config nic;
    nic.device = "0000:03:00.0";
    dataplane.ports = {tap, nic};
    dataplane.eal.extra_args = {"--huge-worker-stack"};
    const auto args = build_eal_arguments(dataplane, "tandem-dataplane", 6);
    const std::vector<std::string> expected{"tandem-dataplane",
                                            "-l",
                                            "0-1",
                                            "--no-huge",
                                            "-m",
                                            "256",
                                            "--no-shconf",
                                            "--no-telemetry",
                                            "--file-prefix",
                                            "tandem-vdev",
                                            "--no-pci",
                                            "--vdev",
                                            "net_tap0,iface=tandem0",
                                            "--iova-mode=va",
                                            "--log-level=6",
                                            "--huge-worker-stack"};
    EXPECT_EQ(args, expected);
}

TEST(eal_arguments, hugepages_and_pci_allow_list) {
    auto dataplane = test_dataplane_config();
    dataplane.eal.no_huge = false;
    dataplane.eal.lcores = "(0-1)@0";
    dataplane.eal.pci_allow = {"0000:03:00.0", "0000:03:00.1"};
    const auto args = build_eal_arguments(dataplane, "tandem-dataplane", 6);
    const std::vector<std::string> expected{
        "tandem-dataplane", "--lcores",    "(0-1)@0", "-m",           "256", "--in-memory",  "--no-telemetry",
        "--file-prefix",    "tandem-vdev", "-a",      "0000:03:00.0", "-a",  "0000:03:00.1", "--log-level=6"};
    EXPECT_EQ(args, expected);
}

TEST(eal_arguments, device_name_and_log_levels) {
    EXPECT_EQ(device_name("net_tap0,iface=tandem0"), "net_tap0");
    EXPECT_EQ(device_name("0000:03:00.0"), "0000:03:00.0");
    EXPECT_EQ(eal_log_level("debug"), 7);
    EXPECT_EQ(eal_log_level("info"), 6);
    EXPECT_EQ(eal_log_level("error"), 4);
}

TEST(idle_backoff, adaptive_spins_then_pauses_then_sleeps_longer) {
    idle_backoff backoff(polling_mode::adaptive);
    for (std::uint32_t i = 0; i < idle_backoff::spin_polls; ++i) {
        ASSERT_EQ(backoff.on_empty().what, idle_action::kind::spin);
    }
    for (std::uint32_t i = 0; i < idle_backoff::pause_polls; ++i) {
        ASSERT_EQ(backoff.on_empty().what, idle_action::kind::pause);
    }
    std::vector<std::uint32_t> sleeps;
    for (int i = 0; i < 6; ++i) {
        const auto action = backoff.on_empty();
        ASSERT_EQ(action.what, idle_action::kind::sleep);
        sleeps.push_back(action.sleep_us);
    }
    EXPECT_EQ(sleeps, (std::vector<std::uint32_t>{100, 200, 400, 800, 1000, 1000}));
    backoff.on_work();
    EXPECT_EQ(backoff.on_empty().what, idle_action::kind::spin);
}

TEST(idle_backoff, busy_never_sleeps) {
    idle_backoff backoff(polling_mode::busy);
    for (int i = 0; i < 10000; ++i) {
        ASSERT_EQ(backoff.on_empty().what, idle_action::kind::spin);
    }
}

TEST_F(worker_test, port_has_a_mac_and_our_address) {
    EXPECT_NE(ring.port().identity().mac, packet::mac_address{});
    EXPECT_EQ(ring.port().identity().ipv4, our_ip);
    EXPECT_FALSE(ring.port().identity().ipv6);
}

TEST_F(worker_test, arp_request_is_answered) {
    auto w = make_worker();
    ring.inject(packet::build_arp_request(peer_mac, peer_ip, our_ip));
    EXPECT_EQ(w.poll_all(), 1U);
    const auto sent = ring.drain();
    ASSERT_EQ(sent.size(), 1U);
    const auto arp = packet::parse_arp(std::span<const std::uint8_t>(sent[0]).subspan(14));
    ASSERT_TRUE(arp);
    EXPECT_EQ(arp->operation, packet::arp_op_reply);
    EXPECT_EQ(arp->sender_mac, ring.port().identity().mac);
    EXPECT_EQ(arp->sender_ip, our_ip);
    EXPECT_EQ(arp->target_mac, peer_mac);
    EXPECT_EQ(counter(worker_counter::rx_packets), 1U);
    EXPECT_EQ(counter(worker_counter::arp_replies), 1U);
    EXPECT_EQ(counter(worker_counter::tx_packets), 1U);
}

TEST_F(worker_test, icmp_echo_is_answered) {
    auto w = make_worker();
    const auto request = packet::build_icmp_echo_request(flow_to_us(ring), 42, 1, 56);
    ring.inject(request);
    EXPECT_EQ(w.poll_all(), 1U);
    const auto sent = ring.drain();
    ASSERT_EQ(sent.size(), 1U);
    ASSERT_EQ(sent[0].size(), request.size());
    const auto ip = packet::parse_ipv4(std::span<const std::uint8_t>(sent[0]).subspan(14));
    ASSERT_TRUE(ip);
    EXPECT_EQ(ip->source, our_ip);
    EXPECT_EQ(ip->destination, peer_ip);
    EXPECT_EQ(sent[0][34], packet::icmp_echo_reply);
    EXPECT_EQ(counter(worker_counter::icmp_echo_replies), 1U);
}

TEST_F(worker_test, garbage_is_counted_and_dropped) {
    auto w = make_worker();
    std::mt19937 random(99);
    bytes noise(60);
    std::generate(noise.begin(), noise.end(), [&] { return static_cast<std::uint8_t>(random()); });
    std::copy(ring.port().identity().mac.begin(), ring.port().identity().mac.end(), noise.begin());
    noise[12] = 0x08;  // IPv4 ether type, garbage header
    noise[13] = 0x00;
    ring.inject(noise);
    ring.inject(bytes{});          // empty frame
    ring.inject(bytes(13, 0xff));  // shorter than an Ethernet header
    auto elsewhere = flow_to_us(ring);
    elsewhere.destination_ip = packet::ipv4_address{198, 51, 100, 7};
    ring.inject(packet::build_icmp_echo_request(elsewhere, 1, 1, 8));
    ring.inject(packet::build_udp(flow_to_us(ring), 4000, 30000, bytes(20, 0)));

    EXPECT_EQ(w.poll_all(), 5U);
    EXPECT_TRUE(ring.drain().empty());
    EXPECT_EQ(counter(worker_counter::dropped_malformed), 3U);
    EXPECT_EQ(counter(worker_counter::dropped_not_for_us), 1U);
    EXPECT_EQ(counter(worker_counter::dropped_udp_no_relay), 1U);
    EXPECT_EQ(counter(worker_counter::tx_packets), 0U);
}

TEST_F(worker_test, chained_mbufs_are_dropped) {
    auto w = make_worker();
    rte_mbuf* head = rte_pktmbuf_alloc(eal_environment::pool());
    rte_mbuf* tail = rte_pktmbuf_alloc(eal_environment::pool());
    ASSERT_NE(rte_pktmbuf_append(head, 20), nullptr);
    ASSERT_NE(rte_pktmbuf_append(tail, 20), nullptr);
    ASSERT_EQ(rte_pktmbuf_chain(head, tail), 0);
    ring.inject_mbuf(head);
    EXPECT_EQ(w.poll_all(), 1U);
    EXPECT_EQ(counter(worker_counter::dropped_multi_segment), 1U);
}

TEST_F(worker_test, full_tx_queue_is_counted) {
    ring_port small(4);  // a ring of 4 holds 3 frames
    ASSERT_TRUE(small.ok());
    auto settings_queue = small.queue();
    worker_settings settings;
    settings.queues = {settings_queue};
    worker w(std::move(settings), counters, quit);
    for (int i = 0; i < 8; ++i) {
        small.inject(packet::build_arp_request(peer_mac, peer_ip, our_ip));
    }
    EXPECT_EQ(w.poll_all(), 8U);
    EXPECT_EQ(small.drain().size(), 3U);
    EXPECT_EQ(counter(worker_counter::arp_replies), 8U);
    EXPECT_EQ(counter(worker_counter::tx_packets), 3U);
    EXPECT_EQ(counter(worker_counter::dropped_tx_full), 5U);
}

TEST_F(worker_test, port_stats_move_and_are_exported) {
    auto w = make_worker();
    for (int i = 0; i < 3; ++i) {
        ring.inject(packet::build_icmp_echo_request(flow_to_us(ring), 1, static_cast<std::uint16_t>(i), 8));
    }
    ring.inject(bytes(20, 0));
    EXPECT_EQ(w.poll_all(), 4U);
    EXPECT_EQ(ring.drain().size(), 3U);

    rte_eth_stats stats{};
    ASSERT_EQ(rte_eth_stats_get(ring.port().id(), &stats), 0);
    EXPECT_EQ(stats.ipackets, 4U);
    EXPECT_EQ(stats.opackets, 3U);

    const port_stats_collector collector({{ring.port().id(), "media0"}});
    const auto families = collector.Collect();
    const auto find = [&](const std::string& name) {
        const auto it = std::find_if(families.begin(), families.end(),
                                     [&](const prometheus::MetricFamily& f) { return f.name == name; });
        return it == families.end() ? -1.0 : it->metric.at(0).counter.value;
    };
    EXPECT_EQ(find("tandem_port_rx_packets_total"), 4.0);
    EXPECT_EQ(find("tandem_port_tx_packets_total"), 3.0);
    EXPECT_EQ(find("tandem_port_rx_nombuf_total"), 0.0);

    const auto text = metrics::render_text(*metrics::make_worker_collector(
        std::make_shared<metrics::worker_counters>(worker_counter_specs, 1), "lcore", {"1"}));
    EXPECT_NE(text.find("tandem_worker_dropped_malformed_total{lcore=\"1\"} 0"), std::string::npos) << text;
}

TEST_F(worker_test, detached_collector_reports_nothing) {
    port_stats_collector collector({{ring.port().id(), "media0"}});
    EXPECT_FALSE(collector.Collect().empty());
    collector.detach();
    EXPECT_TRUE(collector.Collect().empty());
}

// The real loop on a worker lcore: answers while running, sleeps when idle
// (adaptive polling), returns when quit is set.
TEST_F(worker_test, runs_on_a_worker_lcore_until_quit) {
    const unsigned lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
    if (lcore >= RTE_MAX_LCORE) {
        GTEST_SKIP() << "needs a second lcore";
    }
    auto w = make_worker(polling_mode::adaptive);
    ASSERT_EQ(rte_eal_remote_launch(worker::launch, &w, lcore), 0);
    ring.inject(packet::build_arp_request(peer_mac, peer_ip, our_ip));

    const auto wait_until = [](auto predicate) {
        for (int i = 0; i < 10000 && !predicate(); ++i) {  // bounded: at most ~10 s
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return predicate();
    };
    EXPECT_TRUE(wait_until([&] { return ring.pending_tx() == 1; }));
    EXPECT_TRUE(wait_until([&] { return counter(worker_counter::idle_sleeps) > 0; }));
    quit.store(true);
    EXPECT_EQ(rte_eal_wait_lcore(lcore), 0);
    EXPECT_EQ(counter(worker_counter::arp_replies), 1U);
}

}  // namespace
}  // namespace tandem::dataplane::io
