#pragma once
// The relay's contract between control and workers.
//
// Control (the ng thread, session_manager) decides what happens to packets
// that arrive on each local media port and describes it as a stream_rule.
// It never writes worker state: it pushes relay_command values into each
// worker's command ring, and the worker applies them between bursts
// (STYLE principle 2). Each worker owns a relay_table, a flat array indexed
// by local UDP port, so lookup is one bounds check and one load.
//
// A worker reports what only it can see (a peer address learned from the
// first packets, "latching") through its event ring; control folds those
// into the session and, for the other workers, into new commands.
//
// relay_udp() is the per-packet work for UDP to one of our addresses, on a
// plain byte span (no DPDK): look up the stream, check the source, learn,
// rewrite Ethernet/IP/UDP in place toward the destination, update stats.
// The worker side (relay_table, relay_udp, the relay counters' metric
// names) is declared in relay_table.hpp; this header stays free of it so
// control code includes only the contract.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dataplane/packet/addresses.hpp"
#include "dataplane/packet/classify.hpp"

namespace tandem::media {

// An IPv4 or IPv6 transport address; family 0 means "not known yet".
struct media_endpoint {
    std::uint8_t family = 0;                 // 0, 4 or 6
    std::array<std::uint8_t, 16> address{};  // IPv4 uses the first 4 bytes
    std::uint16_t port = 0;                  // host order

    [[nodiscard]] bool known() const { return family != 0 && port != 0; }
    friend bool operator==(const media_endpoint&, const media_endpoint&) = default;
};
std::optional<media_endpoint> make_endpoint(std::string_view address_text, std::uint16_t port);
std::string to_string(const media_endpoint& endpoint);  // "192.0.2.1:4000", "[2001:db8::1]:4000"

enum stream_flag : std::uint16_t {
    // Learn the peer from incoming packets (rtpengine's default; off with
    // "asymmetric"). The learned address becomes the sibling's destination.
    flag_learn = 1U << 0,
    // After learning (or from the SDP address when learning is off), drop
    // packets from any other source: RTP bleed defence.
    flag_strict_source = 1U << 1,
    // This port carries RTCP (RTP port + 1), or RTP and RTCP muxed.
    flag_rtcp = 1U << 2,
    flag_rtcp_mux = 1U << 3,
    // Receive and count, but do not forward (the other side said sendonly /
    // inactive toward us, or the stream is on hold).
    flag_blackhole = 1U << 4,
    // The receiver sees one continuous RTP stream whatever the sender does:
    // the first SSRC forwarded stays the SSRC on the wire, and when the
    // source changes (a re-INVITE moved the media, a phone restarted its
    // RTP) sequence numbers and timestamps carry on from the last forwarded
    // ones. RTCP SRs of the mapped sender get the same SSRC and timestamp
    // offset. rtpengine's "SSRC handling"; session_manager sets it unless
    // the ng flag "no-SSRC-continuity" is given.
    flag_ssrc_continuity = 1U << 5,
};

struct stream_rule {
    std::uint32_t stream_id = 0;     // control's id; 0 = free slot
    std::uint16_t local_port = 0;    // packets to any of our addresses on this port
    std::uint16_t egress_port = 0;   // forwarded from this local port (the sibling stream's)
    media_endpoint expected_source;  // the peer per SDP (strict-source before learning)
    media_endpoint destination;      // where forwarded packets go
    std::uint16_t flags = 0;
    std::uint32_t learning_window_ms = 3000;  // from the first packet; then the source locks
    // RTP timestamp clock of the payload (RFC 3551: 8000 for G.711, G.729 and
    // also G.722); jitter is measured in these units.
    std::uint32_t clock_rate_hz = 8000;
    // Bumped by control whenever the SDP moves this side's peer; echoed in
    // learned_source events so control can ignore one that was raised
    // before the move (a re-INVITE racing the first packets).
    std::uint32_t generation = 0;
    // Asymmetric rtcp-mux: this is a muxed RTP port (flag_rtcp_mux) and the
    // other side does not mux, so RTCP arriving here (RFC 5761: second byte
    // 192..223) leaves from the other side's RTCP port to its RTCP address
    // instead of egress_port/destination. 0: RTCP follows RTP.
    std::uint16_t rtcp_egress_port = 0;
    media_endpoint rtcp_destination;
};

struct relay_command {
    // set_destination sets rule.destination, set_rtcp_destination sets
    // rule.rtcp_destination, both of the stream rule.stream_id at rule.local_port.
    enum class kind : std::uint8_t {
        upsert,
        remove,
        set_destination,
        set_rtcp_destination
    } what = kind::upsert;
    stream_rule rule;  // remove uses rule.local_port and rule.stream_id
};

struct relay_event {
    enum class kind : std::uint8_t { learned_source } what = kind::learned_source;
    std::uint32_t stream_id = 0;
    std::uint16_t local_port = 0;
    std::uint32_t generation = 0;  // the rule's generation when the source was learned
    media_endpoint source;
};

// Per-stream statistics, written by one worker with relaxed stores and read
// by control at any time (query, delete, metrics).
struct stream_stats {
    std::atomic<std::uint64_t> packets{0};
    std::atomic<std::uint64_t> bytes{0};
    std::atomic<std::uint64_t> errors{0};  // dropped on this stream (source check, no destination, ...)
    std::atomic<std::int64_t> last_packet_ns{0};
    std::atomic<std::uint32_t> ssrc{0};
    std::atomic<std::uint64_t> rtp_expected{0};  // RFC 3550 A.3
    std::atomic<std::uint64_t> rtp_lost{0};
    std::atomic<std::uint32_t> jitter_ts{0};  // RFC 3550 A.8, timestamp units (RTP clock)
    // What the peer sending to this port reports in RTCP SR/RR about the
    // media it receives (the first report block, or the one about the SSRC
    // we forward to it), and the round trip between us and that peer from
    // LSR/DLSR against the SR we forwarded.
    std::atomic<std::uint64_t> rtcp_packets{0};
    std::atomic<std::uint32_t> remote_fraction_lost{0};  // 0..255, in 1/256
    std::atomic<std::int32_t> remote_packets_lost{0};    // cumulative, signed 24-bit
    std::atomic<std::uint32_t> remote_jitter_ts{0};
    std::atomic<std::uint32_t> rtt_us{0};  // 0 = not measured yet
    // Sources SSRC continuity mapped onto the stream's first SSRC.
    std::atomic<std::uint32_t> ssrc_changes{0};
};

struct stream_stats_snapshot {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    std::uint64_t errors = 0;
    std::int64_t last_packet_ns = 0;
    std::uint32_t ssrc = 0;
    std::uint64_t rtp_expected = 0;
    std::uint64_t rtp_lost = 0;
    std::uint32_t jitter_ts = 0;
    std::uint64_t rtcp_packets = 0;
    std::uint32_t remote_fraction_lost = 0;
    std::int32_t remote_packets_lost = 0;
    std::uint32_t remote_jitter_ts = 0;
    std::uint32_t rtt_us = 0;
    std::uint32_t ssrc_changes = 0;
};
// Relaxed loads of every field: safe from any thread while a worker writes.
stream_stats_snapshot snapshot(const stream_stats& stats);

// X(name, help): per-worker relay counters, each exported once.
#define TANDEM_RELAY_COUNTERS(X)                                                               \
    X(forwarded, "UDP media packets forwarded")                                                \
    X(dropped_no_stream, "UDP packets to a port with no media stream")                         \
    X(dropped_source, "packets from a source other than the locked peer (strict-source)")      \
    X(dropped_no_destination, "packets for a stream whose other side has no address yet")      \
    X(dropped_blackhole, "packets received on a stream that must not forward (hold/inactive)") \
    X(dropped_unresolved, "packets whose next hop has no neighbour entry yet")                 \
    X(dropped_family, "packets whose destination is of the other IP family")                   \
    X(dropped_malformed, "UDP packets too short or inconsistent to relay")

enum class relay_counter : std::uint8_t {
#define TANDEM_RELAY_COUNTER_ENUM(name, help) name,
    TANDEM_RELAY_COUNTERS(TANDEM_RELAY_COUNTER_ENUM)
#undef TANDEM_RELAY_COUNTER_ENUM
        count
};

// Where this data plane's port sits in its network: the next hop for
// destinations outside the port's subnets.
struct port_network {
    packet::port_identity identity;
    std::uint8_t ipv4_prefix = 24;
    std::optional<packet::ipv4_address> ipv4_gateway;
    std::uint8_t ipv6_prefix = 64;
    std::optional<packet::ipv6_address> ipv6_gateway;
};

}  // namespace tandem::media
