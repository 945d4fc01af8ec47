#include "dataplane/io/port_metrics.hpp"

#include <rte_ethdev.h>

#include <prometheus/client_metric.h>
#include <prometheus/metric_type.h>

namespace tandem::dataplane::io {

namespace {

struct stat_spec {
    const char* name;
    const char* help;
    std::uint64_t rte_eth_stats::*field;
};

constexpr stat_spec port_stat_specs[] = {
    {"tandem_port_rx_packets_total", "Frames received by the port", &rte_eth_stats::ipackets},
    {"tandem_port_tx_packets_total", "Frames sent by the port", &rte_eth_stats::opackets},
    {"tandem_port_rx_bytes_total", "Bytes received by the port", &rte_eth_stats::ibytes},
    {"tandem_port_tx_bytes_total", "Bytes sent by the port", &rte_eth_stats::obytes},
    {"tandem_port_rx_missed_total", "Frames the port dropped because the rx queue was full",
     &rte_eth_stats::imissed},
    {"tandem_port_rx_errors_total", "Erroneous frames received", &rte_eth_stats::ierrors},
    {"tandem_port_tx_errors_total", "Frames the port failed to send", &rte_eth_stats::oerrors},
    {"tandem_port_rx_nombuf_total", "Frames dropped because the mbuf pool was empty",
     &rte_eth_stats::rx_nombuf},
};

}  // namespace

port_stats_collector::port_stats_collector(std::vector<port_entry> ports) : ports_(std::move(ports)) {}

std::vector<prometheus::MetricFamily> port_stats_collector::Collect() const {
    const std::lock_guard lock(mutex_);
    if (!attached_) {
        return {};
    }
    std::vector<rte_eth_stats> stats(ports_.size());
    std::vector<bool> link_up(ports_.size());
    for (std::size_t i = 0; i < ports_.size(); ++i) {
        if (rte_eth_stats_get(ports_[i].port_id, &stats[i]) != 0) {
            stats[i] = rte_eth_stats{};
        }
        rte_eth_link link{};
        link_up[i] =
            rte_eth_link_get_nowait(ports_[i].port_id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
    }

    std::vector<prometheus::MetricFamily> families;
    for (const auto& spec : port_stat_specs) {
        prometheus::MetricFamily family{spec.name, spec.help, prometheus::MetricType::Counter, {}};
        for (std::size_t i = 0; i < ports_.size(); ++i) {
            prometheus::ClientMetric metric;
            metric.label = {{"port", ports_[i].name}};
            metric.counter.value = static_cast<double>(stats[i].*spec.field);
            family.metric.push_back(std::move(metric));
        }
        families.push_back(std::move(family));
    }
    prometheus::MetricFamily link{
        "tandem_port_link_up", "1 when the port's link is up", prometheus::MetricType::Gauge, {}};
    for (std::size_t i = 0; i < ports_.size(); ++i) {
        prometheus::ClientMetric metric;
        metric.label = {{"port", ports_[i].name}};
        metric.gauge.value = link_up[i] ? 1.0 : 0.0;
        link.metric.push_back(std::move(metric));
    }
    families.push_back(std::move(link));

    // Driver extended statistics (per-queue counters, drops by cause), as
    // one family with the driver's own names in a label: the set differs per
    // PMD and is bounded by it, never by traffic.
    prometheus::MetricFamily extended{"tandem_port_xstat",
                                      "DPDK extended port statistic (rte_eth_xstats), by driver name",
                                      prometheus::MetricType::Gauge,
                                      {}};
    for (const auto& port : ports_) {
        const int count = rte_eth_xstats_get_names(port.port_id, nullptr, 0);
        if (count <= 0) {
            continue;
        }
        std::vector<rte_eth_xstat_name> names(static_cast<std::size_t>(count));
        std::vector<rte_eth_xstat> values(static_cast<std::size_t>(count));
        if (rte_eth_xstats_get_names(port.port_id, names.data(), static_cast<unsigned>(count)) != count ||
            rte_eth_xstats_get(port.port_id, values.data(), static_cast<unsigned>(count)) != count) {
            continue;
        }
        for (const auto& value : values) {
            if (value.id >= names.size()) {
                continue;
            }
            prometheus::ClientMetric metric;
            metric.label = {{"port", port.name}, {"name", names[value.id].name}};
            metric.gauge.value = static_cast<double>(value.value);
            extended.metric.push_back(std::move(metric));
        }
    }
    families.push_back(std::move(extended));
    return families;
}

void port_stats_collector::detach() {
    const std::lock_guard lock(mutex_);
    attached_ = false;
}

}  // namespace tandem::dataplane::io
