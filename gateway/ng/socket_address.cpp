#include "gateway/ng/socket_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace tandem::ng::detail {

result<socket_address> resolve_literal(const config::endpoint& where) {
    std::string host = where.address;
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    socket_address out;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(where.port);
        out.length = sizeof(sockaddr_in);
        return out;
    }
    out = socket_address{};
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(where.port);
        out.length = sizeof(sockaddr_in6);
        return out;
    }
    return make_error("'" + where.address + "' is not an IPv4 or IPv6 address literal");
}

std::string format_address(const sockaddr* address, socklen_t length) {
    char text[INET6_ADDRSTRLEN] = {};
    if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
        sockaddr_in v4;
        std::memcpy(&v4, address, sizeof(v4));
        inet_ntop(AF_INET, &v4.sin_addr, text, sizeof(text));
        std::string out(text);
        out.append(1, ':').append(std::to_string(ntohs(v4.sin_port)));
        return out;
    }
    if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
        sockaddr_in6 v6;
        std::memcpy(&v6, address, sizeof(v6));
        inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof(text));
        // Built by append: g++ 12 -O3 misreads operator+ chains here (-Wstringop-overflow).
        std::string out(1, '[');
        out.append(text).append("]:").append(std::to_string(ntohs(v6.sin6_port)));
        return out;
    }
    return "?";
}

std::string format_endpoint(const config::endpoint& where) {
    const bool v6 = !where.address.empty() && where.address.front() != '[' &&
                    where.address.find(':') != std::string::npos;
    std::string out;
    if (v6) {
        out.append(1, '[').append(where.address).append(1, ']');
    } else {
        out.append(where.address);
    }
    out.append(1, ':').append(std::to_string(where.port));
    return out;
}

}  // namespace tandem::ng::detail
