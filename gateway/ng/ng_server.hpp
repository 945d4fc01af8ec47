#pragma once
// ng control server: one UDP socket, requests dispatched to a handler, and
// a reply cache keyed by (peer, cookie) so a retransmitted request gets the
// byte-identical earlier reply without running the command twice (what the
// rtpengine module relies on when it retransmits after a timeout).
//
// Threading: run() blocks in its own thread until stop() is called from any
// thread; the handler runs on that thread only. Malformed datagrams get
// {result: error, error-reason} when a cookie can be recovered, otherwise
// they are dropped; both are counted.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "gateway/config/config.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/core/result.hpp"
#include "gateway/ng/bencode.hpp"

namespace tandem::ng {

struct request_context {
    std::string peer;  // "ip:port" of the sender, for logs and received-from
};

// Returns the reply dict for one request dict (it must contain "result").
using request_handler = std::function<value(const value& request, const request_context& context)>;

struct server_counters {
    std::atomic<std::uint64_t> requests{0};        // datagrams that parsed
    std::atomic<std::uint64_t> replies_cached{0};  // answered from the cache
    std::atomic<std::uint64_t> malformed{0};       // could not parse
    std::atomic<std::uint64_t> errors{0};          // replies with result=error
    std::atomic<std::uint64_t> send_failed{0};     // replies the kernel refused (dropped)
};

struct server_options {
    std::int64_t cache_ttl_ms = 30'000;  // how long a reply is replayable
    std::size_t cache_max_entries = 65536;
    // Replies carry SDP, so the entry count alone does not bound memory:
    // the oldest entries also go when cookies + replies exceed this.
    std::size_t cache_max_bytes = 64 << 20;
    // Periodic work on the server's own thread (the session manager's
    // timeouts and worker events), so the handler and it never run at once.
    // Called about every tick_interval_ms while run() runs; 0 disables it.
    std::function<void()> on_tick;
    std::int64_t tick_interval_ms = 0;
};

class server {
  public:
    // Binds the socket now, so a taken port fails at startup.
    static result<std::unique_ptr<server>> bind(const config::endpoint& listen, request_handler handler,
                                                const clock& time, server_options options = {});
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    void run();                                      // until stop()
    void stop();                                     // thread-safe
    [[nodiscard]] std::uint16_t local_port() const;  // the bound port (useful with port 0)
    [[nodiscard]] const server_counters& counters() const;

  private:
    struct impl;
    explicit server(std::unique_ptr<impl> state);
    std::unique_ptr<impl> impl_;
};

}  // namespace tandem::ng
