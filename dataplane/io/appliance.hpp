#pragma once
// The data plane's lifecycle, start to finish: EAL, mbuf pool, ports,
// per-lcore counters and their Prometheus exporters, the ng control server
// on its own thread, one worker per worker lcore (or the main lcore when it
// is the only one), then a clean shutdown on SIGINT/SIGTERM: workers
// stopped and joined, control stopped, ports stopped and closed,
// rte_eal_cleanup. The signal handler only sets an atomic flag.
//
// Startup failures (EAL, memory, a port, a taken control port) are logged
// and run() returns 1; a clean shutdown returns 0.

#include <functional>

#include "gateway/config/config.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/log/log.hpp"
#include "gateway/metrics/metrics.hpp"
#include "gateway/ng/ng_server.hpp"

namespace tandem::dataplane::io {

struct appliance_services {
    const log::log_factory& logs;
    metrics::metrics_service* metrics;  // null when metrics are disabled
    const tandem::clock& time;
};

class appliance {
  public:
    appliance(const config::appliance_config& settings, appliance_services services);
    // Blocks until SIGINT/SIGTERM (or request_stop()); returns the exit code.
    int run();
    // What the signal handler does; safe from any thread or signal context.
    static void request_stop();

  private:
    const config::appliance_config& settings_;
    appliance_services services_;
};

}  // namespace tandem::dataplane::io
