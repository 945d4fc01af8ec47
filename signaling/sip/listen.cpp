#include "signaling/sip/listen.hpp"

#include <algorithm>

namespace tandem::sip {

namespace {

bool is_ipv6_literal(const std::string& address) {
    return address.find(':') != std::string::npos;
}

}  // namespace

std::string format_host_port(const std::string& address, std::uint16_t port) {
    const std::string host = is_ipv6_literal(address) ? "[" + address + "]" : address;
    return host + ":" + std::to_string(port);
}

result<std::vector<listen_group>> group_listeners(const std::vector<config::sip_listen>& listeners) {
    if (listeners.empty()) {
        return make_error("signaling.listen: no listener configured, expected at least one");
    }
    std::vector<listen_group> groups;
    for (const auto& listener : listeners) {
        if (listener.transport != "udp" && listener.transport != "tcp") {
            return make_error("signaling.listen: transport '" + listener.transport +
                              "' is not supported, expected udp or tcp");
        }
        if (listener.address.empty()) {
            return make_error("signaling.listen: empty address, expected an IPv4 or IPv6 literal");
        }
        if (listener.port == 0) {
            return make_error("signaling.listen: port 0 for " + listener.address + ", expected 1..65535");
        }
        auto same_socket = [&](const listen_group& group) {
            return group.address == listener.address && group.port == listener.port;
        };
        auto group = std::find_if(groups.begin(), groups.end(), same_socket);
        if (group == groups.end()) {
            if (groups.size() == max_listen_groups) {
                return make_error("signaling.listen: more than " + std::to_string(max_listen_groups) +
                                  " distinct address:port pairs, expected at most " +
                                  std::to_string(max_listen_groups) +
                                  " (list udp and tcp on the same address:port to share one)");
            }
            groups.push_back(listen_group{listener.address, listener.port, {}, {}});
            group = std::prev(groups.end());
        }
        if (std::find(group->transports.begin(), group->transports.end(), listener.transport) !=
            group->transports.end()) {
            return make_error("signaling.listen: " + listener.transport + " on " +
                              format_host_port(listener.address, listener.port) + " is listed twice");
        }
        group->transports.push_back(listener.transport);
    }
    for (auto& group : groups) {
        // Without a transport parameter nta binds every transport of the sip:
        // scheme (udp and tcp; Debian's build has no sctp). A list such as
        // "transport=udp,tcp" would say the same, but Sofia-SIP 1.12.11 keeps
        // a pointer to a block-scoped array when splitting it and crashes.
        group.url = "sip:" + format_host_port(group.address, group.port);
        if (group.transports.size() == 1) {
            group.url += ";transport=" + group.transports[0];
        }
    }
    return groups;
}

}  // namespace tandem::sip
