#pragma once
// The one wrapper around Sofia-SIP's nua in tandem-signaling.
//
// sip_stack owns su_root and nua: start() binds every configured listener
// (a taken port or a bad address fails there, not later), run() drives the
// event loop on the calling thread, shutdown() ends nua gracefully. Media
// handling in nua is switched off: SDP belongs to the data plane. Requests
// reach the application as plain structs through request_handler, on the
// thread inside run(); nothing of Sofia leaks through this header.
//
// What the stack answers by itself: OPTIONS (200 with Allow/Accept),
// well-known methods outside the Allow list (405 with Allow), unknown methods
// (501), out-of-dialog BYE/CANCEL (481), unsupported URI schemes (416) and
// Require options (420), CANCEL/ACK/BYE matching. INVITE is answered with
// whatever request_handler::on_invite decides.
//
// sip_counters sees every request received and every response sent, those
// nua answers by itself included: the stack switches on tport's message
// trace and counts from it (trace_counter.hpp), because Sofia 1.12.11 reports
// its automatic answers nowhere else. That redirects su_log's process-wide
// default log, so there is one sip_stack per process.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gateway/config/config.hpp"
#include "gateway/core/result.hpp"
#include "gateway/log/log.hpp"
#include "signaling/sip/listen.hpp"
#include "signaling/sip/sip_counters.hpp"
#include "signaling/sip/sip_types.hpp"

namespace tandem::sip {

// Methods this node implements; sent in Allow and enforced by nua (405).
inline constexpr const char* allowed_methods = "INVITE, ACK, BYE, CANCEL, OPTIONS";

struct stack_options {
    std::vector<config::sip_listen> listen;
    std::string user_agent = "Tandem";
    // Bound on waiting for nua_r_shutdown; nua itself gives up on stuck
    // transactions after its own timers.
    std::uint32_t shutdown_timeout_ms = 5000;
    // Receives Sofia's own diagnostics (su_log); null: a clone of the stack's logger named "sofia".
    log::logger_ptr sofia_logger;
};

class sip_stack {
  public:
    // `handler`, `counters` and `logger` must outlive the stack.
    static result<std::unique_ptr<sip_stack>> start(const stack_options& options, request_handler& handler,
                                                    sip_counters& counters, log::logger_ptr logger);
    ~sip_stack();
    sip_stack(const sip_stack&) = delete;
    sip_stack& operator=(const sip_stack&) = delete;

    // Runs the event loop on this thread until `stop_requested` reads true
    // (polled every 100 ms, so a signal handler may set it).
    void run(const std::atomic<bool>& stop_requested);

    // nua_shutdown, wait (bounded) for nua_r_shutdown, nua_destroy. Called
    // by the destructor if not before; idempotent.
    void shutdown();

    [[nodiscard]] const std::vector<listen_group>& listeners() const;

  private:
    struct impl;
    explicit sip_stack(std::unique_ptr<impl> state);
    std::unique_ptr<impl> impl_;
};

}  // namespace tandem::sip
