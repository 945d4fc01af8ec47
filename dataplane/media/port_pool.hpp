#pragma once
// Media port pool: hands out even RTP ports from a configured range, each
// with RTP+1 reserved for RTCP (kept even when rtcp-mux makes it unused, so
// a later re-offer can always demux without moving the stream).
//
// Released ports go to the back of a FIFO, so a port is reused as late as
// possible and stray packets of an ended call do not land in a new one.
// All operations are O(1); the pool allocates only at construction.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace tandem::media {

class port_pool {
  public:
    // [first_port, last_port], inclusive; first_port is rounded up to even.
    port_pool(std::uint16_t first_port, std::uint16_t last_port);

    // An even port p whose pair (p, p+1) is now taken; nullopt when empty.
    std::optional<std::uint16_t> allocate();
    // Returns a pair to the pool; false (and nothing changes) for a port
    // that is not an allocated pair of this pool.
    bool release(std::uint16_t port);

    [[nodiscard]] std::size_t free_pairs() const { return free_.size(); }
    [[nodiscard]] std::size_t total_pairs() const { return in_use_.size(); }
    [[nodiscard]] bool in_use(std::uint16_t port) const;
    [[nodiscard]] std::uint16_t first_port() const { return first_; }
    [[nodiscard]] std::uint16_t last_port() const { return last_; }

  private:
    std::uint16_t first_;
    std::uint16_t last_;
    std::deque<std::uint16_t> free_;
    std::vector<bool> in_use_;  // per pair
};

}  // namespace tandem::media
