#pragma once
// relay_workers over real worker lcores: one command ring per worker (the
// worker drains it between bursts), the workers' own event rings, and
// statistics summed over every worker's table. Control-thread only, except
// that each worker consumes its ring and produces its events.

#include <cstddef>
#include <memory>
#include <vector>

#include "dataplane/media/relay_table.hpp"
#include "dataplane/media/session_manager.hpp"
#include "dataplane/media/spsc_ring.hpp"

namespace tandem::media {

class worker_rings final : public relay_workers {
  public:
    // One table and one command ring per worker, created here and owned
    // for the life of the data plane.
    worker_rings(std::size_t workers, relay_table_config table_config, std::size_t ring_capacity);

    bool send(const relay_command& command) override;
    std::optional<relay_event> next_event() override;
    [[nodiscard]] std::optional<stream_stats_snapshot> stats(std::uint16_t local_port,
                                                             std::uint32_t stream_id) const override;

    [[nodiscard]] std::size_t workers() const { return tables_.size(); }
    [[nodiscard]] relay_table& table(std::size_t worker) { return *tables_[worker]; }
    [[nodiscard]] spsc_ring<relay_command>& commands(std::size_t worker) { return *rings_[worker]; }
    [[nodiscard]] std::uint64_t commands_dropped() const { return commands_dropped_; }

  private:
    std::vector<std::unique_ptr<relay_table>> tables_;
    std::vector<std::unique_ptr<spsc_ring<relay_command>>> rings_;
    std::size_t next_event_worker_ = 0;
    std::uint64_t commands_dropped_ = 0;
};

}  // namespace tandem::media
