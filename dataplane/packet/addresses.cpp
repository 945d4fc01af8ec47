#include "dataplane/packet/addresses.hpp"

#include <arpa/inet.h>

#include <cstdio>

namespace tandem::packet {

std::optional<ipv4_address> parse_ipv4_address(std::string_view text) {
    // inet_pton needs a terminated string; 15 characters is the longest form.
    if (text.empty() || text.size() > 15) {
        return std::nullopt;
    }
    const std::string copy(text);
    ipv4_address address{};
    if (inet_pton(AF_INET, copy.c_str(), address.data()) != 1) {
        return std::nullopt;
    }
    return address;
}

std::optional<ipv6_address> parse_ipv6_address(std::string_view text) {
    if (text.empty() || text.size() > 45) {
        return std::nullopt;
    }
    const std::string copy(text);
    ipv6_address address{};
    if (inet_pton(AF_INET6, copy.c_str(), address.data()) != 1) {
        return std::nullopt;
    }
    return address;
}

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

}  // namespace

std::optional<mac_address> parse_mac_address(std::string_view text) {
    if (text.size() != 17) {
        return std::nullopt;
    }
    mac_address address{};
    for (std::size_t i = 0; i < address.size(); ++i) {
        const std::size_t at = i * 3;
        const int high = hex_value(text[at]);
        const int low = hex_value(text[at + 1]);
        if (high < 0 || low < 0 || (i + 1 < address.size() && text[at + 2] != ':')) {
            return std::nullopt;
        }
        address[i] = static_cast<std::uint8_t>(high * 16 + low);
    }
    return address;
}

std::string to_string(const ipv4_address& address) {
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, address.data(), text, sizeof text);
    return text;
}

std::string to_string(const ipv6_address& address) {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, address.data(), text, sizeof text);
    return text;
}

std::string to_string(const mac_address& address) {
    char text[18] = {};
    std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", address[0], address[1], address[2],
                  address[3], address[4], address[5]);
    return text;
}

ipv6_address solicited_node_multicast(const ipv6_address& address) {
    ipv6_address group{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0, 0, 0};
    group[13] = address[13];
    group[14] = address[14];
    group[15] = address[15];
    return group;
}

mac_address ipv6_multicast_mac(const ipv6_address& group) {
    return mac_address{0x33, 0x33, group[12], group[13], group[14], group[15]};
}

}  // namespace tandem::packet
