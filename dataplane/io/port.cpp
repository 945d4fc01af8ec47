#include "dataplane/io/port.hpp"

#include <algorithm>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "dataplane/io/eal.hpp"

namespace tandem::dataplane::io {

namespace {

std::string describe(int code) {
    return rte_strerror(code < 0 ? -code : code);
}

}  // namespace

std::uint16_t mbuf_data_room_for(std::uint16_t mtu) {
    const unsigned frame = static_cast<unsigned>(mtu) + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN + 4;
    return static_cast<std::uint16_t>(
        std::max<unsigned>(RTE_MBUF_DEFAULT_BUF_SIZE, frame + RTE_PKTMBUF_HEADROOM));
}

result<std::unique_ptr<ethernet_port>> ethernet_port::open(const config::port_config& settings,
                                                           std::uint16_t tx_queues, rte_mempool* pool) {
    const std::string where = "port " + settings.name + " (" + settings.device + "): ";
    std::unique_ptr<ethernet_port> port(new ethernet_port());
    port->name_ = settings.name;
    port->device_ = settings.device;
    port->rx_queues_ = settings.rx_queues;
    port->tx_queues_ = tx_queues;
    port->ipv4_prefix_ = settings.ipv4_prefix;
    port->ipv6_prefix_ = settings.ipv6_prefix;

    const auto ipv4 = packet::parse_ipv4_address(settings.ipv4);
    if (!ipv4) {
        return make_error(where + "ipv4 '" + settings.ipv4 + "' is not an IPv4 address");
    }
    port->identity_.ipv4 = *ipv4;
    if (!settings.ipv6.empty()) {
        const auto ipv6 = packet::parse_ipv6_address(settings.ipv6);
        if (!ipv6) {
            return make_error(where + "ipv6 '" + settings.ipv6 + "' is not an IPv6 address");
        }
        port->identity_.ipv6 = *ipv6;
    }

    const std::string ethdev = device_name(settings.device);
    std::uint16_t id = 0;
    if (rte_eth_dev_get_port_by_name(ethdev.c_str(), &id) != 0) {
        return make_error(where + "no such ethdev '" + ethdev +
                          "' (a virtual device needs a name starting with net_, a PCI NIC must be in "
                          "dataplane.eal.pci_allow and bound to a DPDK driver)");
    }
    port->id_ = id;

    rte_eth_dev_info info{};
    if (const int rc = rte_eth_dev_info_get(id, &info); rc != 0) {
        return make_error(where + "cannot read device info: " + describe(rc));
    }
    if (settings.rx_queues > info.max_rx_queues || tx_queues > info.max_tx_queues) {
        return make_error(where + "needs " + std::to_string(settings.rx_queues) + " rx and " +
                          std::to_string(tx_queues) + " tx queues (one per worker), the device has " +
                          std::to_string(info.max_rx_queues) + " rx and " +
                          std::to_string(info.max_tx_queues));
    }

    rte_eth_conf conf{};
    conf.rxmode.mtu = settings.mtu;
    if (settings.rx_queues > 1) {
        const std::uint64_t wanted = RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP;
        if ((info.flow_type_rss_offloads & wanted) != 0) {
            conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
            conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & wanted;
        }
    }
    // Checksum offloads: rx flags tell the media code a checksum was
    // verified; tx offload lets it skip the UDP checksum of relayed RTP.
    auto& offloads = port->offloads_;
    offloads.rx_ipv4_checksum = (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) != 0;
    offloads.rx_udp_checksum = (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_UDP_CKSUM) != 0;
    offloads.tx_ipv4_checksum = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
    offloads.tx_udp_checksum = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) != 0;
    conf.rxmode.offloads = (offloads.rx_ipv4_checksum ? RTE_ETH_RX_OFFLOAD_IPV4_CKSUM : 0) |
                           (offloads.rx_udp_checksum ? RTE_ETH_RX_OFFLOAD_UDP_CKSUM : 0);
    conf.txmode.offloads = (offloads.tx_ipv4_checksum ? RTE_ETH_TX_OFFLOAD_IPV4_CKSUM : 0) |
                           (offloads.tx_udp_checksum ? RTE_ETH_TX_OFFLOAD_UDP_CKSUM : 0);

    if (const int rc = rte_eth_dev_configure(id, settings.rx_queues, tx_queues, &conf); rc != 0) {
        return make_error(where + "rte_eth_dev_configure failed: " + describe(rc));
    }
    port->open_ = true;  // from here on the destructor closes the ethdev

    std::uint16_t rx_descriptors = settings.rx_descriptors;
    std::uint16_t tx_descriptors = settings.tx_descriptors;
    if (const int rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &rx_descriptors, &tx_descriptors); rc != 0) {
        return make_error(where + "descriptor counts refused: " + describe(rc));
    }
    const int socket = rte_eth_dev_socket_id(id);
    const unsigned socket_id = socket < 0 ? SOCKET_ID_ANY : static_cast<unsigned>(socket);
    rte_eth_rxconf rxconf = info.default_rxconf;
    rxconf.offloads = conf.rxmode.offloads;
    for (std::uint16_t queue = 0; queue < settings.rx_queues; ++queue) {
        if (const int rc = rte_eth_rx_queue_setup(id, queue, rx_descriptors, socket_id, &rxconf, pool);
            rc != 0) {
            return make_error(where + "rx queue " + std::to_string(queue) + " setup failed: " + describe(rc));
        }
    }
    rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    for (std::uint16_t queue = 0; queue < tx_queues; ++queue) {
        if (const int rc = rte_eth_tx_queue_setup(id, queue, tx_descriptors, socket_id, &txconf); rc != 0) {
            return make_error(where + "tx queue " + std::to_string(queue) + " setup failed: " + describe(rc));
        }
    }

    rte_ether_addr mac{};
    if (const int rc = rte_eth_macaddr_get(id, &mac); rc != 0) {
        return make_error(where + "cannot read the MAC address: " + describe(rc));
    }
    if (!rte_is_valid_assigned_ether_addr(&mac)) {
        // Some virtual devices (net_ring built from rings) come with an
        // all-zero MAC, which no peer would accept in an ARP reply: pick a
        // random locally administered one. A PMD that cannot change its
        // MAC (-ENOTSUP) does not filter on it either.
        rte_eth_random_addr(mac.addr_bytes);
        (void)rte_eth_dev_default_mac_addr_set(id, &mac);
    }
    std::copy(std::begin(mac.addr_bytes), std::end(mac.addr_bytes), port->identity_.mac.begin());

    if (const int rc = rte_eth_dev_start(id); rc != 0) {
        return make_error(where + "rte_eth_dev_start failed: " + describe(rc));
    }
    // Solicited-node multicast for IPv6 neighbour discovery; a device
    // without multicast filtering delivers it anyway.
    if (port->identity_.ipv6) {
        (void)rte_eth_allmulticast_enable(id);
    }
    // Not every PMD implements link control (-ENOTSUP): the link is then
    // whatever the device reports.
    (void)rte_eth_dev_set_link_up(id);
    return port;
}

bool ethernet_port::link_up() const {
    rte_eth_link link{};
    if (!open_ || rte_eth_link_get_nowait(id_, &link) != 0) {
        return false;
    }
    return link.link_status == RTE_ETH_LINK_UP;
}

void ethernet_port::close() {
    if (!open_) {
        return;
    }
    open_ = false;
    (void)rte_eth_dev_stop(id_);
    (void)rte_eth_dev_close(id_);
}

ethernet_port::~ethernet_port() {
    close();
}

}  // namespace tandem::dataplane::io
