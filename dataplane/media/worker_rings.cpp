#include "dataplane/media/worker_rings.hpp"

#include <algorithm>

namespace tandem::media {

worker_rings::worker_rings(std::size_t workers, relay_table_config table_config, std::size_t ring_capacity) {
    for (std::size_t index = 0; index < workers; ++index) {
        tables_.push_back(std::make_unique<relay_table>(table_config));
        rings_.push_back(std::make_unique<spsc_ring<relay_command>>(ring_capacity));
    }
}

bool worker_rings::send(const relay_command& command) {
    bool all = true;
    for (auto& ring : rings_) {
        if (!ring->push(command)) {
            ++commands_dropped_;
            all = false;
        }
    }
    return all;
}

std::optional<relay_event> worker_rings::next_event() {
    // Round robin, so one busy worker cannot starve the others' events.
    for (std::size_t tried = 0; tried < tables_.size(); ++tried) {
        auto& table = *tables_[next_event_worker_];
        next_event_worker_ = (next_event_worker_ + 1) % tables_.size();
        if (auto event = table.events().pop()) {
            return event;
        }
    }
    return std::nullopt;
}

std::optional<stream_stats_snapshot> worker_rings::stats(std::uint16_t local_port,
                                                         std::uint32_t stream_id) const {
    std::optional<stream_stats_snapshot> total;
    for (const auto& table : tables_) {
        const auto one = table->stats(local_port, stream_id);
        if (!one) {
            continue;
        }
        if (!total) {
            total = one;
            continue;
        }
        total->packets += one->packets;
        total->bytes += one->bytes;
        total->errors += one->errors;
        total->last_packet_ns = std::max(total->last_packet_ns, one->last_packet_ns);
        total->rtp_expected += one->rtp_expected;
        total->rtp_lost += one->rtp_lost;
        if (total->ssrc == 0) {
            total->ssrc = one->ssrc;
        }
        total->jitter_ts = std::max(total->jitter_ts, one->jitter_ts);
        total->rtcp_packets += one->rtcp_packets;
        total->ssrc_changes += one->ssrc_changes;
        total->remote_fraction_lost = std::max(total->remote_fraction_lost, one->remote_fraction_lost);
        total->remote_packets_lost = std::max(total->remote_packets_lost, one->remote_packets_lost);
        total->remote_jitter_ts = std::max(total->remote_jitter_ts, one->remote_jitter_ts);
        total->rtt_us = std::max(total->rtt_us, one->rtt_us);
    }
    return total;
}

}  // namespace tandem::media
