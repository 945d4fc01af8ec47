#pragma once
// DPDK's Environment Abstraction Layer, started from the appliance config.
//
// build_eal_arguments() is pure: it turns `dataplane.eal` and the ports into
// the argv EAL expects (tests check it without starting EAL).
// eal_runtime::start() calls rte_eal_init once per process; destroying the
// runtime calls rte_eal_cleanup, so it must outlive every port, mempool and
// lcore that uses DPDK.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.hpp"
#include "gateway/core/result.hpp"

namespace tandem::dataplane::io {

// The DPDK log level (1 emergency .. 8 debug) that matches a Tandem level
// name ("info" -> 6, notice, so EAL prints its warnings and notices only).
int eal_log_level(std::string_view tandem_level);

// argv for rte_eal_init, program name first. Virtual devices are the ports
// whose device starts with "net_"; extra_args come last so they win.
std::vector<std::string> build_eal_arguments(const config::dataplane_config& dataplane,
                                             std::string_view program_name, int log_level);

// The ethdev name of a port's device: "net_tap0,iface=x" -> "net_tap0".
std::string device_name(std::string_view device);

class eal_runtime {
  public:
    static result<std::unique_ptr<eal_runtime>> start(const std::vector<std::string>& arguments);
    ~eal_runtime();
    eal_runtime(const eal_runtime&) = delete;
    eal_runtime& operator=(const eal_runtime&) = delete;

  private:
    eal_runtime() = default;
};

}  // namespace tandem::dataplane::io
