#include "gateway/metrics/metrics.hpp"

#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <prometheus/client_metric.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#ifndef TANDEM_VERSION
#define TANDEM_VERSION "unknown"
#endif
#ifndef TANDEM_GIT_REVISION
#define TANDEM_GIT_REVISION "unknown"
#endif

namespace tandem::metrics {

namespace {

prometheus::MetricFamily gauge_family(std::string name, std::string help, double value,
                                      std::vector<prometheus::ClientMetric::Label> labels = {}) {
    prometheus::MetricFamily family;
    family.name = std::move(name);
    family.help = std::move(help);
    family.type = prometheus::MetricType::Gauge;
    prometheus::ClientMetric metric;
    metric.label = std::move(labels);
    metric.gauge.value = value;
    family.metric.push_back(std::move(metric));
    return family;
}

prometheus::MetricFamily counter_family(std::string name, std::string help, double value) {
    prometheus::MetricFamily family;
    family.name = std::move(name);
    family.help = std::move(help);
    family.type = prometheus::MetricType::Counter;
    prometheus::ClientMetric metric;
    metric.counter.value = value;
    family.metric.push_back(std::move(metric));
    return family;
}

// /proc/self/statm: size resident shared ... in pages.
double resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    long size_pages = 0;
    long resident_pages = 0;
    if (!(statm >> size_pages >> resident_pages)) {
        return 0;
    }
    return static_cast<double>(resident_pages) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double open_fds() {
    DIR* dir = opendir("/proc/self/fd");
    if (dir == nullptr) {
        return 0;
    }
    double count = 0;
    while (const dirent* entry = readdir(dir)) {
        if (entry->d_name[0] != '.') {
            count += 1;
        }
    }
    closedir(dir);
    return count - 1;  // the directory stream's own descriptor
}

// /proc/self/stat fields 14 and 15 (utime, stime) in clock ticks; the
// command name in field 2 may hold spaces, so parse after the last ')'.
double cpu_seconds() {
    std::ifstream stat_file("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos) {
        return 0;
    }
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int index = 3; index <= 15 && (fields >> field); ++index) {
        if (index == 14 || index == 15) {
            ticks += std::stod(field);
        }
    }
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

class process_collector final : public prometheus::Collectable {
  public:
    process_collector(std::string process_name, const clock& time)
        : process_name_(std::move(process_name)),
          time_(time),
          started_ns_(time.now_ns()),
          started_unix_s_(static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                                  std::chrono::system_clock::now().time_since_epoch())
                                                  .count())) {}

    [[nodiscard]] std::vector<prometheus::MetricFamily> Collect() const override {
        const auto facts = this_build();
        std::vector<prometheus::MetricFamily> families;
        families.push_back(gauge_family(
            "tandem_build_info", "Build of the running process; value is always 1", 1.0,
            {{"process", process_name_}, {"version", facts.version}, {"revision", facts.git_revision}}));
        families.push_back(gauge_family("tandem_uptime_seconds", "Seconds since the process started",
                                        static_cast<double>(time_.now_ns() - started_ns_) / 1e9));
        families.push_back(gauge_family("tandem_process_start_time_seconds",
                                        "Start time of the process since the Unix epoch", started_unix_s_));
        families.push_back(gauge_family("tandem_process_resident_memory_bytes", "Resident set size in bytes",
                                        resident_bytes()));
        families.push_back(gauge_family("tandem_process_open_fds", "Open file descriptors", open_fds()));
        families.push_back(counter_family("tandem_process_cpu_seconds_total",
                                          "User and system CPU time spent, in seconds", cpu_seconds()));
        return families;
    }

  private:
    std::string process_name_;
    const clock& time_;
    std::int64_t started_ns_;
    double started_unix_s_;
};

std::string bind_string(const config::endpoint& listen) {
    // civetweb wants IPv6 literals in brackets: "[::]:9480".
    if (listen.address.find(':') != std::string::npos) {
        return "[" + listen.address + "]:" + std::to_string(listen.port);
    }
    return listen.address + ":" + std::to_string(listen.port);
}

}  // namespace

build_facts this_build() {
    return {TANDEM_VERSION, TANDEM_GIT_REVISION};
}

struct metrics_service::impl {
    std::unique_ptr<prometheus::Exposer> exposer;
    std::vector<std::shared_ptr<prometheus::Collectable>> collectables;
};

metrics_service::metrics_service()
    : registry_(std::make_shared<prometheus::Registry>()), impl_(std::make_unique<impl>()) {}

metrics_service::~metrics_service() = default;

result<std::unique_ptr<metrics_service>> metrics_service::start(const config::endpoint& listen,
                                                                const std::string& process_name,
                                                                const clock& time) {
    std::unique_ptr<metrics_service> service(new metrics_service());
    try {
        // One listener thread is plenty for a scrape every few seconds.
        service->impl_->exposer = std::make_unique<prometheus::Exposer>(bind_string(listen), 1);
    } catch (const std::exception& failure) {
        return make_error("metrics: cannot listen on " + bind_string(listen) + ": " + failure.what());
    }
    service->impl_->exposer->RegisterCollectable(service->registry_);
    service->add(make_process_collector(process_name, time));
    return service;
}

void metrics_service::add(const std::shared_ptr<prometheus::Collectable>& collectable) {
    impl_->collectables.push_back(collectable);
    impl_->exposer->RegisterCollectable(collectable);
}

std::uint16_t metrics_service::listen_port() const {
    const auto ports = impl_->exposer->GetListeningPorts();
    return ports.empty() ? 0 : static_cast<std::uint16_t>(ports.front());
}

std::shared_ptr<prometheus::Collectable> make_process_collector(const std::string& process_name,
                                                                const clock& time) {
    return std::make_shared<process_collector>(process_name, time);
}

std::string render_text(const prometheus::Collectable& collectable) {
    const prometheus::TextSerializer serializer;
    return serializer.Serialize(collectable.Collect());
}

}  // namespace tandem::metrics
