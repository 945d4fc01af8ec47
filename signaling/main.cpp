// tandem-signaling: command line, configuration, logging, metrics; the rest
// lives in signaling/app.
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "gateway/config/config.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/log/log.hpp"
#include "gateway/metrics/metrics.hpp"
#include "signaling/app/signaling_app.hpp"
#include "signaling/sip/listen.hpp"

int main(int argc, char** argv) {
    using namespace tandem;
    CLI::App cli{"tandem-signaling: SIP signaling of the Tandem media gateway"};
    std::string config_path = "deploy/config/tandem.yaml";
    std::string check_path;
    cli.add_option("--config", config_path, "configuration file")->capture_default_str();
    cli.add_option("--check-config", check_path, "validate FILE and exit (0: ok, 2: the error)");
    cli.add_flag_callback(
        "--version",
        [] {
            const auto build = metrics::this_build();
            std::cout << "tandem-signaling " << build.version << " (" << build.git_revision << ")\n";
            throw CLI::Success();
        },
        "print the version and exit");
    CLI11_PARSE(cli, argc, argv);

    if (!check_path.empty()) {
        auto checked = config::load_config(check_path);
        if (!checked) {
            std::cerr << checked.message() << "\n";
            return 2;
        }
        std::cout << check_path << ": ok\n";
        return 0;
    }

    auto loaded = config::load_config(config_path);
    if (!loaded) {
        std::cerr << loaded.message() << "\n";
        return 2;
    }
    const config::appliance_config& settings = loaded.value();
    const log::log_factory logs(settings.logging, "signaling");
    const steady_clock time;
    const auto& stop_requested = app::install_stop_signals();

    std::unique_ptr<metrics::metrics_service> exporter;
    std::shared_ptr<prometheus::Registry> unexported;
    prometheus::Registry* registry = nullptr;
    if (settings.metrics.enabled) {
        auto started = metrics::metrics_service::start(settings.metrics.signaling, "signaling", time);
        if (!started) {
            std::cerr << "metrics: " << started.message() << "\n";
            return 1;
        }
        exporter = std::move(started.value());
        registry = &exporter->registry();
        std::cout << "metrics on http://"
                  << sip::format_host_port(settings.metrics.signaling.address, exporter->listen_port())
                  << "/metrics\n";
    } else {
        unexported = std::make_shared<prometheus::Registry>();
        registry = unexported.get();
    }
    return app::run_signaling(settings, logs, *registry, time, stop_requested, std::cout);
}
