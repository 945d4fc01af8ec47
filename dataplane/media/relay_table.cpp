#include "dataplane/media/relay_table.hpp"

#include <algorithm>
#include <bit>

namespace tandem::media {

namespace {

void reset_stats(stream_stats& stats) {
    constexpr auto relaxed = std::memory_order_relaxed;
    stats.packets.store(0, relaxed);
    stats.bytes.store(0, relaxed);
    stats.errors.store(0, relaxed);
    stats.last_packet_ns.store(0, relaxed);
    stats.ssrc.store(0, relaxed);
    stats.rtp_expected.store(0, relaxed);
    stats.rtp_lost.store(0, relaxed);
    stats.jitter_ts.store(0, relaxed);
    stats.rtcp_packets.store(0, relaxed);
    stats.remote_fraction_lost.store(0, relaxed);
    stats.remote_packets_lost.store(0, relaxed);
    stats.remote_jitter_ts.store(0, relaxed);
    stats.rtt_us.store(0, relaxed);
    stats.ssrc_changes.store(0, relaxed);
}

// Everything but the rule, the published id and the statistics.
void reset_worker_state(relay_slot& stream) {
    stream.seen_first_packet = false;
    stream.first_packet_ns = 0;
    stream.learned_peer = media_endpoint{};
    stream.rtp = rtp_source_state{};
    stream.sender_reports = sender_report_history{};
    stream.rtcp_sender_ssrc = 0;
    stream.continuity = rtp_continuity_state{};
}

}  // namespace

relay_table::relay_table(relay_table_config config)
    : ports_(std::min<std::size_t>(config.ports, 65536)),
      slots_(std::make_unique<relay_slot[]>(ports_)),
      events_(std::bit_ceil(std::max<std::size_t>(config.event_capacity, 2))) {}

void relay_table::reject() {
    commands_rejected_.store(commands_rejected_.load(std::memory_order_relaxed) + 1,
                             std::memory_order_relaxed);
}

bool relay_table::apply(const relay_command& command) {
    const std::uint16_t port = command.rule.local_port;
    if (port >= ports_) {
        reject();
        return false;
    }
    relay_slot& stream = slots_[port];
    switch (command.what) {
        case relay_command::kind::upsert:
            if (command.rule.stream_id == 0) {
                break;
            }
            upsert(stream, command.rule);
            return true;
        case relay_command::kind::remove:
            if (!stream.in_use() || stream.rule.stream_id != command.rule.stream_id) {
                break;  // already gone, or the port went to a newer stream
            }
            release(stream);
            return true;
        case relay_command::kind::set_destination:
            if (!stream.in_use() || stream.rule.stream_id != command.rule.stream_id) {
                break;
            }
            stream.rule.destination = command.rule.destination;
            return true;
        case relay_command::kind::set_rtcp_destination:
            if (!stream.in_use() || stream.rule.stream_id != command.rule.stream_id) {
                break;
            }
            stream.rule.rtcp_destination = command.rule.rtcp_destination;
            return true;
    }
    reject();
    return false;
}

void relay_table::upsert(relay_slot& stream, const stream_rule& rule) {
    if (stream.rule.stream_id != rule.stream_id) {
        // The port changes hands: control must not read the old stream's
        // numbers under the new id (stats() re-checks the id; the fence
        // orders the 0 before the resets).
        stream.published_stream_id.store(0, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        reset_stats(stream.stats);
        reset_worker_state(stream);
        stream.rule = rule;
        stream.published_stream_id.store(rule.stream_id, std::memory_order_release);
        return;
    }
    // Same stream (a re-INVITE, a flag change): keep what was learned and
    // counted, and the SSRC continuity state (the receiver's view must go on
    // across the re-INVITE: that is its point). A destination control does not know yet is no reason to
    // forget the one learning gave us.
    const bool expected_changed = stream.rule.expected_source != rule.expected_source;
    const media_endpoint current_destination = stream.rule.destination;
    const media_endpoint current_rtcp_destination = stream.rule.rtcp_destination;
    stream.rule = rule;
    if (!rule.destination.known()) {
        stream.rule.destination = current_destination;
    }
    if (rule.rtcp_egress_port != 0 && !rule.rtcp_destination.known()) {
        stream.rule.rtcp_destination = current_rtcp_destination;
    }
    if (expected_changed) {
        stream.seen_first_packet = false;
        stream.first_packet_ns = 0;
        stream.learned_peer = media_endpoint{};
    }
}

void relay_table::release(relay_slot& stream) {
    stream.published_stream_id.store(0, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    reset_stats(stream.stats);
    reset_worker_state(stream);
    stream.rule = stream_rule{};
}

std::size_t relay_table::apply_all(spsc_ring<relay_command>& commands) {
    std::size_t taken = 0;
    for (const std::size_t limit = commands.capacity(); taken < limit; ++taken) {
        const auto command = commands.pop();
        if (!command) {
            break;
        }
        apply(*command);
    }
    return taken;
}

std::optional<stream_stats_snapshot> relay_table::stats(std::uint16_t local_port,
                                                        std::uint32_t stream_id) const {
    if (local_port >= ports_ || stream_id == 0) {
        return std::nullopt;
    }
    const relay_slot& stream = slots_[local_port];
    if (stream.published_stream_id.load(std::memory_order_acquire) != stream_id) {
        return std::nullopt;
    }
    const stream_stats_snapshot values = snapshot(stream.stats);
    // Seqlock-style re-check: the slot may have changed hands meanwhile.
    std::atomic_thread_fence(std::memory_order_acquire);
    if (stream.published_stream_id.load(std::memory_order_relaxed) != stream_id) {
        return std::nullopt;
    }
    return values;
}

relay_slot* relay_table::rtcp_sibling_of(const relay_slot& stream) {
    const stream_rule& rule = stream.rule;
    if (rule.rtcp_egress_port != 0) {
        // A muxed port whose RTCP goes to the other side's RTCP port.
        relay_slot* other = slot(rule.rtcp_egress_port);
        if (other == nullptr || other == &stream || other->rule.egress_port != rule.local_port) {
            return nullptr;
        }
        return other;
    }
    relay_slot* other = slot(rule.egress_port);
    if (other == nullptr || other == &stream ||
        (other->rule.egress_port != rule.local_port && other->rule.rtcp_egress_port != rule.local_port)) {
        return nullptr;
    }
    return other;
}

relay_slot* relay_table::rtp_companion_of(const relay_slot& stream) {
    const stream_rule& rule = stream.rule;
    if ((rule.flags & flag_rtcp) == 0 || rule.local_port == 0) {
        return nullptr;
    }
    relay_slot* rtp = slot(static_cast<std::uint16_t>(rule.local_port - 1));
    // Same pair: the RTP stream leaves from the port our RTCP leaves from, or
    // from the RTP port of that pair when the other side muxes.
    if (rtp == nullptr || (rtp->rule.flags & flag_rtcp) != 0 ||
        (rule.egress_port & ~std::uint16_t{1}) != rtp->rule.egress_port) {
        return nullptr;
    }
    return rtp;
}

relay_slot* relay_table::sibling_of(const relay_slot& stream) {
    relay_slot* other = slot(stream.rule.egress_port);
    if (other == nullptr || other == &stream || other->rule.egress_port != stream.rule.local_port) {
        return nullptr;
    }
    return other;
}

void relay_table::report_learned(const relay_slot& stream) {
    relay_event event;
    event.what = relay_event::kind::learned_source;
    event.stream_id = stream.rule.stream_id;
    event.local_port = stream.rule.local_port;
    event.generation = stream.rule.generation;
    event.source = stream.learned_peer;
    if (!events_.push(event)) {
        events_dropped_.store(events_dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
}

}  // namespace tandem::media
