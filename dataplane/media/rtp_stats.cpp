#include "dataplane/media/rtp_stats.hpp"

#include <algorithm>
#include <limits>

#include "dataplane/packet/bytes.hpp"

namespace tandem::media {

namespace {

// RFC 3550 A.1 constants.
constexpr std::uint32_t rtp_sequence_mod = 1U << 16;
constexpr std::uint16_t max_dropout = 3000;
constexpr std::uint32_t max_misorder = 100;
constexpr std::uint32_t min_sequential = 2;

constexpr std::uint8_t rtcp_sender_report = 200;
constexpr std::uint8_t rtcp_receiver_report = 201;
constexpr std::size_t rtcp_header_size = 8;  // V/P/RC, PT, length, SSRC
constexpr std::size_t rtcp_sender_info_size = 20;
constexpr std::size_t rtcp_report_block_size = 24;

template <typename T>
void relaxed_store(std::atomic<T>& target, T value) {
    target.store(value, std::memory_order_relaxed);
}

void init_sequence(rtp_source_state& state, std::uint16_t sequence) {
    state.base_sequence = sequence;
    state.max_sequence = sequence;
    state.bad_sequence = rtp_sequence_mod + 1;  // so sequence == bad_sequence is false
    state.cycles = 0;
    state.received = 0;
}

void fold_into_prior(rtp_source_state& state) {
    const rtp_counts counts = rtp_current_counts(state);
    state.prior_expected += counts.expected;
    state.prior_lost += counts.lost;
}

// RFC 3550 A.1 update_seq(): true when the packet counts as received.
bool update_sequence(rtp_source_state& state, std::uint16_t sequence) {
    const auto delta = static_cast<std::uint16_t>(sequence - state.max_sequence);
    if (state.probation > 0) {
        if (sequence == static_cast<std::uint16_t>(state.max_sequence + 1)) {
            --state.probation;
            state.max_sequence = sequence;
            if (state.probation == 0) {
                init_sequence(state, sequence);
                ++state.received;
                return true;
            }
        } else {
            state.probation = min_sequential - 1;
            state.max_sequence = sequence;
        }
        return false;
    }
    if (delta < max_dropout) {
        if (sequence < state.max_sequence) {
            state.cycles += rtp_sequence_mod;  // wrapped
        }
        state.max_sequence = sequence;
    } else if (delta <= rtp_sequence_mod - max_misorder) {
        if (sequence != state.bad_sequence) {
            state.bad_sequence = (sequence + 1U) & (rtp_sequence_mod - 1);
            return false;
        }
        // Two sequential packets after a big jump: the sender restarted.
        fold_into_prior(state);
        init_sequence(state, sequence);
    }
    // else: duplicate or reordered, counted as received (A.1).
    ++state.received;
    return true;
}

void publish(const rtp_source_state& state, stream_stats& stats) {
    const rtp_counts counts = rtp_current_counts(state);
    relaxed_store(stats.rtp_expected, state.prior_expected + counts.expected);
    relaxed_store(stats.rtp_lost, state.prior_lost + counts.lost);
    relaxed_store(stats.jitter_ts, static_cast<std::uint32_t>(std::min<std::uint64_t>(
                                       state.jitter_q4 >> 4, std::numeric_limits<std::uint32_t>::max())));
}

rtcp_report_block read_report_block(std::span<const std::uint8_t> bytes, std::size_t offset) {
    rtcp_report_block block;
    block.ssrc = packet::load_be32(bytes, offset);
    const std::uint32_t lost_word = packet::load_be32(bytes, offset + 4);
    block.fraction_lost = static_cast<std::uint8_t>(lost_word >> 24);
    const std::uint32_t lost24 = lost_word & 0x00ffffffU;
    block.cumulative_lost = (lost24 & 0x00800000U) != 0 ? static_cast<std::int32_t>(lost24) - 0x01000000
                                                        : static_cast<std::int32_t>(lost24);
    block.extended_highest_sequence = packet::load_be32(bytes, offset + 8);
    block.jitter_ts = packet::load_be32(bytes, offset + 12);
    block.last_sr = packet::load_be32(bytes, offset + 16);
    block.delay_since_last_sr = packet::load_be32(bytes, offset + 20);
    return block;
}

// Steps up to this long (a quarter second of media) count as a packet's
// usual increment; longer gaps are silence suppression or a pause.
constexpr std::uint32_t max_step_fraction_of_second = 4;

}  // namespace

// Split into seconds and the rest so nothing overflows 64 bits for any clock
// rate and any stream age.
std::uint32_t to_rtp_units(std::int64_t elapsed_ns, std::uint32_t clock_rate_hz) {
    if (elapsed_ns <= 0) {
        return 0;
    }
    const auto elapsed = static_cast<std::uint64_t>(elapsed_ns);
    constexpr std::uint64_t ns_per_s = 1'000'000'000;
    const std::uint64_t units =
        (elapsed / ns_per_s) * clock_rate_hz + (elapsed % ns_per_s) * clock_rate_hz / ns_per_s;
    return static_cast<std::uint32_t>(units);
}

std::optional<rtp_header_view> parse_rtp(std::span<const std::uint8_t> payload) {
    if (payload.size() < rtp_header_size || (payload[0] >> 6) != 2) {
        return std::nullopt;
    }
    const std::size_t csrc_count = payload[0] & 0x0f;
    if (payload.size() < rtp_header_size + 4 * csrc_count) {
        return std::nullopt;
    }
    rtp_header_view header;
    header.marker = (payload[1] & 0x80) != 0;
    header.payload_type = payload[1] & 0x7f;
    header.sequence = packet::load_be16(payload, 2);
    header.timestamp = packet::load_be32(payload, 4);
    header.ssrc = packet::load_be32(payload, 8);
    return header;
}

bool looks_like_rtcp(std::span<const std::uint8_t> payload) {
    return payload.size() >= 2 && payload[1] >= 192 && payload[1] <= 223;
}

std::optional<rtcp_summary> parse_rtcp(std::span<const std::uint8_t> payload,
                                       std::optional<std::uint32_t> preferred_ssrc) {
    rtcp_summary summary;
    bool preferred_found = false;
    std::size_t offset = 0;
    // Each step advances at least 4 bytes and there are at most
    // max_rtcp_packets steps: bounded on any input.
    for (std::size_t n = 0; n < max_rtcp_packets && offset + 4 <= payload.size(); ++n) {
        // Version 2 and a packet type in RTCP's range (RFC 5761 4): no
        // RTP packet on an RTCP port is mistaken for a report.
        if ((payload[offset] >> 6) != 2 || payload[offset + 1] < 192 || payload[offset + 1] > 223) {
            break;
        }
        const std::size_t report_count = payload[offset] & 0x1f;
        const std::uint8_t type = payload[offset + 1];
        const std::size_t size = (static_cast<std::size_t>(packet::load_be16(payload, offset + 2)) + 1) * 4;
        if (size > payload.size() - offset) {
            break;
        }
        const auto rtcp = payload.subspan(offset, size);
        std::size_t blocks_at = 0;
        if (type == rtcp_sender_report && rtcp.size() >= rtcp_header_size + rtcp_sender_info_size) {
            const std::uint32_t ntp_seconds = packet::load_be32(rtcp, 8);
            const std::uint32_t ntp_fraction = packet::load_be32(rtcp, 12);
            if (!summary.has_sender_report) {
                summary.has_sender_report = true;
                summary.sr_ntp_middle = (ntp_seconds << 16) | (ntp_fraction >> 16);
            }
            blocks_at = rtcp_header_size + rtcp_sender_info_size;
        } else if (type == rtcp_receiver_report && rtcp.size() >= rtcp_header_size) {
            blocks_at = rtcp_header_size;
        }
        if (blocks_at != 0) {
            if (summary.packets == 0 || summary.sender_ssrc == 0) {
                summary.sender_ssrc = packet::load_be32(rtcp, 4);
            }
            for (std::size_t i = 0; i < report_count && blocks_at + rtcp_report_block_size <= rtcp.size();
                 ++i) {
                const rtcp_report_block block = read_report_block(rtcp, blocks_at);
                blocks_at += rtcp_report_block_size;
                const bool is_preferred = preferred_ssrc && block.ssrc == *preferred_ssrc;
                if ((!summary.has_report_block || is_preferred) && !preferred_found) {
                    summary.block = block;
                    summary.has_report_block = true;
                    preferred_found = is_preferred;
                }
            }
        }
        ++summary.packets;
        offset += size;
    }
    if (summary.packets == 0) {
        return std::nullopt;
    }
    return summary;
}

rtp_counts rtp_current_counts(const rtp_source_state& state) {
    if (!state.active || state.probation > 0) {
        return {};
    }
    const std::uint64_t extended_max = std::uint64_t{state.cycles} + state.max_sequence;
    rtp_counts counts;
    counts.expected = extended_max + 1 - state.base_sequence;
    counts.lost = counts.expected > state.received ? counts.expected - state.received : 0;
    return counts;
}

void rtp_receive(rtp_source_state& state, const rtp_header_view& header, std::int64_t arrival_ns,
                 std::uint32_t clock_rate_hz, stream_stats& stats) {
    if (!state.active || header.ssrc != state.ssrc) {
        if (state.active) {
            fold_into_prior(state);
        }
        const std::uint64_t prior_expected = state.prior_expected;
        const std::uint64_t prior_lost = state.prior_lost;
        state = rtp_source_state{};
        state.prior_expected = prior_expected;
        state.prior_lost = prior_lost;
        state.active = true;
        state.ssrc = header.ssrc;
        state.origin_ns = arrival_ns;
        init_sequence(state, header.sequence);
        state.max_sequence = static_cast<std::uint16_t>(header.sequence - 1);
        state.probation = min_sequential;
        relaxed_store(stats.ssrc, header.ssrc);
    }
    if (update_sequence(state, header.sequence)) {
        // A.8: transit time in RTP units; only its changes matter, so the
        // arrival clock's origin is the source's first packet.
        const std::uint32_t arrival = to_rtp_units(arrival_ns - state.origin_ns, clock_rate_hz);
        const std::uint32_t transit = arrival - header.timestamp;
        if (state.have_transit) {
            const auto difference = static_cast<std::int32_t>(transit - state.last_transit);
            const std::uint64_t d =
                difference < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(std::int64_t{difference})
                               : static_cast<std::uint64_t>(difference);
            state.jitter_q4 = state.jitter_q4 + d - ((state.jitter_q4 + 8) >> 4);
        }
        state.last_transit = transit;
        state.have_transit = true;
    }
    publish(state, stats);
}

void sender_report_history::record(std::uint32_t ntp_middle, std::int64_t seen_ns) {
    recent[next % recent.size()] = sent{ntp_middle, seen_ns};
    next = static_cast<std::uint8_t>((next + 1) % recent.size());
}

std::optional<std::int64_t> sender_report_history::seen_at(std::uint32_t last_sr) const {
    if (last_sr == 0) {
        return std::nullopt;  // RFC 3550 6.4.1: no SR received yet
    }
    for (const sent& s : recent) {
        if (s.seen_ns != 0 && s.ntp_middle == last_sr) {
            return s.seen_ns;
        }
    }
    return std::nullopt;
}

void rtcp_receive(const rtcp_summary& summary, std::int64_t now_ns,
                  const sender_report_history* reverse_reports, stream_stats& stats) {
    relaxed_store(stats.rtcp_packets, stats.rtcp_packets.load(std::memory_order_relaxed) + summary.packets);
    if (!summary.has_report_block) {
        return;
    }
    const rtcp_report_block& block = summary.block;
    relaxed_store(stats.remote_fraction_lost, std::uint32_t{block.fraction_lost});
    relaxed_store(stats.remote_packets_lost, block.cumulative_lost);
    relaxed_store(stats.remote_jitter_ts, block.jitter_ts);
    if (reverse_reports == nullptr) {
        return;
    }
    const auto seen = reverse_reports->seen_at(block.last_sr);
    if (!seen) {
        return;
    }
    const auto delay_ns =
        static_cast<std::int64_t>(std::uint64_t{block.delay_since_last_sr} * 1'000'000'000ULL / 65536);
    const std::int64_t rtt_ns = now_ns - *seen - delay_ns;
    if (rtt_ns < 0) {
        return;  // a peer's clock or a stale LSR: no measurement beats a wrong one
    }
    relaxed_store(stats.rtt_us, static_cast<std::uint32_t>(std::min<std::int64_t>(
                                    rtt_ns / 1000, std::numeric_limits<std::uint32_t>::max())));
}

// ---------------------------------------------------------------------------
// SSRC continuity. Cost per forwarded RTP packet: two SSRC compares, a
// 16-bit and a 32-bit add, and a handful of stores; a source change adds one
// 64-bit division (to_rtp_units) and one for the rounding.

namespace {

bool is_ahead(std::uint16_t sequence, std::uint16_t than) {
    return static_cast<std::int16_t>(static_cast<std::uint16_t>(sequence - than)) > 0;
}

rtp_rewrite apply_mapping(const rtp_continuity_state& state, const rtp_source_mapping& mapping,
                          const rtp_header_view& header) {
    rtp_rewrite out;
    out.ssrc = state.output_ssrc;
    out.sequence = static_cast<std::uint16_t>(header.sequence + mapping.sequence_offset);
    out.timestamp = header.timestamp + mapping.timestamp_offset;
    return out;
}

// Takes `mapped` as the newest packet when it is ahead of the last one
// (RFC 1982 style on 16 bits), and learns the usual timestamp step.
void record_forwarded(rtp_continuity_state& state, const rtp_rewrite& mapped, std::int64_t now_ns,
                      std::uint32_t clock_rate_hz) {
    if (is_ahead(mapped.sequence, state.current.newest_sequence)) {
        state.current.newest_sequence = mapped.sequence;
    }
    if (!is_ahead(mapped.sequence, state.last_sequence)) {
        return;  // a reordered or duplicate packet: the newest stays the newest
    }
    if (mapped.sequence == static_cast<std::uint16_t>(state.last_sequence + 1)) {
        const std::uint32_t step = mapped.timestamp - state.last_timestamp;
        const std::uint32_t max_step = clock_rate_hz / max_step_fraction_of_second;
        if (step != 0 && step <= max_step) {
            // Two equal steps in a row: a DTMF event's repeated timestamp or
            // one talkspurt's first packet does not teach a wrong step.
            if (step == state.step_candidate) {
                state.timestamp_step = step;
            }
            state.step_candidate = step;
        }
    }
    state.last_sequence = mapped.sequence;
    state.last_timestamp = mapped.timestamp;
    state.last_forwarded_ns = now_ns;
}

}  // namespace

rtp_rewrite rtp_continuity_map(rtp_continuity_state& state, const rtp_header_view& header,
                               std::int64_t now_ns, std::uint32_t clock_rate_hz) {
    const std::uint32_t rate = clock_rate_hz != 0 ? clock_rate_hz : 8000;
    if (!state.active) {
        state.active = true;
        state.output_ssrc = header.ssrc;
        state.current = rtp_source_mapping{true, header.ssrc, 0, 0, header.sequence};
        state.previous = rtp_source_mapping{};
        state.last_sequence = header.sequence;
        state.last_timestamp = header.timestamp;
        state.last_forwarded_ns = now_ns;
        return rtp_rewrite{header.ssrc, header.sequence, header.timestamp};
    }
    if (header.ssrc == state.current.input_ssrc) {
        const rtp_rewrite out = apply_mapping(state, state.current, header);
        record_forwarded(state, out, now_ns, rate);
        return out;
    }
    if (state.previous.valid && header.ssrc == state.previous.input_ssrc) {
        // A late packet of the source before the switch, older than the
        // newest it had sent: under its old mapping it lands behind, where
        // it belongs. A newer one means that source is back for good.
        const rtp_rewrite late = apply_mapping(state, state.previous, header);
        if (!is_ahead(late.sequence, state.previous.newest_sequence)) {
            return late;
        }
    }
    // A new source (or the previous one returning): continue from the
    // newest packet the receiver has.
    std::uint32_t advance = to_rtp_units(now_ns - state.last_forwarded_ns, rate);
    if (state.timestamp_step != 0) {
        const std::uint32_t step = state.timestamp_step;
        advance = std::max(step, (advance + step / 2) / step * step);
    } else if (advance == 0) {
        advance = 1;  // never the same timestamp for a new packet
    }
    rtp_source_mapping mapping;
    mapping.valid = true;
    mapping.input_ssrc = header.ssrc;
    mapping.sequence_offset = static_cast<std::uint16_t>(state.last_sequence + 1U - header.sequence);
    mapping.timestamp_offset = state.last_timestamp + advance - header.timestamp;
    mapping.newest_sequence = static_cast<std::uint16_t>(state.last_sequence + 1U);
    state.previous = state.current;
    state.current = mapping;
    ++state.source_changes;
    const rtp_rewrite out = apply_mapping(state, mapping, header);
    record_forwarded(state, out, now_ns, rate);
    return out;
}

std::optional<rtp_source_mapping> rtp_continuity_lookup(const rtp_continuity_state& state,
                                                        std::uint32_t ssrc) {
    if (!state.active) {
        return std::nullopt;
    }
    if (state.current.valid && state.current.input_ssrc == ssrc) {
        return state.current;
    }
    if (state.previous.valid && state.previous.input_ssrc == ssrc) {
        return state.previous;
    }
    return std::nullopt;
}

}  // namespace tandem::media
