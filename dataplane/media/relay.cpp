#include "dataplane/media/relay.hpp"

#include <algorithm>

#include "dataplane/media/relay_table.hpp"
#include "dataplane/packet/bytes.hpp"
#include "dataplane/packet/headers.hpp"

namespace tandem::media {

std::optional<media_endpoint> make_endpoint(std::string_view address_text, std::uint16_t port) {
    media_endpoint endpoint;
    endpoint.port = port;
    if (const auto v4 = packet::parse_ipv4_address(address_text)) {
        endpoint.family = 4;
        std::copy(v4->begin(), v4->end(), endpoint.address.begin());
        return endpoint;
    }
    if (address_text.size() >= 2 && address_text.front() == '[' && address_text.back() == ']') {
        address_text = address_text.substr(1, address_text.size() - 2);
    }
    if (const auto v6 = packet::parse_ipv6_address(address_text)) {
        endpoint.family = 6;
        endpoint.address = *v6;
        return endpoint;
    }
    return std::nullopt;
}

std::string to_string(const media_endpoint& endpoint) {
    if (endpoint.family == 4) {
        packet::ipv4_address v4{};
        std::copy_n(endpoint.address.begin(), v4.size(), v4.begin());
        return packet::to_string(v4) + ":" + std::to_string(endpoint.port);
    }
    if (endpoint.family == 6) {
        return "[" + packet::to_string(endpoint.address) + "]:" + std::to_string(endpoint.port);
    }
    return "unknown";
}

stream_stats_snapshot snapshot(const stream_stats& stats) {
    constexpr auto relaxed = std::memory_order_relaxed;
    stream_stats_snapshot out;
    out.packets = stats.packets.load(relaxed);
    out.bytes = stats.bytes.load(relaxed);
    out.errors = stats.errors.load(relaxed);
    out.last_packet_ns = stats.last_packet_ns.load(relaxed);
    out.ssrc = stats.ssrc.load(relaxed);
    out.rtp_expected = stats.rtp_expected.load(relaxed);
    out.rtp_lost = stats.rtp_lost.load(relaxed);
    out.jitter_ts = stats.jitter_ts.load(relaxed);
    out.rtcp_packets = stats.rtcp_packets.load(relaxed);
    out.remote_fraction_lost = stats.remote_fraction_lost.load(relaxed);
    out.remote_packets_lost = stats.remote_packets_lost.load(relaxed);
    out.remote_jitter_ts = stats.remote_jitter_ts.load(relaxed);
    out.rtt_us = stats.rtt_us.load(relaxed);
    out.ssrc_changes = stats.ssrc_changes.load(relaxed);
    return out;
}

// ---------------------------------------------------------------------------
// relay_udp: the per-packet path. Nothing below allocates, logs or throws.

namespace {

constexpr std::uint8_t forwarded_ttl = 64;
constexpr std::uint16_t ipv4_checksum_offset = 10;
constexpr std::uint16_t udp_checksum_offset = 6;

template <typename T>
void add_relaxed(std::atomic<T>& target, T amount) {
    target.store(target.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
}

std::uint16_t fold(std::uint32_t sum) {
    while ((sum >> 16) != 0) {
        sum = (sum & 0xffffU) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(sum);
}

// The fields a forwarded packet changes that the UDP checksum covers: the
// pseudo-header addresses and the two ports (the length does not change).
struct checksummed_fields {
    std::array<std::uint8_t, 16> source{};
    std::array<std::uint8_t, 16> destination{};
    std::size_t address_size = 4;
    std::array<std::uint8_t, 4> ports{};

    [[nodiscard]] std::uint16_t sum() const {
        std::uint32_t total = packet::checksum_add(std::span(source).first(address_size));
        total = packet::checksum_add(std::span(destination).first(address_size), total);
        return fold(packet::checksum_add(ports, total));
    }
};

checksummed_fields read_fields(std::span<const std::uint8_t> frame, std::size_t address_at,
                               std::size_t address_size, std::size_t l4) {
    checksummed_fields fields;
    fields.address_size = address_size;
    std::copy_n(frame.begin() + static_cast<std::ptrdiff_t>(address_at), address_size, fields.source.begin());
    std::copy_n(frame.begin() + static_cast<std::ptrdiff_t>(address_at + address_size), address_size,
                fields.destination.begin());
    std::copy_n(frame.begin() + static_cast<std::ptrdiff_t>(l4), 4, fields.ports.begin());
    return fields;
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), with m and m' the one's
// complement sums of every changed word.
// `payload_delta` carries the same ~m + m' terms for payload words SSRC
// continuity rewrote (payload_patch).
std::uint16_t incremental_checksum(std::uint16_t old_checksum, const checksummed_fields& before,
                                   const checksummed_fields& after, std::uint32_t payload_delta) {
    const std::uint32_t total = static_cast<std::uint16_t>(~old_checksum) +
                                static_cast<std::uint32_t>(static_cast<std::uint16_t>(~before.sum())) +
                                after.sum() + fold(payload_delta);
    const std::uint16_t updated = packet::checksum_finish(total);
    return updated == 0 ? 0xffff : updated;  // 0 means "no checksum" in UDP
}

struct packet_view {
    std::uint8_t family = 0;
    std::size_t l3 = 0;
    std::size_t l4 = 0;
    std::size_t ip_end = 0;      // l3 + the IP packet's length: the frame without padding
    std::size_t address_at = 0;  // source address; destination follows
    std::size_t address_size = 0;
    std::size_t ipv4_header_size = 0;
    packet::udp_header udp{};
};

// Re-checks what the classifier said against the buffer itself, so a wrong
// or stale classification cannot make the rewrite write out of bounds.
std::optional<packet_view> view_packet(std::span<const std::uint8_t> frame,
                                       const packet::classification& what) {
    if (what.kind != packet::verdict::udp_for_us) {
        return std::nullopt;
    }
    packet_view view;
    view.l3 = what.l3_offset;
    view.l4 = what.l4_offset;
    const std::size_t l4_length = what.l4_length;
    if (view.l3 < packet::ethernet_header_size || view.l3 >= frame.size() || view.l4 < view.l3 ||
        view.l4 > frame.size() || l4_length > frame.size() - view.l4) {
        return std::nullopt;
    }
    const auto ip_bytes = frame.subspan(view.l3);
    const std::uint8_t version = ip_bytes[0] >> 4;
    if (version == 4) {
        const auto ip = packet::parse_ipv4(ip_bytes);
        if (!ip || ip->protocol != packet::ip_protocol_udp || ip->fragment ||
            view.l4 != view.l3 + ip->header_size || ip->total_length - ip->header_size != l4_length) {
            return std::nullopt;
        }
        view.family = 4;
        view.ip_end = view.l3 + ip->total_length;
        view.address_at = view.l3 + 12;
        view.address_size = 4;
        view.ipv4_header_size = ip->header_size;
    } else if (version == 6) {
        const auto ip = packet::parse_ipv6(ip_bytes);
        if (!ip || ip->next_header != packet::ip_protocol_udp ||
            view.l4 != view.l3 + packet::ipv6_header_size || ip->payload_length != l4_length) {
            return std::nullopt;
        }
        view.family = 6;
        view.ip_end = view.l4 + l4_length;
        view.address_at = view.l3 + 8;
        view.address_size = 16;
    } else {
        return std::nullopt;
    }
    const auto udp = packet::parse_udp(frame.subspan(view.l4, l4_length));
    if (!udp) {
        return std::nullopt;
    }
    view.udp = *udp;
    return view;
}

media_endpoint source_of(std::span<const std::uint8_t> frame, const packet_view& view) {
    media_endpoint source;
    source.family = view.family;
    std::copy_n(frame.begin() + static_cast<std::ptrdiff_t>(view.address_at), view.address_size,
                source.address.begin());
    source.port = view.udp.source_port;
    return source;
}

// Learning moved this stream's peer: every stream that sends toward that
// peer follows at once on this worker, without waiting for control's round
// trip (control tells the other workers, session_manager::poll).
void steer_toward(relay_table& table, const relay_slot& stream, const media_endpoint& source) {
    const stream_rule& rule = stream.rule;
    if (relay_slot* sibling = table.sibling_of(stream)) {
        sibling->rule.destination = source;
    } else if (relay_slot* muxed = table.slot(rule.egress_port);
               muxed != nullptr && muxed != &stream && muxed->rule.rtcp_egress_port == rule.local_port) {
        // Our RTCP port faces a muxed side: its RTCP comes to us through
        // the rule's RTCP destination.
        muxed->rule.rtcp_destination = source;
    }
    if ((rule.flags & flag_rtcp_mux) != 0) {
        // A muxed peer takes its RTCP on its RTP address too, also from the
        // other side's RTCP port.
        relay_slot* rtcp = table.slot(static_cast<std::uint16_t>(rule.egress_port + 1));
        if (rtcp != nullptr && rtcp != &stream && (rtcp->rule.flags & flag_rtcp) != 0 &&
            rtcp->rule.egress_port == rule.local_port) {
            rtcp->rule.destination = source;
        }
    }
}

// Learning and the source check. Returns false when the packet must be
// dropped as coming from the wrong source. `may_learn` is false for RTCP on
// a muxed port: it comes from the same peer as the RTP, and an RTCP-only
// sender must not move where RTP goes.
bool accept_source(relay_table& table, relay_slot& stream, const media_endpoint& source, std::int64_t now_ns,
                   bool may_learn) {
    const stream_rule& rule = stream.rule;
    media_endpoint peer = rule.expected_source;
    bool locked = peer.known();
    if ((rule.flags & flag_learn) != 0) {
        const std::int64_t window_ns = std::int64_t{rule.learning_window_ms} * 1'000'000;
        if (may_learn) {
            if (!stream.seen_first_packet) {
                stream.seen_first_packet = true;
                stream.first_packet_ns = now_ns;
            }
            const bool in_window =
                !stream.learned_peer.known() || now_ns - stream.first_packet_ns < window_ns;
            if (in_window && stream.learned_peer != source) {
                stream.learned_peer = source;
                table.report_learned(stream);
                steer_toward(table, stream, source);
            }
        }
        peer = stream.learned_peer;
        locked = stream.learned_peer.known() && now_ns - stream.first_packet_ns >= window_ns;
    }
    if ((rule.flags & flag_strict_source) != 0 && locked && source != peer) {
        return false;
    }
    return true;
}

// Statistics of one accepted packet. Returns the RTP header when the
// packet is RTP, for SSRC continuity.
std::optional<rtp_header_view> account(relay_table& table, relay_slot& stream,
                                       std::span<const std::uint8_t> payload, bool rtcp,
                                       std::int64_t now_ns) {
    stream_stats& stats = stream.stats;
    add_relaxed(stats.packets, std::uint64_t{1});
    add_relaxed(stats.bytes, static_cast<std::uint64_t>(payload.size()));
    stats.last_packet_ns.store(now_ns, std::memory_order_relaxed);

    if (!rtcp) {
        const auto header = parse_rtp(payload);
        if (header) {
            const std::uint32_t clock_rate =
                stream.rule.clock_rate_hz != 0 ? stream.rule.clock_rate_hz : 8000;
            rtp_receive(stream.rtp, *header, now_ns, clock_rate, stats);
        }
        return header;
    }
    const relay_slot* sibling = table.rtcp_sibling_of(stream);
    std::optional<std::uint32_t> preferred;
    if (sibling != nullptr) {
        // The block worth keeping is the one about what we send this peer:
        // the SSRC as forwarded, after SSRC continuity.
        if (sibling->continuity.active) {
            preferred = sibling->continuity.output_ssrc;
        } else if (sibling->rtp.active) {
            preferred = sibling->rtp.ssrc;
        } else if (sibling->rtcp_sender_ssrc != 0) {
            preferred = sibling->rtcp_sender_ssrc;
        }
    }
    const auto summary = parse_rtcp(payload, preferred);
    if (!summary) {
        return std::nullopt;
    }
    if (summary->has_sender_report) {
        stream.sender_reports.record(summary->sr_ntp_middle, now_ns);
    }
    if (summary->sender_ssrc != 0) {
        stream.rtcp_sender_ssrc = summary->sender_ssrc;
    }
    rtcp_receive(*summary, now_ns, sibling != nullptr ? &sibling->sender_reports : nullptr, stats);
    return std::nullopt;
}

// Payload rewrites for SSRC continuity. Each changed 16-bit word adds
// ~old + new to `delta`, the RFC 1624 terms the UDP checksum update needs;
// every field rewritten sits at an even offset from the UDP header.
struct payload_patch {
    std::span<std::uint8_t> bytes;
    std::uint32_t delta = 0;

    void put16(std::size_t offset, std::uint16_t value) {
        const std::uint16_t old = packet::load_be16(bytes, offset);
        if (old != value) {
            packet::store_be16(bytes, offset, value);
            delta += static_cast<std::uint16_t>(~old);
            delta += value;
        }
    }
    void put32(std::size_t offset, std::uint32_t value) {
        put16(offset, static_cast<std::uint16_t>(value >> 16));
        put16(offset + 2, static_cast<std::uint16_t>(value));
    }
};

constexpr std::uint8_t rtcp_type_sender_report = 200;
constexpr std::uint8_t rtcp_type_source_description = 202;
constexpr std::size_t rtcp_sender_report_size = 28;  // header, sender SSRC, sender info

// RTP: SSRC, sequence number and timestamp as the receiver's one stream.
std::uint32_t continue_rtp(relay_slot& stream, std::span<std::uint8_t> payload, const rtp_header_view& header,
                           std::int64_t now_ns) {
    const std::uint32_t changes_before = stream.continuity.source_changes;
    const rtp_rewrite mapped =
        rtp_continuity_map(stream.continuity, header, now_ns, stream.rule.clock_rate_hz);
    if (stream.continuity.source_changes != changes_before) {
        stream.stats.ssrc_changes.store(stream.continuity.source_changes, std::memory_order_relaxed);
    }
    if (!mapped.changes(header)) {
        return 0;
    }
    payload_patch patch{payload};
    patch.put16(2, mapped.sequence);
    patch.put32(4, mapped.timestamp);
    patch.put32(8, mapped.ssrc);
    return patch.delta;
}

// RTCP: the SSRC of SRs (and of the first SDES chunk) from a mapped source
// becomes the output SSRC, and the SR's RTP timestamp takes the same offset
// as the RTP, so the receiver's lip sync and RTT still line up. Walks the
// compound packet as parse_rtcp does: bounded by max_rtcp_packets.
std::uint32_t continue_rtcp(relay_table& table, relay_slot& stream, std::span<std::uint8_t> payload) {
    const relay_slot* rtp = (stream.rule.flags & flag_rtcp) != 0 ? table.rtp_companion_of(stream) : &stream;
    if (rtp == nullptr || (rtp->rule.flags & flag_ssrc_continuity) == 0 || !rtp->continuity.active) {
        return 0;
    }
    const rtp_continuity_state& continuity = rtp->continuity;
    payload_patch patch{payload};
    std::size_t offset = 0;
    for (std::size_t n = 0; n < max_rtcp_packets && offset + 8 <= payload.size(); ++n) {
        const std::uint8_t type = payload[offset + 1];
        if ((payload[offset] >> 6) != 2 || type < 192 || type > 223) {
            break;
        }
        const std::size_t size = (static_cast<std::size_t>(packet::load_be16(payload, offset + 2)) + 1) * 4;
        if (size > payload.size() - offset) {
            break;
        }
        const bool sender_report = type == rtcp_type_sender_report && size >= rtcp_sender_report_size;
        // Both read the SSRC word after the header: only inside this packet.
        const bool sdes = type == rtcp_type_source_description && (payload[offset] & 0x1f) != 0 && size >= 8;
        if (sender_report || sdes) {
            const std::uint32_t ssrc = packet::load_be32(payload, offset + 4);
            if (const auto mapping = rtp_continuity_lookup(continuity, ssrc)) {
                patch.put32(offset + 4, continuity.output_ssrc);
                if (sender_report) {
                    const std::uint32_t timestamp = packet::load_be32(payload, offset + 16);
                    patch.put32(offset + 16, timestamp + mapping->timestamp_offset);
                    stream.rtcp_sender_ssrc = continuity.output_ssrc;
                }
            }
        }
        offset += size;
    }
    return patch.delta;
}

template <std::size_t N>
void put(std::span<std::uint8_t> frame, std::size_t offset, const std::array<std::uint8_t, N>& value,
         std::size_t count = N) {
    std::copy_n(value.begin(), count, frame.begin() + static_cast<std::ptrdiff_t>(offset));
}

void rewrite(std::span<std::uint8_t> frame, const packet_view& view, const port_network& network,
             const packet::mac_address& next_hop_mac, std::uint16_t egress_port,
             const media_endpoint& destination, std::uint32_t payload_delta, checksum_mode checksums,
             relay_result& result) {
    const checksummed_fields before = read_fields(frame, view.address_at, view.address_size, view.l4);

    put(frame, 0, next_hop_mac);
    put(frame, 6, network.identity.mac);
    if (view.family == 4) {
        put(frame, view.address_at, network.identity.ipv4);
        put(frame, view.address_at + 4, destination.address, 4);
        frame[view.l3 + 8] = forwarded_ttl;
        const auto header = frame.subspan(view.l3, view.ipv4_header_size);
        packet::store_be16(header, ipv4_checksum_offset, 0);
        if (checksums == checksum_mode::software) {
            packet::store_be16(header, ipv4_checksum_offset,
                               packet::checksum_finish(packet::checksum_add(header)));
        }
    } else {
        put(frame, view.address_at, *network.identity.ipv6);
        put(frame, view.address_at + 16, destination.address);
        frame[view.l3 + 7] = forwarded_ttl;
    }
    const auto udp = frame.subspan(view.l4, view.udp.length);
    packet::store_be16(udp, 0, egress_port);
    packet::store_be16(udp, 2, destination.port);

    const std::uint16_t old_checksum = packet::load_be16(udp, udp_checksum_offset);
    result.udp_checksum = !(view.family == 4 && old_checksum == 0);
    if (!result.udp_checksum) {
        return;  // IPv4 sender chose no checksum: forwarding one would cost a full pass for nothing
    }
    const checksummed_fields after = read_fields(frame, view.address_at, view.address_size, view.l4);
    const std::span<const std::uint8_t> source_address = std::span(after.source).first(view.address_size);
    const std::span<const std::uint8_t> destination_address =
        std::span(after.destination).first(view.address_size);
    const std::uint32_t pseudo =
        packet::checksum_add(destination_address, packet::checksum_add(source_address)) +
        packet::ip_protocol_udp + static_cast<std::uint32_t>(view.udp.length);
    if (checksums == checksum_mode::offload) {
        packet::store_be16(udp, udp_checksum_offset, fold(pseudo));
        return;
    }
    if (old_checksum == 0) {
        // Only IPv6 gets here: a zero checksum is invalid there (RFC 8200
        // 8.1), and a full pass is the only way to produce a valid one.
        const std::uint16_t full = packet::checksum_finish(packet::checksum_add(udp, pseudo));
        packet::store_be16(udp, udp_checksum_offset, full == 0 ? 0xffff : full);
        return;
    }
    packet::store_be16(udp, udp_checksum_offset,
                       incremental_checksum(old_checksum, before, after, payload_delta));
}

}  // namespace

relay_result relay_udp(relay_table& table, neighbour_table& neighbours, const port_network& network,
                       std::span<std::uint8_t> frame, const packet::classification& what, std::int64_t now_ns,
                       relay_counters counters, checksum_mode checksums) {
    relay_result result;
    relay_slot* stream = nullptr;
    const auto drop = [&](relay_counter why) {
        result.verdict = why;
        counters.add(why);
        if (stream != nullptr) {
            add_relaxed(stream->stats.errors, std::uint64_t{1});
        }
        return result;
    };

    const auto view = view_packet(frame, what);
    if (!view) {
        return drop(relay_counter::dropped_malformed);
    }
    stream = table.slot(view->udp.destination_port);
    if (stream == nullptr) {
        return drop(relay_counter::dropped_no_stream);
    }
    const auto payload =
        frame.subspan(view->l4 + packet::udp_header_size, view->udp.length - packet::udp_header_size);
    const std::uint16_t flags = stream->rule.flags;
    const bool muxed_rtcp = (flags & flag_rtcp_mux) != 0 && looks_like_rtcp(payload);
    const bool rtcp = (flags & flag_rtcp) != 0 || muxed_rtcp;
    if (!accept_source(table, *stream, source_of(frame, *view), now_ns, !muxed_rtcp)) {
        return drop(relay_counter::dropped_source);
    }
    const auto rtp_header = account(table, *stream, payload, rtcp, now_ns);

    const stream_rule& rule = stream->rule;
    if ((rule.flags & flag_blackhole) != 0) {
        return drop(relay_counter::dropped_blackhole);
    }
    // Asymmetric rtcp-mux: RTCP on our muxed port leaves by the other
    // side's RTCP port.
    const bool split_rtcp = muxed_rtcp && rule.rtcp_egress_port != 0;
    const std::uint16_t egress_port = split_rtcp ? rule.rtcp_egress_port : rule.egress_port;
    const media_endpoint& destination = split_rtcp ? rule.rtcp_destination : rule.destination;
    if (!destination.known() || egress_port == 0) {
        return drop(relay_counter::dropped_no_destination);
    }
    if (destination.family != view->family || (view->family == 6 && !network.identity.ipv6)) {
        return drop(relay_counter::dropped_family);
    }
    const ip_address hop = next_hop(network, ip_address::of(destination));
    const auto mac = neighbours.lookup(hop, now_ns);
    if (!mac) {
        result.next_hop = hop;
        result.solicit = neighbours.should_solicit(hop, now_ns);
        return drop(relay_counter::dropped_unresolved);
    }

    // SSRC continuity, on packets that really leave: "the last forwarded"
    // is what the receiver has seen.
    std::uint32_t payload_delta = 0;
    if (rtcp) {
        payload_delta = continue_rtcp(table, *stream, payload);
    } else if (rtp_header && (rule.flags & flag_ssrc_continuity) != 0) {
        payload_delta = continue_rtp(*stream, payload, *rtp_header, now_ns);
    }
    rewrite(frame, *view, network, *mac, egress_port, destination, payload_delta, checksums, result);
    result.verdict = relay_counter::forwarded;
    result.frame_length = view->ip_end;
    result.l3_offset = static_cast<std::uint16_t>(view->l3);
    result.l4_offset = static_cast<std::uint16_t>(view->l4);
    result.family = view->family;
    counters.add(relay_counter::forwarded);
    return result;
}

}  // namespace tandem::media
