#pragma once
// Health of the data plane as seen from signaling: periodic ng pings.
//
// media_health pings through a media_pinger seam (the ng client in
// production, a fake in tests) whenever its interval has elapsed on the
// injected clock, and publishes the outcome three ways: an atomic flag the
// SIP thread reads without locking (503 versus 480 for an INVITE), the gauge
// tandem_media_control_up, and tandem_media_control_pings_total{result}.
// Until the first ping answers, the data plane counts as down.
//
// health_thread runs poll() on its own std::thread because a ping blocks for
// up to timeout_ms * (retries + 1).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "gateway/core/clock.hpp"
#include "gateway/log/log.hpp"

namespace tandem::app {

enum class ping_outcome { ok, timeout, error };

struct ping_result {
    ping_outcome outcome = ping_outcome::error;
    std::string detail;  // why it failed; empty on ok
};

// One ping of the data plane; blocking. Called from one thread at a time.
class media_pinger {
  public:
    virtual ~media_pinger() = default;
    virtual ping_result ping() = 0;
};

class media_health {
  public:
    // `logger` may be null (tests).
    media_health(media_pinger& pinger, const clock& time, std::uint32_t interval_ms,
                 prometheus::Registry& registry, log::logger_ptr logger = nullptr);

    // Pings if due (the first call always is); returns milliseconds until
    // the next ping is due, for the caller's wait.
    std::int64_t poll();

    // Safe from any thread.
    [[nodiscard]] bool up() const { return up_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint32_t interval_ms() const { return interval_ms_; }

  private:
    void record(const ping_result& result);

    media_pinger& pinger_;
    const clock& time_;
    std::uint32_t interval_ms_;
    log::logger_ptr logger_;
    std::atomic<bool> up_{false};
    bool pinged_ = false;
    std::int64_t next_due_ms_ = 0;
    prometheus::Gauge& up_gauge_;
    prometheus::Counter& pings_ok_;
    prometheus::Counter& pings_timeout_;
    prometheus::Counter& pings_error_;
};

// Calls media_health::poll() on a thread of its own until destroyed. The
// destructor waits for a ping in flight to finish.
class health_thread {
  public:
    explicit health_thread(media_health& health);
    ~health_thread();
    health_thread(const health_thread&) = delete;
    health_thread& operator=(const health_thread&) = delete;

  private:
    void loop();

    media_health& health_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace tandem::app
