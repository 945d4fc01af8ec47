#pragma once
// Single-producer single-consumer ring of plain values: how the control
// thread hands commands to one worker lcore (and a worker hands events
// back) without locks. Capacity is fixed at construction (a power of two);
// push fails instead of blocking when full, so a slow consumer is visible as
// a counted failure, never a stall. Cost: one acquire load and one release
// store per operation.

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>

namespace tandem::media {

template <typename T>
class spsc_ring {
  public:
    explicit spsc_ring(std::size_t capacity_pow2)
        : mask_(capacity_pow2 - 1), slots_(std::make_unique<T[]>(capacity_pow2)) {}

    // Producer side.
    bool push(const T& item) {
        const auto head = head_.load(std::memory_order_relaxed);
        if (head - tail_.load(std::memory_order_acquire) > mask_) {
            return false;
        }
        slots_[head & mask_] = item;
        head_.store(head + 1, std::memory_order_release);
        return true;
    }

    // Consumer side.
    std::optional<T> pop() {
        const auto tail = tail_.load(std::memory_order_relaxed);
        if (tail == head_.load(std::memory_order_acquire)) {
            return std::nullopt;
        }
        T item = slots_[tail & mask_];
        tail_.store(tail + 1, std::memory_order_release);
        return item;
    }

    [[nodiscard]] bool empty() const {
        return tail_.load(std::memory_order_acquire) == head_.load(std::memory_order_acquire);
    }
    [[nodiscard]] std::size_t capacity() const { return mask_ + 1; }

  private:
    std::size_t mask_;
    std::unique_ptr<T[]> slots_;
    alignas(64) std::atomic<std::size_t> head_{0};
    alignas(64) std::atomic<std::size_t> tail_{0};
};

}  // namespace tandem::media
