#pragma once
// Per-worker counters: each counter is named and described once (see
// counter_spec), each worker increments only its own cache-line-aligned
// slots with a relaxed load+store (no locked instruction, no sharing), and
// the scrape thread sums or labels them. Safe to read while workers write.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <prometheus/collectable.h>

namespace tandem::metrics {

struct counter_spec {
    const char* name;  // full metric name, ends in _total for counters
    const char* help;
    bool is_gauge = false;
};

class worker_counters {
  public:
    // `specs` must outlive this object (use a static constexpr array).
    worker_counters(std::span<const counter_spec> specs, std::size_t workers);

    // Hot path: one worker, one counter. No locked instruction.
    void add(std::size_t worker, std::size_t counter, std::uint64_t amount = 1) {
        auto& slot = slots_[worker * stride_ + counter];
        slot.store(slot.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
    }
    void set(std::size_t worker, std::size_t counter, std::uint64_t value) {
        slots_[worker * stride_ + counter].store(value, std::memory_order_relaxed);
    }

    [[nodiscard]] std::uint64_t get(std::size_t worker, std::size_t counter) const {
        return slots_[worker * stride_ + counter].load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t sum(std::size_t counter) const;
    [[nodiscard]] std::size_t workers() const { return workers_; }
    [[nodiscard]] std::span<const counter_spec> specs() const { return specs_; }

  private:
    std::span<const counter_spec> specs_;
    std::size_t workers_;
    // Whole cache lines, so two workers never share one (no false sharing).
    struct alignas(64) cache_line {
        std::atomic<std::uint64_t> slots[64 / sizeof(std::atomic<std::uint64_t>)];
    };
    std::size_t stride_;  // counters per worker, rounded up to a cache line
    std::unique_ptr<cache_line[]> lines_;
    std::atomic<std::uint64_t>* slots_;
};

// Exposes every counter with a `label_name` label per worker
// (e.g. lcore="1"), values taken at scrape time.
std::shared_ptr<prometheus::Collectable> make_worker_collector(
    std::shared_ptr<const worker_counters> counters, std::string label_name,
    std::vector<std::string> worker_label_values);

}  // namespace tandem::metrics
