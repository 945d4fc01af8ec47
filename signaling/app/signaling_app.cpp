#include "signaling/app/signaling_app.hpp"

#include <csignal>

#include "signaling/app/invite_policy.hpp"
#include "signaling/app/media_health.hpp"
#include "signaling/app/ng_pinger.hpp"
#include "signaling/sip/listen.hpp"
#include "signaling/sip/sip_counters.hpp"
#include "signaling/sip/sip_stack.hpp"

namespace tandem::app {

namespace {

// Lock-free, so setting it is async-signal-safe.
std::atomic<bool> stop_flag{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_stop_signal(int /*signal_number*/) {
    stop_flag.store(true);
}

}  // namespace

const std::atomic<bool>& install_stop_signals() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, nullptr);
    return stop_flag;
}

int run_signaling(const config::appliance_config& config, const log::log_factory& logs,
                  prometheus::Registry& registry, const clock& time, const std::atomic<bool>& stop_requested,
                  std::ostream& out) {
    const auto logger = logs.make("signaling");
    const auto& media_control = config.signaling.media_control;

    auto pinger = ng_pinger::connect(media_control);
    if (!pinger) {
        logger->error("media control: {}", pinger.message());
        return 1;
    }
    media_health health(*pinger.value(), time, media_control.health_interval_ms, registry, logs.make("ng"));
    invite_policy policy(health);
    sip::sip_counters counters(registry);

    sip::stack_options options;
    options.listen = config.signaling.listen;
    options.user_agent = config.signaling.user_agent;
    options.sofia_logger = logs.make("sofia");
    auto stack = sip::sip_stack::start(options, policy, counters, logs.make("sip"));
    if (!stack) {
        logger->error("{}", stack.message());
        return 1;
    }
    for (const auto& group : stack.value()->listeners()) {
        for (const auto& transport : group.transports) {
            out << "SIP listening on " << transport << " " << sip::format_host_port(group.address, group.port)
                << "\n";
        }
    }
    out << "data plane ng control at "
        << sip::format_host_port(media_control.dataplane.address, media_control.dataplane.port)
        << ", ping every " << media_control.health_interval_ms << " ms" << std::endl;

    {
        health_thread pinging(health);
        stack.value()->run(stop_requested);
        logger->info("stopping");
        stack.value()->shutdown();
    }
    stack.value().reset();
    logger->info("stopped");
    return 0;
}

}  // namespace tandem::app
