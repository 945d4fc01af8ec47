#pragma once
// Turns config signaling.listen into the bind URLs Sofia-SIP understands.
//
// Listeners that share an address and port become one URL: udp and tcp
// together as "sip:127.0.0.1:5060" (nta binds both), one of them as
// "sip:127.0.0.1:5060;transport=tcp". IPv6 literals are bracketed. Sofia-SIP 1.12 binds at
// most two such URLs through nua (NUTAG_URL and NUTAG_SIPS_URL), so a third
// distinct address:port is refused here rather than silently dropped.
// Pure string work: no Sofia, no sockets.

#include <cstdint>
#include <string>
#include <vector>

#include "gateway/config/config.hpp"
#include "gateway/core/result.hpp"

namespace tandem::sip {

inline constexpr std::size_t max_listen_groups = 2;

struct listen_group {
    std::string address;  // as configured ("0.0.0.0", "::1")
    std::uint16_t port = 0;
    std::vector<std::string> transports;  // "udp", "tcp" in configuration order
    std::string url;                      // bind URL for nta
};

result<std::vector<listen_group>> group_listeners(const std::vector<config::sip_listen>& listeners);

// "127.0.0.1:5060" / "[::1]:5060": for messages and logs.
std::string format_host_port(const std::string& address, std::uint16_t port);

}  // namespace tandem::sip
