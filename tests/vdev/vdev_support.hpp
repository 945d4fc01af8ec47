#pragma once
// What every vdev test program shares: EAL and one mbuf pool for the whole
// program (EAL starts once per process; the pool has no per-lcore cache, so
// its free count is exact and a leaked mbuf shows), and a net_ring port
// whose rings the test feeds and drains.

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dataplane/io/eal.hpp"
#include "dataplane/io/port.hpp"
#include "dataplane/io/worker.hpp"
#include "gateway/config/config.hpp"

namespace tandem::dataplane::io::test {

// Two lcores, no hugepages, no shared files; ports are built by the tests
// (from rings, or hot-plugged).
inline config::dataplane_config vdev_dataplane_config(const std::string& file_prefix) {
    config::dataplane_config dataplane;
    dataplane.eal.lcores = "0-1";
    dataplane.eal.no_huge = true;
    dataplane.eal.memory_mb = 256;
    dataplane.eal.in_memory = true;
    dataplane.eal.file_prefix = file_prefix;
    dataplane.ports.clear();
    return dataplane;
}

class eal_environment : public ::testing::Environment {
  public:
    eal_environment(std::string program, std::string file_prefix)
        : program_(std::move(program)), file_prefix_(std::move(file_prefix)) {}

    void SetUp() override {
        auto started =
            eal_runtime::start(build_eal_arguments(vdev_dataplane_config(file_prefix_), program_, 5));
        ASSERT_TRUE(started) << started.message();
        eal_ = std::move(started.value());
        pool_ = rte_pktmbuf_pool_create("vdev_test_pool", 2047, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                        static_cast<int>(rte_socket_id()));
        ASSERT_NE(pool_, nullptr);
    }
    void TearDown() override {
        rte_mempool_free(pool_);
        eal_.reset();
    }
    static rte_mempool* pool() { return pool_; }

  private:
    std::string program_;
    std::string file_prefix_;
    std::unique_ptr<eal_runtime> eal_;
    static inline rte_mempool* pool_ = nullptr;
};

// A net_ring port whose rings the test holds.
class ring_port {
  public:
    // A port of address 192.0.2.2/24 (and 2001:db8::2/64 when asked) on
    // a net_ring device built from two rings the test holds.
    explicit ring_port(unsigned tx_ring_size = 1024, bool with_ipv6 = false) {
        static std::atomic<int> next{0};
        const std::string name = "tandem_t" + std::to_string(next++);
        rx_ = rte_ring_create((name + "_rx").c_str(), 1024, static_cast<int>(rte_socket_id()),
                              RING_F_SP_ENQ | RING_F_SC_DEQ);
        tx_ = rte_ring_create((name + "_tx").c_str(), tx_ring_size, static_cast<int>(rte_socket_id()),
                              RING_F_SP_ENQ | RING_F_SC_DEQ);
        EXPECT_NE(rx_, nullptr);
        EXPECT_NE(tx_, nullptr);
        const int id = rte_eth_from_rings(name.c_str(), &rx_, 1, &tx_, 1, rte_socket_id());
        EXPECT_GE(id, 0);
        // The driver names the ethdev itself ("net_ring_<name>").
        char ethdev[RTE_ETH_NAME_MAX_LEN] = {};
        EXPECT_EQ(rte_eth_dev_get_name_by_port(static_cast<std::uint16_t>(id), ethdev), 0);

        config::port_config settings;
        settings.name = "media0";
        settings.device = ethdev;
        settings.ipv4 = "192.0.2.2";
        settings.ipv4_prefix = 24;
        if (with_ipv6) {
            settings.ipv6 = "2001:db8::2";
            settings.ipv6_prefix = 64;
        }
        settings.rx_queues = 1;
        auto opened = ethernet_port::open(settings, 1, eal_environment::pool());
        EXPECT_TRUE(opened) << (opened ? "" : opened.message());
        if (opened) {
            port_ = std::move(opened.value());
        }
    }
    ~ring_port() {
        port_.reset();
        drain();
        rte_ring_free(rx_);
        rte_ring_free(tx_);
    }
    ring_port(const ring_port&) = delete;
    ring_port& operator=(const ring_port&) = delete;

    [[nodiscard]] bool ok() const { return port_ != nullptr; }
    ethernet_port& port() { return *port_; }
    worker_queue queue() const { return worker_queue{port_->id(), 0, port_->identity(), {}, false}; }
    [[nodiscard]] const packet::mac_address& mac() const { return port_->identity().mac; }

    void inject(const std::vector<std::uint8_t>& frame) {
        rte_mbuf* mbuf = rte_pktmbuf_alloc(eal_environment::pool());
        ASSERT_NE(mbuf, nullptr);
        if (!frame.empty()) {
            char* data = rte_pktmbuf_append(mbuf, static_cast<std::uint16_t>(frame.size()));
            ASSERT_NE(data, nullptr);
            std::memcpy(data, frame.data(), frame.size());
        }
        ASSERT_EQ(rte_ring_enqueue(rx_, mbuf), 0);
    }

    void inject_mbuf(rte_mbuf* mbuf) { ASSERT_EQ(rte_ring_enqueue(rx_, mbuf), 0); }

    // Everything the port sent, copied out; the mbufs go back to the pool.
    std::vector<std::vector<std::uint8_t>> drain() {
        std::vector<std::vector<std::uint8_t>> sent;
        void* object = nullptr;
        while (rte_ring_dequeue(tx_, &object) == 0) {
            auto* mbuf = static_cast<rte_mbuf*>(object);
            const auto* data = rte_pktmbuf_mtod(mbuf, const std::uint8_t*);
            sent.emplace_back(data, data + rte_pktmbuf_data_len(mbuf));
            rte_pktmbuf_free(mbuf);
        }
        return sent;
    }

    [[nodiscard]] unsigned pending_tx() const { return rte_ring_count(tx_); }

  private:
    rte_ring* rx_ = nullptr;
    rte_ring* tx_ = nullptr;
    std::unique_ptr<ethernet_port> port_;
};

}  // namespace tandem::dataplane::io::test
