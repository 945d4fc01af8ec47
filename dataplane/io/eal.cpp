#include "dataplane/io/eal.hpp"

#include <rte_eal.h>
#include <rte_errno.h>

namespace tandem::dataplane::io {

int eal_log_level(std::string_view tandem_level) {
    // EAL is chatty at INFO (one line per probed device and memory segment),
    // so Tandem's "info" maps to NOTICE and "debug" to INFO.
    if (tandem_level == "trace") {
        return 8;
    }
    if (tandem_level == "debug") {
        return 7;
    }
    if (tandem_level == "warn") {
        return 5;
    }
    if (tandem_level == "error") {
        return 4;
    }
    if (tandem_level == "critical") {
        return 3;
    }
    if (tandem_level == "off") {
        return 1;
    }
    return 6;
}

std::string device_name(std::string_view device) {
    return std::string(device.substr(0, device.find(',')));
}

std::vector<std::string> build_eal_arguments(const config::dataplane_config& dataplane,
                                             std::string_view program_name, int log_level) {
    const auto& eal = dataplane.eal;
    std::vector<std::string> arguments{std::string(program_name)};
    // -l takes a plain list ("0-1"); --lcores also maps lcores to CPUs ("(0-1)@0").
    const bool mapped = eal.lcores.find_first_of("@()") != std::string::npos;
    arguments.insert(arguments.end(), {mapped ? "--lcores" : "-l", eal.lcores});
    if (eal.no_huge) {
        arguments.emplace_back("--no-huge");
    }
    arguments.insert(arguments.end(), {"-m", std::to_string(eal.memory_mb)});
    if (eal.in_memory) {
        // No runtime files, so several instances run side by side. EAL
        // refuses --in-memory together with --no-huge (which implies legacy
        // memory mode); --no-shconf is the part of --in-memory that still
        // applies without hugepages. The telemetry socket is a runtime file
        // too (Prometheus is the telemetry here).
        arguments.emplace_back(eal.no_huge ? "--no-shconf" : "--in-memory");
        arguments.emplace_back("--no-telemetry");
    }
    if (!eal.file_prefix.empty()) {
        arguments.insert(arguments.end(), {"--file-prefix", eal.file_prefix});
    }
    if (eal.pci_allow.empty()) {
        arguments.emplace_back("--no-pci");
    } else {
        for (const auto& address : eal.pci_allow) {
            arguments.insert(arguments.end(), {"-a", address});
        }
    }
    for (const auto& port : dataplane.ports) {
        if (port.device.starts_with("net_")) {
            arguments.insert(arguments.end(), {"--vdev", port.device});
        }
    }
    if (eal.no_huge) {
        // Without hugepages, physical addresses are unknown to user space.
        arguments.emplace_back("--iova-mode=va");
    }
    arguments.emplace_back("--log-level=" + std::to_string(log_level));
    arguments.insert(arguments.end(), eal.extra_args.begin(), eal.extra_args.end());
    return arguments;
}

result<std::unique_ptr<eal_runtime>> eal_runtime::start(const std::vector<std::string>& arguments) {
    // rte_eal_init may permute argv, so it gets its own copies.
    std::vector<std::string> storage(arguments);
    std::vector<char*> argv;
    argv.reserve(storage.size() + 1);
    for (auto& argument : storage) {
        argv.push_back(argument.data());
    }
    argv.push_back(nullptr);
    if (rte_eal_init(static_cast<int>(storage.size()), argv.data()) < 0) {
        return make_error(std::string("rte_eal_init failed: ") + rte_strerror(rte_errno));
    }
    return std::unique_ptr<eal_runtime>(new eal_runtime());
}

eal_runtime::~eal_runtime() {
    rte_eal_cleanup();
}

}  // namespace tandem::dataplane::io
