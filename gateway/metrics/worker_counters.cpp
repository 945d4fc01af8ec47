#include "gateway/metrics/worker_counters.hpp"

#include <algorithm>

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

namespace tandem::metrics {

namespace {

constexpr std::size_t cache_line_bytes = 64;
constexpr std::size_t slots_per_line = cache_line_bytes / sizeof(std::atomic<std::uint64_t>);

class worker_collector final : public prometheus::Collectable {
  public:
    worker_collector(std::shared_ptr<const worker_counters> counters, std::string label_name,
                     std::vector<std::string> label_values)
        : counters_(std::move(counters)),
          label_name_(std::move(label_name)),
          label_values_(std::move(label_values)) {}

    [[nodiscard]] std::vector<prometheus::MetricFamily> Collect() const override {
        std::vector<prometheus::MetricFamily> families;
        const auto specs = counters_->specs();
        families.reserve(specs.size());
        for (std::size_t counter = 0; counter < specs.size(); ++counter) {
            prometheus::MetricFamily family;
            family.name = specs[counter].name;
            family.help = specs[counter].help;
            family.type =
                specs[counter].is_gauge ? prometheus::MetricType::Gauge : prometheus::MetricType::Counter;
            for (std::size_t worker = 0; worker < counters_->workers(); ++worker) {
                prometheus::ClientMetric metric;
                const std::string label_value =
                    worker < label_values_.size() ? label_values_[worker] : std::to_string(worker);
                metric.label.push_back({label_name_, label_value});
                const auto value = static_cast<double>(counters_->get(worker, counter));
                if (specs[counter].is_gauge) {
                    metric.gauge.value = value;
                } else {
                    metric.counter.value = value;
                }
                family.metric.push_back(std::move(metric));
            }
            families.push_back(std::move(family));
        }
        return families;
    }

  private:
    std::shared_ptr<const worker_counters> counters_;
    std::string label_name_;
    std::vector<std::string> label_values_;
};

}  // namespace

worker_counters::worker_counters(std::span<const counter_spec> specs, std::size_t workers)
    : specs_(specs),
      workers_(workers),
      stride_((specs.size() + slots_per_line - 1) / slots_per_line * slots_per_line),
      lines_(std::make_unique<cache_line[]>(stride_ * std::max<std::size_t>(workers, 1) / slots_per_line)),
      slots_(lines_[0].slots) {
    static_assert(sizeof(cache_line) == cache_line_bytes);
    for (std::size_t i = 0; i < stride_ * workers_; ++i) {
        slots_[i].store(0, std::memory_order_relaxed);
    }
}

std::uint64_t worker_counters::sum(std::size_t counter) const {
    std::uint64_t total = 0;
    for (std::size_t worker = 0; worker < workers_; ++worker) {
        total += get(worker, counter);
    }
    return total;
}

std::shared_ptr<prometheus::Collectable> make_worker_collector(
    std::shared_ptr<const worker_counters> counters, std::string label_name,
    std::vector<std::string> worker_label_values) {
    return std::make_shared<worker_collector>(std::move(counters), std::move(label_name),
                                              std::move(worker_label_values));
}

}  // namespace tandem::metrics
