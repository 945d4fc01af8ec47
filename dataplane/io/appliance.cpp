#include "dataplane/io/appliance.hpp"

#include <csignal>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/control/ng_control.hpp"
#include "dataplane/io/eal.hpp"
#include "dataplane/io/port.hpp"
#include "dataplane/io/port_metrics.hpp"
#include "dataplane/io/worker.hpp"
#include "dataplane/media/worker_rings.hpp"
#include "gateway/metrics/worker_counters.hpp"

namespace tandem::dataplane::io {

namespace {

// The one piece of process-wide mutable state: a signal handler can reach
// nothing else. Lock-free, so setting it from the handler is safe.
std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_stop_signal(int /*signal*/) {
    stop_requested.store(true);
}

void install_signal_handlers() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

struct mempool_deleter {
    void operator()(rte_mempool* pool) const { rte_mempool_free(pool); }
};

// The ng server's thread: stopped and joined on every exit path.
class control_thread {
  public:
    explicit control_thread(std::unique_ptr<ng::server> server)
        : server_(std::move(server)), thread_([this] { server_->run(); }) {}
    ~control_thread() {
        server_->stop();
        thread_.join();
    }
    control_thread(const control_thread&) = delete;
    control_thread& operator=(const control_thread&) = delete;

  private:
    std::unique_ptr<ng::server> server_;
    std::thread thread_;
};

// Scrapes stop reading port stats before the ports close.
struct collector_detach {
    std::shared_ptr<port_stats_collector> collector;
    ~collector_detach() {
        if (collector) {
            collector->detach();
        }
    }
};

std::string eal_level_name(const config::logging_config& logging) {
    const auto module = logging.modules.find("eal");
    return module != logging.modules.end() ? module->second : logging.level;
}

std::string join(const std::vector<std::string>& words) {
    std::string text;
    for (const auto& word : words) {
        text += (text.empty() ? "" : " ") + word;
    }
    return text;
}

}  // namespace

appliance::appliance(const config::appliance_config& settings, appliance_services services)
    : settings_(settings), services_(std::move(services)) {}

void appliance::request_stop() {
    stop_requested.store(true);
}

int appliance::run() {
    const auto log = services_.logs.make("dataplane");
    const auto& dataplane = settings_.dataplane;
    if (dataplane.ports.empty()) {
        log->error("dataplane.ports is empty: the data plane needs at least one port");
        return 1;
    }
    install_signal_handlers();

    const auto arguments =
        build_eal_arguments(dataplane, "tandem-dataplane", eal_log_level(eal_level_name(settings_.logging)));
    log->debug("EAL arguments: {}", join(arguments));
    auto eal = eal_runtime::start(arguments);
    if (!eal) {
        log->error("{} (EAL arguments: {})", eal.message(), join(arguments));
        return 1;
    }

    const unsigned main_lcore = rte_get_main_lcore();
    std::vector<unsigned> worker_lcores;
    unsigned lcore = 0;
    RTE_LCORE_FOREACH_WORKER(lcore) {
        worker_lcores.push_back(lcore);
    }

    std::size_t total_rx_queues = 0;
    std::uint32_t rx_descriptors = 0;
    std::uint16_t data_room = 0;
    for (const auto& port : dataplane.ports) {
        total_rx_queues += port.rx_queues;
        rx_descriptors += static_cast<std::uint32_t>(port.rx_queues) * port.rx_descriptors;
        data_room = std::max(data_room, mbuf_data_room_for(port.mtu));
    }
    // A worker lcore with no queue would only spin; with one lcore in total
    // the main lcore polls while the control server runs on a thread.
    const std::size_t worker_count =
        worker_lcores.empty() ? 1 : std::min(worker_lcores.size(), total_rx_queues);

    // Every rx descriptor holds an mbuf, each worker holds a burst, each
    // lcore's pool cache holds some: fewer mbufs than that starves rx.
    const unsigned cache_size = std::min(256U, dataplane.mbufs / 16);
    const std::uint64_t needed = rx_descriptors + worker_count * dataplane.burst_size +
                                 static_cast<std::uint64_t>(cache_size) * (worker_lcores.size() + 1);
    if (dataplane.mbufs < needed) {
        log->error(
            "dataplane.mbufs: {} mbufs cannot fill {} rx descriptors plus bursts and caches; "
            "need at least {} (or fewer rx_descriptors)",
            dataplane.mbufs, rx_descriptors, needed);
        return 1;
    }
    std::unique_ptr<rte_mempool, mempool_deleter> pool(rte_pktmbuf_pool_create(
        "tandem_mbufs", dataplane.mbufs, cache_size, 0, data_room, static_cast<int>(rte_socket_id())));
    if (!pool) {
        log->error(
            "cannot create the mbuf pool ({} mbufs of {} bytes): {}; raise dataplane.eal.memory_mb "
            "or lower dataplane.mbufs",
            dataplane.mbufs, data_room, rte_strerror(rte_errno));
        return 1;
    }

    std::vector<std::unique_ptr<ethernet_port>> ports;
    for (const auto& port_settings : dataplane.ports) {
        auto port = ethernet_port::open(port_settings, static_cast<std::uint16_t>(worker_count), pool.get());
        if (!port) {
            log->error("{}", port.message());
            return 1;
        }
        ports.push_back(std::move(port.value()));
    }

    // (port, rx queue) pairs dealt round-robin to the workers.
    std::vector<worker_settings> plans(worker_count);
    std::size_t next = 0;
    for (std::size_t index = 0; index < ports.size(); ++index) {
        const auto& port = ports[index];
        const auto& port_settings = dataplane.ports[index];  // opened in config order
        worker_queue plan_queue{port->id(), 0, port->identity(), {}, false};
        plan_queue.network.identity = port->identity();
        plan_queue.network.ipv4_prefix = port_settings.ipv4_prefix;
        plan_queue.network.ipv6_prefix = port_settings.ipv6_prefix;
        if (!port_settings.ipv4_gateway.empty()) {
            plan_queue.network.ipv4_gateway = packet::parse_ipv4_address(port_settings.ipv4_gateway);
        }
        if (!port_settings.ipv6_gateway.empty()) {
            plan_queue.network.ipv6_gateway = packet::parse_ipv6_address(port_settings.ipv6_gateway);
        }
        for (std::uint16_t queue = 0; queue < port->rx_queues(); ++queue) {
            plan_queue.rx_queue = queue;
            plans[next % worker_count].queues.push_back(plan_queue);
            ++next;
        }
    }
    const polling_mode polling = dataplane.polling == "busy" ? polling_mode::busy : polling_mode::adaptive;
    auto counters = std::make_shared<metrics::worker_counters>(worker_counter_specs, worker_count);

    // The relay: one table and command ring per worker, sized to the port
    // range, and the control thread's session manager feeding them.
    media::relay_table_config table_config;
    table_config.ports = static_cast<std::size_t>(dataplane.media.port_max) + 1;
    media::worker_rings rings(worker_count, table_config, 1U << 16);
    auto relay_counters =
        std::make_shared<metrics::worker_counters>(media::relay_counter_specs, worker_count);
    control::ng_control sessions(control::media_settings_from(dataplane), rings, services_.time);
    std::vector<std::unique_ptr<worker>> workers;
    std::vector<std::string> worker_labels;
    for (std::size_t i = 0; i < worker_count; ++i) {
        plans[i].index = i;
        plans[i].burst_size = dataplane.burst_size;
        plans[i].polling = polling;
        plans[i].relay = relay_binding{&rings.table(i), &rings.commands(i), relay_counters.get(), pool.get()};
        workers.push_back(std::make_unique<worker>(std::move(plans[i]), *counters, stop_requested));
        worker_labels.push_back(std::to_string(worker_lcores.empty() ? main_lcore : worker_lcores[i]));
    }

    collector_detach detach_on_exit;
    if (services_.metrics != nullptr) {
        std::vector<port_stats_collector::port_entry> entries;
        for (const auto& port : ports) {
            entries.push_back({port->id(), port->name()});
        }
        detach_on_exit.collector = std::make_shared<port_stats_collector>(std::move(entries));
        services_.metrics->add(detach_on_exit.collector);
        services_.metrics->add(metrics::make_worker_collector(counters, "lcore", worker_labels));
        services_.metrics->add(metrics::make_worker_collector(relay_counters, "lcore", worker_labels));
        services_.metrics->add(sessions.collector());
        services_.metrics->add(sessions.quality_collector());
        services_.metrics->add(control::make_relay_totals_collector(relay_counters, worker_labels));
    }

    ng::server_options control_options;
    control_options.on_tick = [&sessions] { sessions.tick(); };
    control_options.tick_interval_ms = 20;
    auto server = ng::server::bind(dataplane.control, sessions.handler(), services_.time, control_options);
    if (!server) {
        log->error("ng control on udp {}:{}: {}", dataplane.control.address, dataplane.control.port,
                   server.message());
        return 1;
    }
    const std::uint16_t control_port = server.value()->local_port();
    control_thread control(std::move(server.value()));

    log->info("ng control listening on udp {}:{}", dataplane.control.address, control_port);
    for (const auto& port : ports) {
        const auto& identity = port->identity();
        log->info("media port {} ({}, port id {}): mac {}, ipv4 {}/{}{}, link {}", port->name(),
                  port->device(), port->id(), packet::to_string(identity.mac),
                  packet::to_string(identity.ipv4), port->ipv4_prefix(),
                  identity.ipv6 ? ", ipv6 " + packet::to_string(*identity.ipv6) + "/" +
                                      std::to_string(port->ipv6_prefix())
                                : std::string(),
                  port->link_up() ? "up" : "down");
    }
    if (services_.metrics != nullptr) {
        log->info("metrics on http://{}:{}/metrics", settings_.metrics.dataplane.address,
                  services_.metrics->listen_port());
    }
    log->info("{} worker(s) on lcore(s) {}, {} polling; ready", worker_count, join(worker_labels),
              dataplane.polling);

    if (worker_lcores.empty()) {
        workers.front()->run();
    } else {
        for (std::size_t i = 0; i < worker_count; ++i) {
            if (const int rc = rte_eal_remote_launch(worker::launch, workers[i].get(), worker_lcores[i]);
                rc != 0) {
                log->error("cannot launch the worker on lcore {}: {}", worker_lcores[i], rte_strerror(-rc));
                stop_requested.store(true);
                break;
            }
        }
        while (!stop_requested.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        rte_eal_mp_wait_lcore();
    }
    log->info("stopping: {} frames received, {} sent",
              counters->sum(static_cast<std::size_t>(worker_counter::rx_packets)),
              counters->sum(static_cast<std::size_t>(worker_counter::tx_packets)));
    return 0;
}

}  // namespace tandem::dataplane::io
