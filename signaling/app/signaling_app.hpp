#pragma once
// tandem-signaling's wiring: the data-plane health monitor, the INVITE
// policy and the SIP stack, run until a stop is requested. main.cpp parses
// the command line, loads the configuration, starts logging and metrics,
// then calls run_signaling().

#include <atomic>
#include <ostream>

#include <prometheus/registry.h>

#include "gateway/config/config.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/log/log.hpp"

namespace tandem::app {

// Installs SIGINT and SIGTERM handlers (and ignores SIGPIPE: a peer closing
// a SIP/TCP connection must not kill the process). The returned flag turns
// true on either signal; it is the one piece of process-wide state, because
// a signal handler can reach nothing else.
const std::atomic<bool>& install_stop_signals();

// Runs until `stop_requested` is true; returns the process exit code (0 on a
// clean stop, 1 when the stack cannot start). Prints where SIP listens to
// `out`.
int run_signaling(const config::appliance_config& config, const log::log_factory& logs,
                  prometheus::Registry& registry, const clock& time, const std::atomic<bool>& stop_requested,
                  std::ostream& out);

}  // namespace tandem::app
