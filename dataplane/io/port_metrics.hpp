#pragma once
// Port statistics (rte_eth_stats) exported to Prometheus, read at scrape
// time on the scraping thread: tandem_port_rx_packets_total{port="media0"}
// and friends, plus tandem_port_link_up. Reading ethdev statistics from a
// non-lcore thread is safe for the PMDs we use (they sum per-queue counters).
//
// detach() must be called before the ports are closed: a scrape that
// arrives afterwards returns no port families instead of touching a closed
// ethdev. The lock is shared with scrapes only, never with workers.

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace tandem::dataplane::io {

class port_stats_collector final : public prometheus::Collectable {
  public:
    struct port_entry {
        std::uint16_t port_id;
        std::string name;  // the label value
    };

    explicit port_stats_collector(std::vector<port_entry> ports);
    std::vector<prometheus::MetricFamily> Collect() const override;
    void detach();

  private:
    mutable std::mutex mutex_;
    std::vector<port_entry> ports_;
    bool attached_ = true;
};

}  // namespace tandem::dataplane::io
