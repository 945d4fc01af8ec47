#include "dataplane/control/ng_control.hpp"

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

#include "dataplane/media/relay_table.hpp"
#include "gateway/ng/ng_message.hpp"

namespace tandem::dataplane::control {

namespace {

// "192.0.2.1:5060" -> "192.0.2.1", "[2001:db8::1]:5060" -> "2001:db8::1".
std::string address_of(const std::string& peer) {
    if (!peer.empty() && peer.front() == '[') {
        const auto close = peer.find(']');
        return close == std::string::npos ? std::string() : peer.substr(1, close - 1);
    }
    const auto colon = peer.rfind(':');
    return colon == std::string::npos ? peer : peer.substr(0, colon);
}

class gauges_collector final : public prometheus::Collectable {
  public:
    explicit gauges_collector(std::shared_ptr<const session_gauges> gauges) : gauges_(std::move(gauges)) {}

    [[nodiscard]] std::vector<prometheus::MetricFamily> Collect() const override {
        std::vector<prometheus::MetricFamily> families;
        auto add = [&families](const char* name, const char* help, prometheus::MetricType type, double value,
                               std::vector<prometheus::ClientMetric::Label> labels = {}) {
            for (auto& family : families) {
                if (family.name == name) {
                    prometheus::ClientMetric metric;
                    metric.label = std::move(labels);
                    (type == prometheus::MetricType::Counter ? metric.counter.value : metric.gauge.value) =
                        value;
                    family.metric.push_back(std::move(metric));
                    return;
                }
            }
            prometheus::MetricFamily family;
            family.name = name;
            family.help = help;
            family.type = type;
            prometheus::ClientMetric metric;
            metric.label = std::move(labels);
            (type == prometheus::MetricType::Counter ? metric.counter.value : metric.gauge.value) = value;
            family.metric.push_back(std::move(metric));
            families.push_back(std::move(family));
        };
        const auto& g = *gauges_;
        auto get = [](const std::atomic<std::uint64_t>& value) {
            return static_cast<double>(value.load(std::memory_order_relaxed));
        };
        using type = prometheus::MetricType;
        add("tandem_sessions", "Media sessions (calls) anchored now", type::Gauge, get(g.sessions));
        add("tandem_sessions_total", "Media sessions created", type::Counter, get(g.sessions_created));
        add("tandem_sessions_ended_total", "Media sessions ended, by reason", type::Counter,
            get(g.sessions_deleted) - get(g.timed_out) - get(g.silent_timed_out) - get(g.final_timed_out),
            {{"reason", "deleted"}});
        add("tandem_sessions_ended_total", "", type::Counter, get(g.timed_out), {{"reason", "timeout"}});
        add("tandem_sessions_ended_total", "", type::Counter, get(g.silent_timed_out),
            {{"reason", "silent_timeout"}});
        add("tandem_sessions_ended_total", "", type::Counter, get(g.final_timed_out),
            {{"reason", "final_timeout"}});
        add("tandem_offers_rejected_total", "Offers for new sessions refused, by reason", type::Counter,
            get(g.rejected_load), {{"reason", "load_limit"}});
        add("tandem_offers_rejected_total", "", type::Counter, get(g.rejected_drain),
            {{"reason", "draining"}});
        add("tandem_offers_rejected_total", "", type::Counter, get(g.rejected_ports),
            {{"reason", "no_ports"}});
        add("tandem_ng_request_errors_total", "ng requests answered with result=error", type::Counter,
            get(g.request_errors));
        add("tandem_relay_commands_dropped_total", "Commands lost because a worker's ring was full",
            type::Counter, get(g.commands_dropped));
        add("tandem_ports_free", "Media ports free in the pool", type::Gauge, get(g.ports_free));
        add("tandem_ports_total", "Media ports in the pool", type::Gauge, get(g.ports_total));
        add("tandem_draining", "1 while the node refuses new sessions", type::Gauge,
            g.draining.load(std::memory_order_relaxed) ? 1.0 : 0.0);
        return families;
    }

  private:
    std::shared_ptr<const session_gauges> gauges_;
};

class relay_totals_collector final : public prometheus::Collectable {
  public:
    relay_totals_collector(std::shared_ptr<const metrics::worker_counters> counters,
                           std::vector<std::string> labels)
        : counters_(std::move(counters)), labels_(std::move(labels)) {}

    [[nodiscard]] std::vector<prometheus::MetricFamily> Collect() const override {
        prometheus::MetricFamily packets{"tandem_packets_total",
                                         "Media packets relayed (RTP and RTCP)",
                                         prometheus::MetricType::Counter,
                                         {}};
        prometheus::MetricFamily errors{"tandem_errors_total",
                                        "Media packets to a relay port that were dropped, all reasons",
                                        prometheus::MetricType::Counter,
                                        {}};
        const auto forwarded = static_cast<std::size_t>(media::relay_counter::forwarded);
        for (std::size_t worker = 0; worker < counters_->workers(); ++worker) {
            std::uint64_t dropped = 0;
            for (std::size_t counter = 0; counter < media::relay_counter_count; ++counter) {
                if (counter != forwarded) {
                    dropped += counters_->get(worker, counter);
                }
            }
            const std::string lcore = worker < labels_.size() ? labels_[worker] : std::to_string(worker);
            prometheus::ClientMetric relayed;
            relayed.label = {{"lcore", lcore}};
            relayed.counter.value = static_cast<double>(counters_->get(worker, forwarded));
            packets.metric.push_back(std::move(relayed));
            prometheus::ClientMetric failed;
            failed.label = {{"lcore", lcore}};
            failed.counter.value = static_cast<double>(dropped);
            errors.metric.push_back(std::move(failed));
        }
        return {std::move(packets), std::move(errors)};
    }

  private:
    std::shared_ptr<const metrics::worker_counters> counters_;
    std::vector<std::string> labels_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> make_relay_totals_collector(
    std::shared_ptr<const metrics::worker_counters> relay_counters, std::vector<std::string> lcore_labels) {
    return std::make_shared<relay_totals_collector>(std::move(relay_counters), std::move(lcore_labels));
}

media::media_settings media_settings_from(const config::dataplane_config& dataplane) {
    media::media_settings out;
    if (!dataplane.ports.empty()) {
        out.ipv4_address = dataplane.ports.front().ipv4;
        out.ipv6_address = dataplane.ports.front().ipv6;
    }
    const auto& media = dataplane.media;
    out.port_min = media.port_min;
    out.port_max = media.port_max;
    out.max_sessions = media.max_sessions;
    out.timeout_s = media.timeout_s;
    out.silent_timeout_s = media.silent_timeout_s;
    out.final_timeout_s = media.final_timeout_s;
    out.delete_delay_s = media.delete_delay_s;
    out.learning_window_ms = media.learning_window_ms;
    return out;
}

namespace {

media::media_settings observed(media::media_settings settings,
                               std::function<void(const media::stream_quality&)> observer) {
    settings.on_stream_ended = std::move(observer);
    return settings;
}

}  // namespace

ng_control::ng_control(media::media_settings settings, media::relay_workers& workers, const clock& time)
    : quality_(std::make_shared<prometheus::Registry>()),
      loss_ratio_(&prometheus::BuildHistogram()
                       .Name("tandem_stream_loss_ratio")
                       .Help("RTP loss of ended streams (lost / expected, RFC 3550 A.3)")
                       .Register(*quality_)
                       .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.001, 0.005, 0.01, 0.02,
                                                                        0.05, 0.1, 0.2, 0.5})),
      jitter_seconds_(&prometheus::BuildHistogram()
                           .Name("tandem_jitter_seconds")
                           .Help("Interarrival jitter of ended streams (RFC 3550 A.8) as the relay saw it")
                           .Register(*quality_)
                           .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.002, 0.005, 0.01, 0.02,
                                                                            0.03, 0.05, 0.1, 0.2})),
      rtt_seconds_(
          &prometheus::BuildHistogram()
               .Name("tandem_rtt_seconds")
               .Help("Round-trip time between the relay and the peer, from RTCP SR/RR, ended streams")
               .Register(*quality_)
               .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3,
                                                                0.5, 1.0})),
      packets_lost_(&prometheus::BuildCounter()
                         .Name("tandem_packets_lost_total")
                         .Help("RTP packets lost on the way to the relay, summed over ended streams")
                         .Register(*quality_)
                         .Add({})),
      sessions_(
          observed(std::move(settings), [this](const media::stream_quality& quality) { record(quality); }),
          workers, time),
      gauges_(std::make_shared<session_gauges>()) {
    publish_gauges();
}

void ng_control::record(const media::stream_quality& quality) {
    if (quality.packets == 0) {
        return;  // a stream that never carried media says nothing about quality
    }
    loss_ratio_->Observe(quality.loss_percent / 100.0);
    jitter_seconds_->Observe(quality.jitter_ms / 1000.0);
    if (quality.rtt_ms) {
        rtt_seconds_->Observe(*quality.rtt_ms / 1000.0);
    }
    packets_lost_->Increment(static_cast<double>(quality.packets_lost));
}

ng::value ng_control::handle(const ng::value& request, const ng::request_context& context) {
    // Tandem's own command: drain on/off (rtpengine does this from its CLI).
    if (const auto command = request.find_string("command"); command && *command == "drain") {
        const auto enable = request.find_string("enable").value_or("yes");
        sessions_.set_draining(enable != "no");
        publish_gauges();
        return ng::value(ng::dict{{"result", ng::value("ok")},
                                  {"draining", ng::value(sessions_.draining() ? "yes" : "no")}});
    }
    auto reply = sessions_.handle(request, address_of(context.peer));
    publish_gauges();
    return reply;
}

void ng_control::tick() {
    sessions_.poll();
    publish_gauges();
}

ng::request_handler ng_control::handler() {
    return [this](const ng::value& request, const ng::request_context& context) {
        return handle(request, context);
    };
}

std::shared_ptr<prometheus::Collectable> ng_control::collector() const {
    return std::make_shared<gauges_collector>(gauges_);
}

std::shared_ptr<prometheus::Collectable> ng_control::quality_collector() const {
    return quality_;
}

void ng_control::publish_gauges() {
    const auto& totals = sessions_.totals();
    auto& g = *gauges_;
    constexpr auto relaxed = std::memory_order_relaxed;
    g.sessions.store(sessions_.sessions(), relaxed);
    g.sessions_created.store(totals.sessions_created, relaxed);
    g.sessions_deleted.store(totals.sessions_deleted, relaxed);
    g.timed_out.store(totals.sessions_timed_out, relaxed);
    g.silent_timed_out.store(totals.sessions_silent_timed_out, relaxed);
    g.final_timed_out.store(totals.sessions_final_timed_out, relaxed);
    g.rejected_load.store(totals.offers_rejected_load, relaxed);
    g.rejected_drain.store(totals.offers_rejected_drain, relaxed);
    g.rejected_ports.store(totals.offers_rejected_ports, relaxed);
    g.request_errors.store(totals.requests_errors, relaxed);
    g.commands_dropped.store(totals.commands_dropped, relaxed);
    g.ports_free.store(sessions_.free_port_pairs() * 2, relaxed);
    g.ports_total.store(sessions_.total_port_pairs() * 2, relaxed);
    g.draining.store(sessions_.draining(), relaxed);
}

}  // namespace tandem::dataplane::control
