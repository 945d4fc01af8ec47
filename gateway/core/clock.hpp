#pragma once
// Clock seam: production code reads time through a clock so that timers
// (ng reply cache, health checks, later SIP/SS7 timers and jitter buffers)
// are tested with a manual clock instead of sleeping.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace tandem {

class clock {
  public:
    virtual ~clock() = default;
    // Monotonic time in nanoseconds since an arbitrary origin.
    [[nodiscard]] virtual std::int64_t now_ns() const = 0;
    [[nodiscard]] std::int64_t now_ms() const { return now_ns() / 1'000'000; }
};

class steady_clock final : public clock {
  public:
    [[nodiscard]] std::int64_t now_ns() const override {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }
};

// Test clock: time moves only when the test advances it.
class manual_clock final : public clock {
  public:
    explicit manual_clock(std::int64_t start_ns = 0) : now_(start_ns) {}
    [[nodiscard]] std::int64_t now_ns() const override { return now_.load(); }
    void advance_ms(std::int64_t ms) { now_ += ms * 1'000'000; }
    void advance_ns(std::int64_t ns) { now_ += ns; }

  private:
    std::atomic<std::int64_t> now_;
};

}  // namespace tandem
