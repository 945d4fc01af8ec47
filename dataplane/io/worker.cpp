#include "dataplane/io/worker.hpp"

#include <algorithm>
#include <chrono>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "dataplane/packet/respond.hpp"

namespace tandem::dataplane::io {

namespace {

// What a frame of each verdict costs us if it is not answered.
constexpr worker_counter drop_reason(packet::verdict kind) {
    using packet::verdict;
    switch (kind) {
        case verdict::not_for_us:
            return worker_counter::dropped_not_for_us;
        case verdict::malformed:
            return worker_counter::dropped_malformed;
        case verdict::arp_reply:
            return worker_counter::arp_replies_learned;
        case verdict::other_for_us:
            return worker_counter::dropped_other_for_us;
        case verdict::fragment_for_us:
            return worker_counter::dropped_fragment;
        case verdict::udp_for_us:
            return worker_counter::dropped_udp_no_relay;
        case verdict::arp_request_for_us:
        case verdict::icmp_echo_for_us:
        case verdict::icmpv6_echo_for_us:
        case verdict::neighbor_solicitation_for_us:
            return worker_counter::dropped_reply_failed;
        case verdict::unsupported:
            break;
    }
    return worker_counter::dropped_unsupported;
}

constexpr worker_counter reply_counter(packet::verdict kind) {
    using packet::verdict;
    switch (kind) {
        case verdict::arp_request_for_us:
            return worker_counter::arp_replies;
        case verdict::icmp_echo_for_us:
            return worker_counter::icmp_echo_replies;
        case verdict::icmpv6_echo_for_us:
            return worker_counter::icmpv6_echo_replies;
        default:
            return worker_counter::neighbor_advertisements;
    }
}

constexpr bool has_reply(packet::verdict kind) {
    using packet::verdict;
    return kind == verdict::arp_request_for_us || kind == verdict::icmp_echo_for_us ||
           kind == verdict::icmpv6_echo_for_us || kind == verdict::neighbor_solicitation_for_us;
}

}  // namespace

worker::worker(worker_settings settings, metrics::worker_counters& counters, const std::atomic<bool>& quit)
    : settings_(std::move(settings)), counters_(counters), quit_(quit), backoff_(settings_.polling) {
    settings_.burst_size = std::clamp<std::uint16_t>(settings_.burst_size, 1, max_burst);
}

std::uint16_t worker::poll(const worker_queue& queue) {
    const std::uint16_t received =
        rte_eth_rx_burst(queue.port_id, queue.rx_queue, received_.data(), settings_.burst_size);
    if (received == 0) {
        return 0;
    }
    count(worker_counter::rx_packets, received);

    // One clock read per burst: CLOCK_MONOTONIC through the vDSO, the same
    // clock the control thread's timeouts use.
    const std::int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::steady_clock::now().time_since_epoch())
                                    .count();
    std::uint16_t reply_count = 0;
    std::uint16_t drop_count = 0;
    for (std::uint16_t i = 0; i < received; ++i) {
        rte_mbuf* mbuf = received_[i];
        if (mbuf->nb_segs != 1) {
            count(worker_counter::dropped_multi_segment);
            drops_[drop_count++] = mbuf;
            continue;
        }
        auto* data = rte_pktmbuf_mtod(mbuf, std::uint8_t*);
        const std::size_t length = rte_pktmbuf_data_len(mbuf);
        const auto what = packet::classify(std::span<const std::uint8_t>(data, length), queue.identity);
        if (what.kind == packet::verdict::udp_for_us && settings_.relay.table != nullptr) {
            if (!relay(mbuf, queue, what, now_ns, reply_count)) {
                drops_[drop_count++] = mbuf;
            }
            continue;
        }
        if (what.kind == packet::verdict::arp_reply || what.kind == packet::verdict::arp_request_for_us ||
            what.kind == packet::verdict::neighbor_solicitation_for_us ||
            what.kind == packet::verdict::other_for_us) {
            // Neighbours announce themselves in ARP and ND; learning costs
            // one short parse and saves a solicitation later.
            neighbours_.learn_from_frame(std::span<const std::uint8_t>(data, length), now_ns);
            if (what.kind == packet::verdict::arp_reply) {
                count(worker_counter::arp_replies_learned);
                drops_[drop_count++] = mbuf;
                continue;
            }
        }
        if (has_reply(what.kind)) {
            // The whole buffer after the frame is usable: a neighbour
            // advertisement may be longer than the solicitation.
            const std::size_t room = length + rte_pktmbuf_tailroom(mbuf);
            const std::size_t reply =
                packet::respond(std::span<std::uint8_t>(data, room), length, what, queue.identity);
            if (reply != 0) {
                mbuf->data_len = static_cast<std::uint16_t>(reply);
                mbuf->pkt_len = static_cast<std::uint32_t>(reply);
                count(reply_counter(what.kind));
                replies_[reply_count++] = mbuf;
                continue;
            }
        }
        count(drop_reason(what.kind));
        drops_[drop_count++] = mbuf;
    }

    if (reply_count != 0) {
        const auto tx_queue = static_cast<std::uint16_t>(settings_.index);
        const std::uint16_t sent = rte_eth_tx_burst(queue.port_id, tx_queue, replies_.data(), reply_count);
        count(worker_counter::tx_packets, sent);
        if (sent < reply_count) {
            count(worker_counter::dropped_tx_full, reply_count - sent);
            rte_pktmbuf_free_bulk(replies_.data() + sent, reply_count - sent);
        }
    }
    if (drop_count != 0) {
        rte_pktmbuf_free_bulk(drops_.data(), drop_count);
    }
    return received;
}

bool worker::relay(rte_mbuf* mbuf, const worker_queue& queue, const packet::classification& what,
                   std::int64_t now_ns, std::uint16_t& tx_count) {
    auto* data = rte_pktmbuf_mtod(mbuf, std::uint8_t*);
    const std::size_t length = rte_pktmbuf_data_len(mbuf);
    const auto& binding = settings_.relay;
    const auto result = media::relay_udp(
        *binding.table, neighbours_, queue.network, std::span<std::uint8_t>(data, length), what, now_ns,
        media::relay_counters{binding.counters, settings_.index, 0},
        queue.checksum_offload ? media::checksum_mode::offload : media::checksum_mode::software);
    if (result.forwarded()) {
        mbuf->data_len = static_cast<std::uint16_t>(result.frame_length);
        mbuf->pkt_len = static_cast<std::uint32_t>(result.frame_length);
        if (queue.checksum_offload) {
            mbuf->l2_len = result.l3_offset;
            mbuf->l3_len = static_cast<std::uint16_t>(result.l4_offset - result.l3_offset);
            mbuf->ol_flags =
                result.family == 4 ? (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM) : RTE_MBUF_F_TX_IPV6;
            if (result.udp_checksum) {
                mbuf->ol_flags |= RTE_MBUF_F_TX_UDP_CKSUM;
            }
        }
        count(worker_counter::relayed_bytes, result.frame_length - result.l4_offset - 8);
        replies_[tx_count++] = mbuf;
        return true;
    }
    if (result.needs_resolution() && result.solicit && binding.pool != nullptr) {
        // The datagram is lost either way (no queueing on a worker); ask for
        // the next hop so the following ones get through.
        rte_mbuf* request = rte_pktmbuf_alloc(binding.pool);
        if (request != nullptr) {
            auto* out = rte_pktmbuf_mtod(request, std::uint8_t*);
            const std::size_t room = rte_pktmbuf_tailroom(request);
            const std::size_t built = media::build_solicitation_into(std::span<std::uint8_t>(out, room),
                                                                     queue.network, result.next_hop);
            if (built != 0) {
                request->data_len = static_cast<std::uint16_t>(built);
                request->pkt_len = static_cast<std::uint32_t>(built);
                replies_[tx_count++] = request;
                count(worker_counter::solicitations);
            } else {
                rte_pktmbuf_free(request);
            }
        }
    }
    return false;
}

void worker::apply_commands() {
    auto& ring = *settings_.relay.commands;
    auto& table = *settings_.relay.table;
    std::int64_t now_ns = 0;
    // At most one ring's worth, so a producer that keeps pushing cannot hold the worker.
    for (std::size_t taken = 0; taken < ring.capacity(); ++taken) {
        const auto command = ring.pop();
        if (!command) {
            break;
        }
        table.apply(*command);
        if (command->what != media::relay_command::kind::remove && command->rule.destination.known() &&
            !settings_.queues.empty()) {
            if (now_ns == 0) {
                now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
            }
            prepare_next_hop(settings_.queues.front(), command->rule.destination, now_ns);
        }
    }
}

void worker::prepare_next_hop(const worker_queue& queue, const media::media_endpoint& destination,
                              std::int64_t now_ns) {
    const auto hop = media::next_hop(queue.network, media::ip_address::of(destination));
    if (settings_.relay.pool == nullptr || neighbours_.lookup(hop, now_ns) ||
        !neighbours_.should_solicit(hop, now_ns)) {
        return;
    }
    rte_mbuf* request = rte_pktmbuf_alloc(settings_.relay.pool);
    if (request == nullptr) {
        return;
    }
    auto* out = rte_pktmbuf_mtod(request, std::uint8_t*);
    const std::size_t built = media::build_solicitation_into(
        std::span<std::uint8_t>(out, rte_pktmbuf_tailroom(request)), queue.network, hop);
    if (built == 0) {
        rte_pktmbuf_free(request);
        return;
    }
    request->data_len = static_cast<std::uint16_t>(built);
    request->pkt_len = static_cast<std::uint32_t>(built);
    if (rte_eth_tx_burst(queue.port_id, static_cast<std::uint16_t>(settings_.index), &request, 1) == 1) {
        count(worker_counter::solicitations);
        count(worker_counter::tx_packets);
    } else {
        count(worker_counter::dropped_tx_full);
        rte_pktmbuf_free(request);
    }
}

std::uint32_t worker::poll_all() {
    if (settings_.relay.commands != nullptr) {
        apply_commands();
    }
    std::uint32_t received = 0;
    for (const auto& queue : settings_.queues) {
        received += poll(queue);
    }
    return received;
}

void worker::run() {
    while (!quit_.load(std::memory_order_relaxed)) {
        if (poll_all() != 0) {
            backoff_.on_work();
            continue;
        }
        const idle_action action = backoff_.on_empty();
        if (action.what == idle_action::kind::pause) {
            rte_pause();
        } else if (action.what == idle_action::kind::sleep) {
            count(worker_counter::idle_sleeps);
            rte_delay_us_sleep(action.sleep_us);
        }
    }
}

int worker::launch(void* self) {
    static_cast<worker*>(self)->run();
    return 0;
}

}  // namespace tandem::dataplane::io
