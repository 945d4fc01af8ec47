#pragma once
// The worker side of the relay. A relay_table belongs to one worker lcore:
// a flat array of slots indexed by local UDP port (lookup is one bounds
// check and one load), filled only by relay_command values the worker
// applies between bursts (apply_all), and read by control only through the
// stats atomics (stats()). Learned peers go back to control through the
// table's event ring; a full ring is counted, never waited on.
//
// relay_udp() is the per-packet function: it checks the source, learns,
// updates the stream's statistics and rewrites the frame in place
// (Ethernet, IPv4/IPv6, UDP) toward the destination. It does not allocate,
// log, throw or lock. Every packet it does not forward increments exactly
// one TANDEM_RELAY_COUNTERS counter and, when a stream was found, that
// stream's `errors`. Cost per forwarded packet: one slot load, two header
// parses, ~40 byte writes, a 20-byte IPv4 header checksum and a constant-time
// incremental UDP checksum update, plus the RTP accounting (rtp_stats.hpp).
// SSRC continuity (flag_ssrc_continuity) adds, per RTP packet, two compares
// and two adds, and when the source changed, up to 10 byte writes folded
// into the same incremental checksum; per RTCP packet, a walk of the
// compound packet's headers (at most max_rtcp_packets) rewriting an SR's
// SSRC and timestamp. Asymmetric rtcp-mux costs one more branch.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "dataplane/media/neighbour_table.hpp"
#include "dataplane/media/relay.hpp"
#include "dataplane/media/rtp_stats.hpp"
#include "dataplane/media/spsc_ring.hpp"
#include "dataplane/packet/classify.hpp"
#include "gateway/metrics/worker_counters.hpp"

namespace tandem::media {

inline constexpr std::size_t relay_counter_count = static_cast<std::size_t>(relay_counter::count);

// Names and help text of TANDEM_RELAY_COUNTERS for metrics::worker_counters
// ("tandem_relay_forwarded_total", ...), in relay_counter order.
inline constexpr std::array<metrics::counter_spec, relay_counter_count> relay_counter_specs{{
#define TANDEM_RELAY_COUNTER_SPEC(name, help) {"tandem_relay_" #name "_total", help, false},
    TANDEM_RELAY_COUNTERS(TANDEM_RELAY_COUNTER_SPEC)
#undef TANDEM_RELAY_COUNTER_SPEC
}};

// Where relay_udp counts: one worker's block of relay counters inside a
// metrics::worker_counters whose specs contain relay_counter_specs starting
// at `first_counter`. A null `counters` counts nothing.
struct relay_counters {
    metrics::worker_counters* counters = nullptr;
    std::size_t worker = 0;
    std::size_t first_counter = 0;

    void add(relay_counter which) const {
        if (counters != nullptr) {
            counters->add(worker, first_counter + static_cast<std::size_t>(which));
        }
    }
};

// One local port's stream and the worker-private state that goes with it.
struct relay_slot {
    stream_rule rule;  // rule.stream_id == 0: free
    // rule.stream_id as control may read it (stats()); 0 while the slot changes hands.
    std::atomic<std::uint32_t> published_stream_id{0};
    // Learning: the first packet's time starts the window; the peer follows
    // the newest source until the window closes.
    bool seen_first_packet = false;
    std::int64_t first_packet_ns = 0;
    media_endpoint learned_peer;
    rtp_source_state rtp;
    sender_report_history sender_reports;  // SRs that arrived here (and went to the sibling's peer)
    std::uint32_t rtcp_sender_ssrc = 0;    // as forwarded (after SSRC continuity)
    rtp_continuity_state continuity;       // flag_ssrc_continuity
    stream_stats stats;

    [[nodiscard]] bool in_use() const { return rule.stream_id != 0; }
};

struct relay_table_config {
    std::size_t ports = 65536;          // slots: the highest local port + 1 is enough
    std::size_t event_capacity = 1024;  // power of two
};

class relay_table {
  public:
    explicit relay_table(relay_table_config config = {});

    // Applies one command. upsert of a new stream_id resets the slot; of the
    // same stream_id (a re-INVITE) keeps learned state, statistics and SSRC
    // continuity, and restarts learning only when expected_source changed.
    // remove, set_destination and set_rtcp_destination act only when
    // stream_id matches the slot's. False
    // (counted in commands_rejected) for a port outside the table, a
    // stream_id 0 upsert or a stream_id that does not match.
    bool apply(const relay_command& command);
    // Drains the ring between bursts; at most one ring's worth, so a
    // producer that keeps pushing cannot hold the worker. Returns how many
    // commands were taken.
    std::size_t apply_all(spsc_ring<relay_command>& commands);

    // Any thread. nullopt when the port does not hold `stream_id`.
    [[nodiscard]] std::optional<stream_stats_snapshot> stats(std::uint16_t local_port,
                                                             std::uint32_t stream_id) const;

    // Worker side.
    [[nodiscard]] relay_slot* slot(std::uint16_t local_port) {
        return local_port < ports_ && slots_[local_port].in_use() ? &slots_[local_port] : nullptr;
    }
    [[nodiscard]] const relay_slot* slot(std::uint16_t local_port) const {
        return local_port < ports_ && slots_[local_port].in_use() ? &slots_[local_port] : nullptr;
    }
    // The stream the other way: at our egress port, sending from our port.
    [[nodiscard]] relay_slot* sibling_of(const relay_slot& stream);
    // The stream that carries RTCP the other way, toward this stream's
    // peer: sibling_of, except with asymmetric rtcp-mux, where one end is a
    // muxed RTP port and the other an RTCP port (rtcp_egress_port).
    [[nodiscard]] relay_slot* rtcp_sibling_of(const relay_slot& stream);
    // For an RTCP port (flag_rtcp, local port P+1), the RTP stream of the
    // same pair (P) whose SSRC continuity the SRs follow; nullptr when P is
    // not that stream. Ports come in pairs, RTP even, RTCP odd.
    [[nodiscard]] relay_slot* rtp_companion_of(const relay_slot& stream);
    // Queues a learned_source event; counts it when the ring is full.
    void report_learned(const relay_slot& stream);

    // Control side: learned_source events, and what went wrong.
    [[nodiscard]] spsc_ring<relay_event>& events() { return events_; }
    [[nodiscard]] std::uint64_t events_dropped() const {
        return events_dropped_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t commands_rejected() const {
        return commands_rejected_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::size_t ports() const { return ports_; }

  private:
    void upsert(relay_slot& stream, const stream_rule& rule);
    void release(relay_slot& stream);
    void reject();

    std::size_t ports_;
    std::unique_ptr<relay_slot[]> slots_;
    spsc_ring<relay_event> events_;
    std::atomic<std::uint64_t> events_dropped_{0};
    std::atomic<std::uint64_t> commands_rejected_{0};
};

// software: the IPv4 header checksum is recomputed and the UDP checksum
// updated incrementally (RFC 1624), so a payload corrupted on the way in
// stays detectably corrupt. offload: the NIC computes both; the IPv4 header
// checksum is left 0 and the UDP field holds the pseudo-header sum, as
// DPDK's tx checksum offload expects (io sets the mbuf flags from
// relay_result::udp_checksum and the offsets).
enum class checksum_mode : std::uint8_t { software, offload };

struct relay_result {
    // forwarded, or the counter that was incremented for the drop.
    relay_counter verdict = relay_counter::dropped_malformed;
    // forwarded: the rewritten frame's length (Ethernet padding dropped).
    std::size_t frame_length = 0;
    std::uint16_t l3_offset = 0;
    std::uint16_t l4_offset = 0;
    std::uint8_t family = 0;    // 4 or 6
    bool udp_checksum = false;  // false: IPv4 datagram sent without a UDP checksum
    // dropped_unresolved: the next hop to resolve, and whether the rate
    // limiter lets the io layer send an ARP request / neighbour solicitation
    // now (build_solicitation_into).
    ip_address next_hop;
    bool solicit = false;

    [[nodiscard]] bool forwarded() const { return verdict == relay_counter::forwarded; }
    [[nodiscard]] bool needs_resolution() const { return verdict == relay_counter::dropped_unresolved; }
};

// `frame` is the received frame (the whole mbuf data area is fine: the
// result's frame_length says how much to send); `what` is its
// classification, udp_for_us expected (anything else: dropped_malformed).
relay_result relay_udp(relay_table& table, neighbour_table& neighbours, const port_network& network,
                       std::span<std::uint8_t> frame, const packet::classification& what, std::int64_t now_ns,
                       relay_counters counters, checksum_mode checksums = checksum_mode::software);

}  // namespace tandem::media
