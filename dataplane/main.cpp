// tandem-dataplane: parse the command line, load the config, start logging
// and metrics, hand over to the appliance (dataplane/io/appliance.hpp).

#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "dataplane/io/appliance.hpp"
#include "gateway/config/config.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/log/log.hpp"
#include "gateway/metrics/metrics.hpp"

int main(int argc, char** argv) {
    using namespace tandem;
    const auto build = metrics::this_build();
    CLI::App cli{"tandem-dataplane: Tandem's DPDK media data plane"};
    std::string config_path = "deploy/config/tandem.yaml";
    bool check_only = false;
    cli.add_option("--config", config_path, "Appliance configuration file (YAML)")->capture_default_str();
    cli.add_flag("--check-config", check_only, "Validate the configuration and exit (0 valid, 2 invalid)");
    cli.set_version_flag("--version", "tandem-dataplane " + build.version + " (" + build.git_revision + ")");
    CLI11_PARSE(cli, argc, argv);

    const auto settings = config::load_config(config_path);
    if (!settings) {
        std::cerr << settings.message() << "\n";
        return 2;
    }
    if (check_only) {
        std::cout << config_path << ": valid\n";
        return 0;
    }

    const log::log_factory logs(settings->logging, "dataplane");
    const steady_clock time;
    std::unique_ptr<metrics::metrics_service> metrics;
    if (settings->metrics.enabled) {
        auto started = metrics::metrics_service::start(settings->metrics.dataplane, "dataplane", time);
        if (!started) {
            logs.make("dataplane")
                ->error("metrics on {}:{}: {}", settings->metrics.dataplane.address,
                        settings->metrics.dataplane.port, started.message());
            return 1;
        }
        metrics = std::move(started.value());
    }
    dataplane::io::appliance appliance(*settings, {logs, metrics.get(), time});
    return appliance.run();
}
