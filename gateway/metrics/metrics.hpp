#pragma once
// Prometheus exposition for both processes (prometheus-cpp pull exposer).
//
// Each process owns one `metrics_service`: a registry for ordinary metrics,
// the HTTP exposer on /metrics, and the standard process metrics every
// tandem process exports (tandem_build_info, tandem_uptime_seconds,
// tandem_process_resident_memory_bytes, tandem_process_open_fds,
// tandem_process_cpu_seconds_total). All names start with `tandem_`.

#include <memory>
#include <string>

#include <prometheus/collectable.h>
#include <prometheus/registry.h>

#include "gateway/config/config.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/core/result.hpp"

namespace tandem::metrics {

struct build_facts {
    std::string version;
    std::string git_revision;
};

build_facts this_build();

class metrics_service {
  public:
    // Starts listening now (a taken port fails at startup). An endpoint with
    // port 0 picks a free port; listen_port() tells which.
    static result<std::unique_ptr<metrics_service>> start(const config::endpoint& listen,
                                                          const std::string& process_name, const clock& time);
    ~metrics_service();
    metrics_service(const metrics_service&) = delete;
    metrics_service& operator=(const metrics_service&) = delete;

    [[nodiscard]] prometheus::Registry& registry() { return *registry_; }
    // Adds a collectable that computes its families at scrape time (per-lcore
    // counters summed on the scraping thread, never on a worker).
    void add(const std::shared_ptr<prometheus::Collectable>& collectable);
    [[nodiscard]] std::uint16_t listen_port() const;

  private:
    struct impl;
    metrics_service();
    std::shared_ptr<prometheus::Registry> registry_;
    std::unique_ptr<impl> impl_;
};

// The process metrics alone, for a registry of the caller's (used by tests).
std::shared_ptr<prometheus::Collectable> make_process_collector(const std::string& process_name,
                                                                const clock& time);

// Renders a registry as the text exposition format (tests, tandemctl).
std::string render_text(const prometheus::Collectable& collectable);

}  // namespace tandem::metrics
