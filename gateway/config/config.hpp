#pragma once
// The appliance's one configuration file, shared by both processes.
//
// load_config() reads YAML, fills every field from built-in defaults first,
// and refuses the whole file on the first problem with a message of the form
//     file:line: key.path: what is wrong, what is expected
// (unknown keys, wrong types, out-of-range values, a missing file). Nothing
// here logs or throws; callers print the error and exit.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/result.hpp"

namespace tandem::config {

// host + port; host is an IPv4/IPv6 literal ("0.0.0.0", "::", "127.0.0.1").
struct endpoint {
    std::string address;
    std::uint16_t port = 0;
};

struct sip_listen {
    std::string transport = "udp";  // udp | tcp  (tls arrives with the B2BUA issue)
    std::string address = "0.0.0.0";
    std::uint16_t port = 5060;
};

struct media_control_config {
    // ng control sockets of the data planes this signaling node drives.
    endpoint dataplane{"127.0.0.1", 2223};
    std::uint32_t timeout_ms = 1000;          // per attempt, 10..60000
    std::uint32_t retries = 3;                // extra attempts, 0..10
    std::uint32_t health_interval_ms = 5000;  // ping period, 100..3600000
};

struct signaling_config {
    std::vector<sip_listen> listen{{"udp", "0.0.0.0", 5060}, {"tcp", "0.0.0.0", 5060}};
    std::string user_agent = "Tandem";
    media_control_config media_control;
};

struct eal_config {
    std::string lcores = "0-1";           // --lcores/-l list; the first is the main lcore
    bool no_huge = true;                  // --no-huge: anonymous memory, no hugepages
    std::uint32_t memory_mb = 1024;       // -m, 64..65536
    bool in_memory = true;                // --in-memory: no runtime files, several instances
    std::string file_prefix = "tandem";   // --file-prefix
    std::vector<std::string> pci_allow;   // -a BDF ...; empty with vdevs means --no-pci
    std::vector<std::string> extra_args;  // passed to EAL verbatim, last
};

struct port_config {
    std::string name = "media0";
    // A vdev spec ("net_tap0,iface=tandem0") or a PCI address ("0000:03:00.0").
    std::string device = "net_tap0,iface=tandem0";
    std::string ipv4 = "192.0.2.2";       // the data plane's own address on this port
    std::uint8_t ipv4_prefix = 24;        // 1..32
    std::string ipv6;                     // optional, empty when unused
    std::uint8_t ipv6_prefix = 64;        // 1..128
    std::uint16_t rx_queues = 1;          // one worker per rx queue, 1..64
    std::uint16_t rx_descriptors = 1024;  // 64..16384, power of two
    std::uint16_t tx_descriptors = 1024;  // 64..16384, power of two
    std::uint16_t mtu = 1500;             // 576..9600
    // Next hops for media peers outside the port's subnets; empty: none
    // (such peers are then unreachable and counted as unresolved).
    std::string ipv4_gateway;
    std::string ipv6_gateway;
};

// The relay's sessions (rtpengine's equivalents in brackets).
struct media_config {
    std::uint16_t port_min = 30000;           // RTP ports, even; RTCP = RTP + 1  (port-min)
    std::uint16_t port_max = 39999;           // (port-max); port_min < port_max
    std::uint32_t max_sessions = 10000;       // offers for new calls beyond get "load limit" (max-sessions)
    std::uint32_t timeout_s = 60;             // no media while sending: call deleted (timeout)
    std::uint32_t silent_timeout_s = 3600;    // no media while on hold (silent-timeout)
    std::uint32_t final_timeout_s = 0;        // deleted regardless after this long; 0 = never (final-timeout)
    std::uint32_t delete_delay_s = 0;         // default delay of ng delete (delete-delay)
    std::uint32_t learning_window_ms = 3000;  // the peer may move during this window, then locks
};

struct dataplane_config {
    eal_config eal;
    std::vector<port_config> ports{port_config{}};
    std::uint32_t mbufs = 8191;           // mempool size, 1023..4194303
    std::uint16_t burst_size = 32;        // 1..256
    std::string polling = "adaptive";     // busy | adaptive
    endpoint control{"127.0.0.1", 2223};  // ng protocol (UDP)
    media_config media;
};

struct metrics_config {
    bool enabled = true;
    endpoint signaling{"0.0.0.0", 9480};
    endpoint dataplane{"0.0.0.0", 9481};
};

struct logging_config {
    std::string level = "info";                  // trace | debug | info | warn | error | critical | off
    std::string format = "text";                 // text (timestamps) | journal (<N> prefixes, no time)
    std::map<std::string, std::string> modules;  // module name -> level
};

struct appliance_config {
    std::string source;  // file the config came from ("<defaults>" when built in)
    signaling_config signaling;
    dataplane_config dataplane;
    metrics_config metrics;
    logging_config logging;
};

// Reads and validates a file. Errors: "FILE: cannot open: REASON" for a
// missing or unreadable file, otherwise "FILE:LINE: key.path: ...".
result<appliance_config> load_config(const std::string& path);

// Same on text already in memory; file_name is used only in messages.
result<appliance_config> parse_config(std::string_view yaml_text, std::string_view file_name);

}  // namespace tandem::config
