#pragma once
// ng control client: sends one request, waits for the reply with the same
// cookie, retransmits the identical datagram after timeout_ms, gives up after
// `retries` retransmissions. Blocking; one request at a time per client
// (callers that need concurrency hold one client per thread).

#include <cstdint>
#include <memory>

#include "gateway/config/config.hpp"
#include "gateway/core/result.hpp"
#include "gateway/ng/bencode.hpp"

namespace tandem::ng {

struct client_options {
    std::uint32_t timeout_ms = 1000;
    std::uint32_t retries = 3;
};

class client {
  public:
    static result<std::unique_ptr<client>> connect(const config::endpoint& target,
                                                   client_options options = {});
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // Sends `request` (a dict with "command"); returns the reply dict, or an
    // error on timeout / unparseable reply. A reply with result=error is
    // still a successful transport result: callers inspect "result".
    result<value> request(const value& request);

    // Convenience: true when the data plane answered {result: pong}.
    status ping();

  private:
    struct impl;
    explicit client(std::unique_ptr<impl> state);
    std::unique_ptr<impl> impl_;
};

}  // namespace tandem::ng
