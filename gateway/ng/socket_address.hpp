#pragma once
// Internal to gateway/ng: turns a config::endpoint (an IPv4 or IPv6 literal,
// optionally in brackets, and a port) into a sockaddr, and a sockaddr back
// into "ip:port" / "[ip]:port" text. No name resolution: the config promises
// literals, and a blocking DNS lookup has no place in a control loop.

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "gateway/config/config.hpp"
#include "gateway/core/result.hpp"

namespace tandem::ng::detail {

struct socket_address {
    sockaddr_storage storage{};
    socklen_t length = 0;

    [[nodiscard]] const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
    [[nodiscard]] int family() const { return storage.ss_family; }
};

result<socket_address> resolve_literal(const config::endpoint& where);

// "127.0.0.1:2223" or "[::1]:2223"; "?" for an unknown family.
std::string format_address(const sockaddr* address, socklen_t length);

// The host:port text used in error messages, formatted like format_address.
std::string format_endpoint(const config::endpoint& where);

}  // namespace tandem::ng::detail
