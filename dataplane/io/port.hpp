#pragma once
// One media port: an ethdev (a PCI NIC or a virtual device such as net_tap,
// net_ring, net_memif) configured with `rx_queues` receive queues (RSS
// spreads flows over them) and one transmit queue per worker, so every
// worker sends without locks. Checksum offloads the device reports are
// enabled and remembered for the media code.
//
// net_tap: starting the port brings the kernel-side interface up (the PMD
// does it); giving that interface an address is left to whoever uses it
// (an operator, a test, tools/tandem run).

#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/packet/addresses.hpp"
#include "gateway/config/config.hpp"
#include "gateway/core/result.hpp"

struct rte_mempool;

namespace tandem::dataplane::io {

struct port_offloads {
    bool rx_ipv4_checksum = false;
    bool rx_udp_checksum = false;
    bool tx_ipv4_checksum = false;
    bool tx_udp_checksum = false;
};

class ethernet_port {
  public:
    // Finds the ethdev by device name (see device_name()), configures and
    // starts it, sets the link up. Fails loudly: unknown device, too many
    // queues for the device, an address that does not parse.
    static result<std::unique_ptr<ethernet_port>> open(const config::port_config& settings,
                                                       std::uint16_t tx_queues, rte_mempool* pool);
    ~ethernet_port();  // stops and closes the ethdev
    ethernet_port(const ethernet_port&) = delete;
    ethernet_port& operator=(const ethernet_port&) = delete;

    [[nodiscard]] std::uint16_t id() const { return id_; }
    [[nodiscard]] const std::string& name() const { return name_; }      // from the config ("media0")
    [[nodiscard]] const std::string& device() const { return device_; }  // "net_tap0,iface=..."
    [[nodiscard]] std::uint16_t rx_queues() const { return rx_queues_; }
    [[nodiscard]] std::uint16_t tx_queues() const { return tx_queues_; }
    [[nodiscard]] const packet::port_identity& identity() const { return identity_; }
    [[nodiscard]] std::uint8_t ipv4_prefix() const { return ipv4_prefix_; }
    [[nodiscard]] std::uint8_t ipv6_prefix() const { return ipv6_prefix_; }
    [[nodiscard]] const port_offloads& offloads() const { return offloads_; }
    [[nodiscard]] bool link_up() const;

    // Stops and closes now (the destructor then does nothing).
    void close();

  private:
    ethernet_port() = default;
    std::uint16_t id_ = 0;
    bool open_ = false;
    std::string name_;
    std::string device_;
    std::uint16_t rx_queues_ = 0;
    std::uint16_t tx_queues_ = 0;
    std::uint8_t ipv4_prefix_ = 0;
    std::uint8_t ipv6_prefix_ = 0;
    packet::port_identity identity_;
    port_offloads offloads_;
};

// Bytes of packet data an mbuf needs for `mtu` (Ethernet header, one VLAN
// tag and the FCS included), at least DPDK's default data room.
std::uint16_t mbuf_data_room_for(std::uint16_t mtu);

}  // namespace tandem::dataplane::io
