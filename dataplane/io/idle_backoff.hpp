#pragma once
// Adaptive polling: what an idle worker does after an empty poll. The first
// `spin_polls` empty polls cost nothing extra (a burst may be about to
// arrive); then it pauses the CPU pipeline for `pause_polls` more; after
// that it sleeps, starting at min_sleep_us and doubling up to max_sleep_us,
// so an idle appliance uses a few percent of a core instead of all of it.
// The price is latency for the first packet after an idle period (at most
// max_sleep_us plus the scheduler's wake-up). Busy polling never sleeps.
// Plain logic, no DPDK: the worker performs the action.

#include <algorithm>
#include <cstdint>

namespace tandem::dataplane::io {

enum class polling_mode : std::uint8_t { busy, adaptive };

struct idle_action {
    enum class kind : std::uint8_t { spin, pause, sleep } what = kind::spin;
    std::uint32_t sleep_us = 0;
};

class idle_backoff {
  public:
    static constexpr std::uint32_t spin_polls = 256;
    static constexpr std::uint32_t pause_polls = 1024;
    static constexpr std::uint32_t min_sleep_us = 100;
    static constexpr std::uint32_t max_sleep_us = 1000;

    explicit idle_backoff(polling_mode mode) : mode_(mode) {}

    void on_work() {
        empty_polls_ = 0;
        sleep_us_ = min_sleep_us;
    }

    idle_action on_empty() {
        if (mode_ == polling_mode::busy) {
            return {};
        }
        if (empty_polls_ < spin_polls + pause_polls) {
            ++empty_polls_;
            return {empty_polls_ <= spin_polls ? idle_action::kind::spin : idle_action::kind::pause, 0};
        }
        const std::uint32_t sleep_us = sleep_us_;
        sleep_us_ = std::min(sleep_us_ * 2, max_sleep_us);
        return {idle_action::kind::sleep, sleep_us};
    }

  private:
    polling_mode mode_;
    std::uint32_t empty_polls_ = 0;
    std::uint32_t sleep_us_ = min_sleep_us;
};

}  // namespace tandem::dataplane::io
