#pragma once
// The data plane's control thread: ng requests in, session changes out to
// the workers. Wraps the session manager (dataplane/media) with what the
// process needs around it: the requester's address as received-from, a
// periodic tick (worker events, timeouts), and Prometheus metrics read from
// a snapshot that the control thread publishes, so a scrape never touches
// session state.
//
// handle() and tick() run on the ng server's thread only (see
// ng::server_options::on_tick); the collector runs on the scrape thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "dataplane/media/session_manager.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/metrics/worker_counters.hpp"
#include "gateway/ng/ng_server.hpp"

namespace tandem::dataplane::control {

struct session_gauges {
    std::atomic<std::uint64_t> sessions{0};
    std::atomic<std::uint64_t> sessions_created{0};
    std::atomic<std::uint64_t> sessions_deleted{0};
    std::atomic<std::uint64_t> timed_out{0};
    std::atomic<std::uint64_t> silent_timed_out{0};
    std::atomic<std::uint64_t> final_timed_out{0};
    std::atomic<std::uint64_t> rejected_load{0};
    std::atomic<std::uint64_t> rejected_drain{0};
    std::atomic<std::uint64_t> rejected_ports{0};
    std::atomic<std::uint64_t> request_errors{0};
    std::atomic<std::uint64_t> commands_dropped{0};
    std::atomic<std::uint64_t> ports_free{0};
    std::atomic<std::uint64_t> ports_total{0};
    std::atomic<bool> draining{false};
};

class ng_control {
  public:
    ng_control(media::media_settings settings, media::relay_workers& workers, const clock& time);

    ng::value handle(const ng::value& request, const ng::request_context& context);
    void tick();

    // Bound to this object; valid while it lives.
    [[nodiscard]] ng::request_handler handler();
    [[nodiscard]] std::shared_ptr<prometheus::Collectable> collector() const;
    // Histograms of ended streams' loss, jitter and RTT.
    [[nodiscard]] std::shared_ptr<prometheus::Collectable> quality_collector() const;

  private:
    void publish_gauges();
    void record(const media::stream_quality& quality);

    // Quality of ended streams: histograms in a registry of our own, exposed
    // through collector() (prometheus-cpp metrics are safe across threads).
    std::shared_ptr<prometheus::Registry> quality_;
    prometheus::Histogram* loss_ratio_ = nullptr;
    prometheus::Histogram* jitter_seconds_ = nullptr;
    prometheus::Histogram* rtt_seconds_ = nullptr;
    prometheus::Counter* packets_lost_ = nullptr;
    media::session_manager sessions_;
    std::shared_ptr<session_gauges> gauges_;
};

// rtpengine's totals over the workers' relay counters: tandem_packets_total
// (relayed) and tandem_errors_total (every drop reason summed), per lcore.
std::shared_ptr<prometheus::Collectable> make_relay_totals_collector(
    std::shared_ptr<const metrics::worker_counters> relay_counters, std::vector<std::string> lcore_labels);

// The settings the session manager takes, from the appliance config.
media::media_settings media_settings_from(const config::dataplane_config& dataplane);

}  // namespace tandem::dataplane::control
