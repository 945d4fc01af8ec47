#pragma once
// EAL and one mbuf pool for a whole vdev test program (EAL starts once per
// process). The pool has no per-lcore cache, so its free count is exact and
// a leaked mbuf (a relayed frame, an ARP request a worker built) shows.

#include <memory>
#include <string>
#include <utility>

#include <gtest/gtest.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/io/eal.hpp"
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

}  // namespace tandem::dataplane::io::test
