#pragma once
// RTP and RTCP accounting for one relayed stream, on the worker that owns
// it. RTP: RFC 3550 appendix A.1 sequence validation (probation, 16-bit
// wrap cycles, resync after a large jump), A.3 expected/lost and A.8
// interarrival jitter in the payload's RTP clock units. RTCP: SR/RR report
// blocks of a compound packet (RFC 3550 6.4), plus the sender-report
// timestamps the relay needs to measure the round trip to a peer.
//
// The parsers are total (any bytes) and bounded (a compound packet is walked
// at most max_rtcp_packets times); they never allocate. Results go into the
// stream's stream_stats with relaxed stores, so control reads them at any
// time. Cost per RTP packet: a 12-byte parse, a few integer operations and
// ~5 relaxed stores.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "dataplane/media/relay.hpp"

namespace tandem::media {

inline constexpr std::size_t rtp_header_size = 12;
inline constexpr std::size_t max_rtcp_packets = 16;

struct rtp_header_view {
    std::uint8_t payload_type = 0;
    bool marker = false;
    std::uint16_t sequence = 0;
    std::uint32_t timestamp = 0;
    std::uint32_t ssrc = 0;
};
// Version 2 and room for the fixed header and CSRC list; nullopt otherwise.
std::optional<rtp_header_view> parse_rtp(std::span<const std::uint8_t> payload);

// RFC 5761 4: on a port carrying both, the second byte 192..223 (RTCP packet
// types 200..204 and friends, RTP payload types 64..95 with the marker set)
// means RTCP.
bool looks_like_rtcp(std::span<const std::uint8_t> payload);

struct rtcp_report_block {
    std::uint32_t ssrc = 0;            // the source this block is about
    std::uint8_t fraction_lost = 0;    // in 1/256 since the previous report
    std::int32_t cumulative_lost = 0;  // signed 24-bit
    std::uint32_t extended_highest_sequence = 0;
    std::uint32_t jitter_ts = 0;
    std::uint32_t last_sr = 0;              // middle 32 bits of the NTP time of the last SR received
    std::uint32_t delay_since_last_sr = 0;  // in 1/65536 s
};

struct rtcp_summary {
    std::uint32_t packets = 0;      // RTCP packets in the compound packet
    std::uint32_t sender_ssrc = 0;  // of the first SR/RR
    bool has_sender_report = false;
    std::uint32_t sr_ntp_middle = 0;  // middle 32 bits of the SR's NTP timestamp
    bool has_report_block = false;
    rtcp_report_block block;  // the preferred report block (see parse_rtcp)
};

// Walks a compound packet. A packet that is not version 2, whose type is
// outside RTCP's 192..223, or whose length field overruns the datagram ends
// the walk; what was read before stays. The report block chosen is the one about
// `preferred_ssrc` when present, else the first. nullopt when not even one
// RTCP header is valid.
std::optional<rtcp_summary> parse_rtcp(std::span<const std::uint8_t> payload,
                                       std::optional<std::uint32_t> preferred_ssrc = std::nullopt);

// Worker-private RFC 3550 A.1 state of the stream's current sender, plus
// the totals of the senders it had before (an SSRC change starts a new
// source: the earlier one's expected/lost are kept in the totals).
struct rtp_source_state {
    bool active = false;
    std::uint32_t ssrc = 0;
    std::uint16_t max_sequence = 0;
    std::uint64_t cycles = 0;  // count of wraps << 16
    std::uint32_t base_sequence = 0;
    std::uint32_t bad_sequence = 0;
    std::uint32_t probation = 0;
    std::uint64_t received = 0;
    bool have_transit = false;
    std::int64_t origin_ns = 0;  // arrival time origin for the RTP-clock conversion
    std::uint32_t last_transit = 0;
    std::uint64_t jitter_q4 = 0;  // jitter * 16 (A.8 integer form)
    std::uint64_t prior_expected = 0;
    std::uint64_t prior_lost = 0;
};

// Accounts one RTP packet that arrived at `arrival_ns`; publishes ssrc,
// rtp_expected, rtp_lost and jitter_ts into `stats`.
void rtp_receive(rtp_source_state& state, const rtp_header_view& header, std::int64_t arrival_ns,
                 std::uint32_t clock_rate_hz, stream_stats& stats);

// Expected and lost of the current source (A.3), without the prior totals.
struct rtp_counts {
    std::uint64_t expected = 0;
    std::uint64_t lost = 0;
};
rtp_counts rtp_current_counts(const rtp_source_state& state);

// The last few sender reports that passed through a stream, so an RR coming
// back on the sibling stream can be matched by its LSR field.
struct sender_report_history {
    struct sent {
        std::uint32_t ntp_middle = 0;
        std::int64_t seen_ns = 0;
    };
    std::array<sent, 4> recent{};
    std::uint8_t next = 0;

    void record(std::uint32_t ntp_middle, std::int64_t seen_ns);
    // When the SR with this LSR was seen; nullopt for 0 or an unknown LSR.
    [[nodiscard]] std::optional<std::int64_t> seen_at(std::uint32_t last_sr) const;
};

// Elapsed wall time in RTP clock units, modulo 2^32 (only differences
// matter); 0 for a negative or zero interval.
std::uint32_t to_rtp_units(std::int64_t elapsed_ns, std::uint32_t clock_rate_hz);

// SSRC continuity (stream_flag flag_ssrc_continuity): the worker-private
// state that keeps what one stream sends its receiver continuous across
// source changes. Each source is mapped by an offset on sequence number and
// timestamp and by the stream's output SSRC (the first one forwarded). Two
// sources are remembered, the current one and the one before it, so late
// packets of the old source after a switch (older than the newest it had
// sent) keep their old mapping instead of flipping the offsets back and
// forth; a newer one means that source is back and it is mapped afresh.
struct rtp_source_mapping {
    bool valid = false;
    std::uint32_t input_ssrc = 0;
    std::uint16_t sequence_offset = 0;
    std::uint32_t timestamp_offset = 0;
    std::uint16_t newest_sequence = 0;  // the newest this source had forwarded, as sent
};

struct rtp_continuity_state {
    bool active = false;  // an RTP packet was forwarded
    std::uint32_t output_ssrc = 0;
    rtp_source_mapping current;
    rtp_source_mapping previous;
    // The newest packet forwarded, as the receiver saw it.
    std::uint16_t last_sequence = 0;
    std::uint32_t last_timestamp = 0;
    std::int64_t last_forwarded_ns = 0;
    // The packets' usual timestamp increment: a difference between
    // consecutive sequence numbers seen twice in a row. 0: not known yet.
    std::uint32_t timestamp_step = 0;
    std::uint32_t step_candidate = 0;
    std::uint32_t source_changes = 0;
};

struct rtp_rewrite {
    std::uint32_t ssrc = 0;
    std::uint16_t sequence = 0;
    std::uint32_t timestamp = 0;
    [[nodiscard]] bool changes(const rtp_header_view& header) const {
        return ssrc != header.ssrc || sequence != header.sequence || timestamp != header.timestamp;
    }
};

// Maps one RTP packet about to be forwarded at `now_ns` and records it as
// the newest when it is. The first source passes unchanged; a new SSRC (or
// the old one coming back after another) is given offsets so that its first
// packet follows the last forwarded one: sequence + 1, timestamp + the
// elapsed wall time in `clock_rate_hz` units, rounded to the usual step (at
// least one step). Constant time, no allocation.
rtp_rewrite rtp_continuity_map(rtp_continuity_state& state, const rtp_header_view& header,
                               std::int64_t now_ns, std::uint32_t clock_rate_hz);

// The mapping of `ssrc` if it is the current or previous source; nullopt
// for any other SSRC (an SR of a sender whose RTP was not forwarded yet).
std::optional<rtp_source_mapping> rtp_continuity_lookup(const rtp_continuity_state& state,
                                                        std::uint32_t ssrc);

// Publishes rtcp_packets and the block's fraction lost, cumulative lost and
// jitter into `stats`; when the block's LSR matches an SR recorded in
// `reverse_reports` (the SRs that went *to* this peer), also the round trip:
// now - SR seen - DLSR.
void rtcp_receive(const rtcp_summary& summary, std::int64_t now_ns,
                  const sender_report_history* reverse_reports, stream_stats& stats);

}  // namespace tandem::media
