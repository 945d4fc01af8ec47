// relay_gen: the DPDK traffic generator of `tandem bench relay`.
//
//   relay_gen EAL-ARGS -- (--calls FILE | --synthetic N) [search options]
//
// Runs on one lcore and one port (a net_memif client facing the device
// under test). For every call it sends G.711 RTP on both legs (A toward the
// relay's port for A, B toward the relay's port for B) round robin across
// legs at a paced total rate, receives what comes back, and matches each
// packet by the probe in its payload: loss per step, latency from the TSC
// stamped at transmission, and (with --calls) whether the relay delivered
// it to the other leg's address and port. It answers ARP for the legs'
// addresses and resolves the relay's MAC with ARP before the first step.
// --synthetic N makes N calls with made-up addresses for a device that
// loops frames back unchanged (testpmd io forwarding). Output: one JSON line
// per step and a summary line (tools/bench/bench_common.hpp).

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tools/bench/bench_common.hpp"

namespace tandem::bench {
namespace {

std::atomic<bool> quit{false};

void on_signal(int) {
    quit.store(true);
}

constexpr std::size_t header_bytes = sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr);
constexpr std::size_t frame_bytes = header_bytes + rtp_packet_bytes;
constexpr std::uint16_t max_burst = 64;

struct options {
    std::string calls_file;
    std::uint32_t synthetic_calls = 0;
    std::uint32_t duration_ms = 3000;
    std::uint32_t drain_ms = 300;
    std::uint32_t settle_quiet_ms = 200;
    std::uint32_t settle_max_ms = 10000;
    std::uint32_t link_timeout_s = 20;
    std::uint32_t arp_timeout_s = 10;
    std::uint16_t burst = 32;
    std::uint32_t mbufs = 65535;
    bool check_routing = true;
    search_options search;
};

class generator {
  public:
    generator(options settings, std::vector<call_legs> calls, std::uint16_t port)
        : settings_(std::move(settings)), calls_(std::move(calls)), port_(port), tsc_hz_(rte_get_tsc_hz()) {}

    status start() {
        pool_ = rte_pktmbuf_pool_create("relay_gen", settings_.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                        static_cast<int>(rte_socket_id()));
        if (pool_ == nullptr) {
            return make_error("cannot create the mbuf pool");
        }
        rte_eth_conf conf{};
        if (rte_eth_dev_configure(port_, 1, 1, &conf) != 0) {
            return make_error("cannot configure port " + std::to_string(port_));
        }
        std::uint16_t rx_descriptors = 1024;
        std::uint16_t tx_descriptors = 1024;
        rte_eth_dev_adjust_nb_rx_tx_desc(port_, &rx_descriptors, &tx_descriptors);
        const int socket = rte_eth_dev_socket_id(port_);
        if (rte_eth_rx_queue_setup(port_, 0, rx_descriptors, socket, nullptr, pool_) != 0 ||
            rte_eth_tx_queue_setup(port_, 0, tx_descriptors, socket, nullptr) != 0) {
            return make_error("cannot set up the queues");
        }
        if (rte_eth_dev_start(port_) != 0) {
            return make_error("cannot start port " + std::to_string(port_));
        }
        rte_eth_macaddr_get(port_, &own_mac_);
        // A memif client connects once, when the port starts; a server that
        // was not listening yet is retried by restarting the port.
        const std::uint64_t deadline = rte_rdtsc() + settings_.link_timeout_s * tsc_hz_;
        std::uint64_t next_restart = rte_rdtsc() + 2 * tsc_hz_;
        rte_eth_link link{};
        while (!quit.load() && rte_rdtsc() < deadline) {
            rte_eth_link_get_nowait(port_, &link);
            if (link.link_status == RTE_ETH_LINK_UP) {
                break;
            }
            if (rte_rdtsc() >= next_restart) {
                (void)rte_eth_dev_stop(port_);
                if (rte_eth_dev_start(port_) != 0) {
                    return make_error("cannot restart port " + std::to_string(port_));
                }
                next_restart = rte_rdtsc() + 2 * tsc_hz_;
            }
            rte_delay_us_sleep(10'000);
        }
        if (link.link_status != RTE_ETH_LINK_UP) {
            return make_error("the link did not come up within " + std::to_string(settings_.link_timeout_s) +
                              " s (is the device under test listening on the memif socket?)");
        }
        for (const auto& call : calls_) {
            for (std::uint32_t address : {call.a_address, call.b_address}) {
                if (std::find(own_addresses_.begin(), own_addresses_.end(), address) ==
                    own_addresses_.end()) {
                    own_addresses_.push_back(address);
                }
            }
        }
        return {};
    }

    // The relay's MAC: ARP requests from every leg address (which also
    // teaches the relay where the legs are) until the relay answers.
    status resolve_relay() {
        if (!settings_.check_routing) {
            relay_mac_ = rte_ether_addr{{0x02, 0, 0, 0, 0, 0x02}};
            return {};
        }
        const std::uint32_t relay = calls_.front().relay_address;
        const std::uint64_t deadline = rte_rdtsc() + settings_.arp_timeout_s * tsc_hz_;
        std::uint64_t next_request = 0;
        while (!quit.load() && !relay_mac_known_ && rte_rdtsc() < deadline) {
            if (rte_rdtsc() >= next_request) {
                for (std::uint32_t address : own_addresses_) {
                    send_arp(RTE_ARP_OP_REQUEST, address, relay, nullptr);
                }
                next_request = rte_rdtsc() + tsc_hz_ / 10;
            }
            poll_rx(0);
        }
        if (!relay_mac_known_) {
            return make_error("the relay at " + format_ipv4(relay) + " did not answer ARP within " +
                              std::to_string(settings_.arp_timeout_s) + " s");
        }
        return {};
    }

    void build_templates() {
        const std::size_t legs = calls_.size() * 2;
        templates_.assign(legs * header_bytes, 0);
        sequence_.assign(legs, 0);
        timestamp_.assign(legs, 0);
        for (std::size_t leg = 0; leg < legs; ++leg) {
            const call_legs& call = calls_[leg / 2];
            const bool from_a = (leg % 2) == 0;
            std::uint8_t* at = &templates_[leg * header_bytes];
            auto* ethernet = reinterpret_cast<rte_ether_hdr*>(at);
            rte_ether_addr_copy(&relay_mac_, &ethernet->dst_addr);
            rte_ether_addr_copy(&own_mac_, &ethernet->src_addr);
            ethernet->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
            auto* ip = reinterpret_cast<rte_ipv4_hdr*>(ethernet + 1);
            ip->version_ihl = RTE_IPV4_VHL_DEF;
            ip->total_length =
                rte_cpu_to_be_16(sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr) + rtp_packet_bytes);
            ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
            ip->time_to_live = 64;
            ip->next_proto_id = IPPROTO_UDP;
            ip->src_addr = from_a ? call.a_address : call.b_address;
            ip->dst_addr = call.relay_address;
            ip->hdr_checksum = rte_ipv4_cksum(ip);
            auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
            udp->src_port = rte_cpu_to_be_16(from_a ? call.a_port : call.b_port);
            udp->dst_port = rte_cpu_to_be_16(from_a ? call.relay_port_for_a : call.relay_port_for_b);
            udp->dgram_len = rte_cpu_to_be_16(sizeof(rte_udp_hdr) + rtp_packet_bytes);
            sequence_[leg] = static_cast<std::uint16_t>(leg * 7919);
            timestamp_[leg] = static_cast<std::uint32_t>(leg) * 104729U;
        }
    }

    // Sends at rate_pps for duration_ms (or, for the warm-up, until
    // `packets` are out), then keeps receiving for drain_ms.
    step_result run_step(double rate_pps, std::uint32_t step, std::uint64_t packets = 0) {
        step_ = step;
        received_ = 0;
        misrouted_ = 0;
        histogram_.clear();
        const std::uint64_t start = rte_rdtsc();
        const std::uint64_t send_until = start + settings_.duration_ms * tsc_hz_ / 1000;
        const double packets_per_tick = rate_pps / static_cast<double>(tsc_hz_);
        std::uint64_t sent = 0;
        std::uint64_t now = start;
        while (!quit.load() && (packets != 0 ? sent < packets : now < send_until)) {
            now = rte_rdtsc();
            const auto due = static_cast<std::uint64_t>(static_cast<double>(now - start) * packets_per_tick);
            if (due > sent) {
                std::uint64_t count = std::min<std::uint64_t>(due - sent, settings_.burst);
                if (packets != 0) {
                    count = std::min(count, packets - sent);
                }
                sent += send_burst(static_cast<std::uint16_t>(count), now);
            }
            poll_rx(now);
        }
        const std::uint64_t sent_end = rte_rdtsc();
        const std::uint64_t drain_until = sent_end + settings_.drain_ms * tsc_hz_ / 1000;
        while (!quit.load() && rte_rdtsc() < drain_until) {
            poll_rx(0);
        }
        const std::uint64_t step_received = received_;
        const std::uint64_t step_misrouted = misrouted_;
        step_ = 0;
        // Settle: an overloaded relay may still hold a backlog; the next
        // step starts once nothing has arrived for settle_quiet_ms (these
        // late packets already count as lost).
        const std::uint64_t settle_until = rte_rdtsc() + settings_.settle_max_ms * tsc_hz_ / 1000;
        std::uint64_t quiet_since = rte_rdtsc();
        while (!quit.load() && rte_rdtsc() < settle_until &&
               rte_rdtsc() - quiet_since < settings_.settle_quiet_ms * tsc_hz_ / 1000) {
            const std::uint64_t before = stale_ + received_ + misrouted_;
            poll_rx(0);
            if (stale_ + received_ + misrouted_ != before) {
                quiet_since = rte_rdtsc();
            }
        }
        step_result result;
        result.step = step;
        result.offered_pps = rate_pps;
        result.sent = sent;
        result.received = step_received;
        result.misrouted = step_misrouted;
        const double seconds = static_cast<double>(sent_end - start) / static_cast<double>(tsc_hz_);
        result.achieved_pps = seconds > 0 ? static_cast<double>(sent) / seconds : 0;
        result.p50_ns = histogram_.percentile_ns(0.50);
        result.p99_ns = histogram_.percentile_ns(0.99);
        return result;
    }

    [[nodiscard]] std::uint64_t legs() const { return calls_.size() * 2; }

    std::string totals_json() const {
        char text[256];
        std::snprintf(
            text, sizeof(text),
            "\"calls\": %zu, \"tx_rejected\": %llu, \"stale\": %llu, \"foreign\": %llu, \"tsc_hz\": %llu",
            calls_.size(), static_cast<unsigned long long>(tx_rejected_),
            static_cast<unsigned long long>(stale_), static_cast<unsigned long long>(foreign_),
            static_cast<unsigned long long>(tsc_hz_));
        return text;
    }

  private:
    // Returns how many packets count as offered: all of them, since a
    // device that does not drain its ring loses them as surely as a NIC
    // that misses them.
    std::uint16_t send_burst(std::uint16_t count, std::uint64_t now) {
        std::array<rte_mbuf*, max_burst> mbufs{};
        count = std::min<std::uint16_t>(count, max_burst);
        if (rte_pktmbuf_alloc_bulk(pool_, mbufs.data(), count) != 0) {
            return 0;  // pool empty: nothing offered, the pacing catches up later
        }
        const std::size_t legs = calls_.size() * 2;
        for (std::uint16_t i = 0; i < count; ++i) {
            rte_mbuf* mbuf = mbufs[i];
            auto* data = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(mbuf, frame_bytes));
            const std::size_t leg = next_leg_;
            next_leg_ = next_leg_ + 1 == legs ? 0 : next_leg_ + 1;
            std::memcpy(data, &templates_[leg * header_bytes], header_bytes);
            probe carried;
            carried.step = step_;
            carried.sent_clock = now;
            carried.call = static_cast<std::uint32_t>(leg / 2);
            carried.direction = static_cast<std::uint32_t>(leg % 2);
            write_rtp_packet(std::span<std::uint8_t>(data + header_bytes, rtp_packet_bytes), sequence_[leg]++,
                             timestamp_[leg], static_cast<std::uint32_t>(leg + 1), carried);
            timestamp_[leg] += 160;
            auto* ip = reinterpret_cast<rte_ipv4_hdr*>(data + sizeof(rte_ether_hdr));
            auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
            udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
        }
        const std::uint16_t accepted = rte_eth_tx_burst(port_, 0, mbufs.data(), count);
        if (accepted < count) {
            tx_rejected_ += count - accepted;
            rte_pktmbuf_free_bulk(&mbufs[accepted], count - accepted);
        }
        return count;
    }

    void poll_rx(std::uint64_t now) {
        std::array<rte_mbuf*, max_burst> mbufs{};
        const std::uint16_t count = rte_eth_rx_burst(port_, 0, mbufs.data(), settings_.burst);
        if (count == 0) {
            return;
        }
        if (now == 0) {
            now = rte_rdtsc();
        }
        for (std::uint16_t i = 0; i < count; ++i) {
            handle_frame(mbufs[i], now);
        }
        rte_pktmbuf_free_bulk(mbufs.data(), count);
    }

    void handle_frame(const rte_mbuf* mbuf, std::uint64_t now) {
        const auto* data = rte_pktmbuf_mtod(mbuf, const std::uint8_t*);
        const std::size_t length = rte_pktmbuf_data_len(mbuf);
        if (length < sizeof(rte_ether_hdr)) {
            ++foreign_;
            return;
        }
        const auto* ethernet = reinterpret_cast<const rte_ether_hdr*>(data);
        const std::uint16_t type = rte_be_to_cpu_16(ethernet->ether_type);
        if (type == RTE_ETHER_TYPE_ARP) {
            handle_arp(data, length);
            return;
        }
        if (type != RTE_ETHER_TYPE_IPV4 || length < sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr)) {
            ++foreign_;
            return;
        }
        const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(ethernet + 1);
        const std::size_t ip_header = static_cast<std::size_t>(ip->version_ihl & 0x0f) * 4;
        const std::size_t udp_at = sizeof(rte_ether_hdr) + ip_header;
        if (ip->next_proto_id != IPPROTO_UDP || ip_header < sizeof(rte_ipv4_hdr) ||
            length < udp_at + sizeof(rte_udp_hdr)) {
            ++foreign_;
            return;
        }
        const auto* udp = reinterpret_cast<const rte_udp_hdr*>(data + udp_at);
        const std::size_t payload_at = udp_at + sizeof(rte_udp_hdr);
        const auto found = read_probe(std::span<const std::uint8_t>(data + payload_at, length - payload_at));
        if (!found) {
            ++foreign_;
            return;
        }
        if (step_ == 0 || found->step != step_) {
            ++stale_;
            return;
        }
        if (settings_.check_routing) {
            if (found->call >= calls_.size()) {
                ++misrouted_;
                return;
            }
            const call_legs& call = calls_[found->call];
            const bool to_b = found->direction == 0;
            if (ip->dst_addr != (to_b ? call.b_address : call.a_address) ||
                rte_be_to_cpu_16(udp->dst_port) != (to_b ? call.b_port : call.a_port)) {
                ++misrouted_;
                return;
            }
        }
        ++received_;
        const std::uint64_t ticks = now > found->sent_clock ? now - found->sent_clock : 0;
        histogram_.add(ticks * 1'000'000'000ULL / tsc_hz_);
    }

    void handle_arp(const std::uint8_t* data, std::size_t length) {
        if (length < sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr)) {
            return;
        }
        const auto* arp = reinterpret_cast<const rte_arp_hdr*>(data + sizeof(rte_ether_hdr));
        if (rte_be_to_cpu_16(arp->arp_hardware) != RTE_ARP_HRD_ETHER ||
            rte_be_to_cpu_16(arp->arp_protocol) != RTE_ETHER_TYPE_IPV4) {
            return;
        }
        const std::uint32_t sender = arp->arp_data.arp_sip;
        if (!calls_.empty() && sender == calls_.front().relay_address) {
            relay_mac_ = arp->arp_data.arp_sha;
            relay_mac_known_ = true;
        }
        if (rte_be_to_cpu_16(arp->arp_opcode) == RTE_ARP_OP_REQUEST &&
            std::find(own_addresses_.begin(), own_addresses_.end(), arp->arp_data.arp_tip) !=
                own_addresses_.end()) {
            const rte_ether_addr requester = arp->arp_data.arp_sha;
            send_arp(RTE_ARP_OP_REPLY, arp->arp_data.arp_tip, sender, &requester);
        }
    }

    void send_arp(std::uint16_t opcode, std::uint32_t sender, std::uint32_t target,
                  const rte_ether_addr* target_mac) {
        rte_mbuf* mbuf = rte_pktmbuf_alloc(pool_);
        if (mbuf == nullptr) {
            return;
        }
        auto* data = reinterpret_cast<std::uint8_t*>(
            rte_pktmbuf_append(mbuf, sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr)));
        auto* ethernet = reinterpret_cast<rte_ether_hdr*>(data);
        const rte_ether_addr broadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
        rte_ether_addr_copy(target_mac != nullptr ? target_mac : &broadcast, &ethernet->dst_addr);
        rte_ether_addr_copy(&own_mac_, &ethernet->src_addr);
        ethernet->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
        auto* arp = reinterpret_cast<rte_arp_hdr*>(ethernet + 1);
        arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
        arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
        arp->arp_hlen = RTE_ETHER_ADDR_LEN;
        arp->arp_plen = 4;
        arp->arp_opcode = rte_cpu_to_be_16(opcode);
        rte_ether_addr_copy(&own_mac_, &arp->arp_data.arp_sha);
        arp->arp_data.arp_sip = sender;
        const rte_ether_addr zero{};
        rte_ether_addr_copy(target_mac != nullptr ? target_mac : &zero, &arp->arp_data.arp_tha);
        arp->arp_data.arp_tip = target;
        if (rte_eth_tx_burst(port_, 0, &mbuf, 1) != 1) {
            rte_pktmbuf_free(mbuf);
        }
    }

    options settings_;
    std::vector<call_legs> calls_;
    std::uint16_t port_;
    std::uint64_t tsc_hz_;
    rte_mempool* pool_ = nullptr;
    rte_ether_addr own_mac_{};
    rte_ether_addr relay_mac_{};
    bool relay_mac_known_ = false;
    std::vector<std::uint32_t> own_addresses_;
    std::vector<std::uint8_t> templates_;  // header_bytes per leg: Ethernet, IPv4, UDP
    std::vector<std::uint16_t> sequence_;
    std::vector<std::uint32_t> timestamp_;
    std::size_t next_leg_ = 0;
    std::uint32_t step_ = 0;  // 0 between steps and during the warm-up
    std::uint64_t received_ = 0;
    std::uint64_t misrouted_ = 0;
    std::uint64_t tx_rejected_ = 0;
    std::uint64_t stale_ = 0;
    std::uint64_t foreign_ = 0;
    latency_histogram histogram_;
};

std::vector<call_legs> synthetic_calls(std::uint32_t count) {
    std::vector<call_legs> calls;
    calls.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        const auto port = static_cast<std::uint16_t>(10000 + (i * 2) % 50000);
        calls.push_back(call_legs{htonl(0x0a000001), port, htonl(0x0a000003), port, htonl(0x0a000002),
                                  static_cast<std::uint16_t>(20000 + (i * 2) % 40000),
                                  static_cast<std::uint16_t>(20002 + (i * 2) % 40000)});
    }
    return calls;
}

int run(int argc, char** argv) {
    const int consumed = rte_eal_init(argc, argv);
    if (consumed < 0) {
        std::fprintf(stderr, "relay_gen: rte_eal_init failed\n");
        return 2;
    }
    argc -= consumed;
    argv += consumed;
    argv[0] = const_cast<char*>("relay_gen");

    options settings;
    CLI::App app{"DPDK RTP generator for tandem bench relay"};
    app.add_option("--calls", settings.calls_file, "calls file written by ng_calls");
    app.add_option("--synthetic", settings.synthetic_calls,
                   "N made-up calls for a loop-back device (testpmd)");
    app.add_option("--duration-ms", settings.duration_ms, "sending time per step");
    app.add_option("--drain-ms", settings.drain_ms, "receiving time after each step");
    app.add_option("--settle-max-ms", settings.settle_max_ms, "bound on waiting for a backlog to clear");
    app.add_option("--burst", settings.burst, "packets per tx/rx burst")->check(CLI::Range(1, 64));
    app.add_option("--mbufs", settings.mbufs, "mbuf pool size");
    app.add_option("--start-pps", settings.search.start_pps, "first step's total rate");
    app.add_option("--max-pps", settings.search.max_pps, "highest rate tried");
    app.add_option("--precision", settings.search.precision, "bisect until (fail - pass) / pass is below");
    app.add_option("--loss-max", settings.search.loss_max, "highest loss a step may have to pass");
    app.add_option("--max-steps", settings.search.max_steps, "bound on search steps");
    app.add_option("--retries", settings.search.retries, "repeats of a failed rate");
    app.add_option("--latency-load", settings.search.latency_load,
                   "extra step at this share of the best rate");
    app.add_option("--link-timeout-s", settings.link_timeout_s, "wait this long for the memif link");
    CLI11_PARSE(app, argc, argv);

    std::vector<call_legs> calls;
    if (!settings.calls_file.empty()) {
        auto loaded = read_calls_file(settings.calls_file);
        if (!loaded) {
            std::fprintf(stderr, "relay_gen: %s\n", loaded.message().c_str());
            return 2;
        }
        calls = std::move(*loaded);
    } else if (settings.synthetic_calls > 0) {
        calls = synthetic_calls(settings.synthetic_calls);
        settings.check_routing = false;
    } else {
        std::fprintf(stderr, "relay_gen: give --calls FILE or --synthetic N\n");
        return 2;
    }
    if (rte_eth_dev_count_avail() == 0) {
        std::fprintf(stderr, "relay_gen: no DPDK port (pass --vdev net_memif0,role=client,...)\n");
        return 2;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    int exit_code = 0;
    {
        generator traffic(settings, std::move(calls), 0);
        status ready = traffic.start();
        if (ready) {
            ready = traffic.resolve_relay();
        }
        if (!ready) {
            std::fprintf(stderr, "relay_gen: %s\n", ready.message().c_str());
            exit_code = 1;
        } else {
            traffic.build_templates();
            // Warm-up: three packets per leg at a gentle rate lets the relay
            // learn every peer and resolve every next hop before step 1.
            const double warm_rate = std::min(settings.search.start_pps, 200'000.0);
            (void)traffic.run_step(warm_rate, 0, traffic.legs() * 3);
            const search_summary summary = search_rate(settings.search, [&](double rate, std::uint32_t step) {
                return traffic.run_step(rate, step);
            });
            print_summary_json(summary, traffic.totals_json());
            exit_code = summary.best ? 0 : 1;
        }
        rte_eth_dev_stop(0);
        rte_eth_dev_close(0);
    }
    rte_eal_cleanup();
    return exit_code;
}

}  // namespace
}  // namespace tandem::bench

int main(int argc, char** argv) {
    return tandem::bench::run(argc, argv);
}
