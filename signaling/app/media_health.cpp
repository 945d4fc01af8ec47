#include "signaling/app/media_health.hpp"

#include <algorithm>
#include <chrono>

namespace tandem::app {

namespace {

prometheus::Family<prometheus::Counter>& pings_family(prometheus::Registry& registry) {
    return prometheus::BuildCounter()
        .Name("tandem_media_control_pings_total")
        .Help("ng pings sent to the data plane, by outcome (ok, timeout, error)")
        .Register(registry);
}

}  // namespace

media_health::media_health(media_pinger& pinger, const clock& time, std::uint32_t interval_ms,
                           prometheus::Registry& registry, log::logger_ptr logger)
    : pinger_(pinger),
      time_(time),
      interval_ms_(std::max<std::uint32_t>(interval_ms, 1)),
      logger_(std::move(logger)),
      up_gauge_(prometheus::BuildGauge()
                    .Name("tandem_media_control_up")
                    .Help("1 when the data plane answered the last ng ping, else 0")
                    .Register(registry)
                    .Add({})),
      pings_ok_(pings_family(registry).Add({{"result", "ok"}})),
      pings_timeout_(pings_family(registry).Add({{"result", "timeout"}})),
      pings_error_(pings_family(registry).Add({{"result", "error"}})) {
    up_gauge_.Set(0);
}

std::int64_t media_health::poll() {
    const std::int64_t now_ms = time_.now_ms();
    if (pinged_ && now_ms < next_due_ms_) {
        return next_due_ms_ - now_ms;
    }
    record(pinger_.ping());
    pinged_ = true;
    // Scheduled from after the ping: a slow ping never makes pings pile up.
    const std::int64_t after_ms = time_.now_ms();
    next_due_ms_ = after_ms + interval_ms_;
    return interval_ms_;
}

void media_health::record(const ping_result& result) {
    const bool ok = result.outcome == ping_outcome::ok;
    switch (result.outcome) {
        case ping_outcome::ok:
            pings_ok_.Increment();
            break;
        case ping_outcome::timeout:
            pings_timeout_.Increment();
            break;
        case ping_outcome::error:
            pings_error_.Increment();
            break;
    }
    const bool was_up = up_.exchange(ok, std::memory_order_relaxed);
    up_gauge_.Set(ok ? 1 : 0);
    if (logger_ == nullptr) {
        return;
    }
    if (ok && (!was_up || !pinged_)) {
        logger_->info("data plane is up (ng ping answered)");
    } else if (!ok && (was_up || !pinged_)) {
        logger_->warn("data plane is down: {}; INVITEs get 503 until it answers", result.detail);
    }
}

health_thread::health_thread(media_health& health) : health_(health), thread_([this] { loop(); }) {}

health_thread::~health_thread() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void health_thread::loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        const std::int64_t wait_ms = std::max<std::int64_t>(health_.poll(), 1);
        lock.lock();
        wake_.wait_for(lock, std::chrono::milliseconds(wait_ms), [this] { return stopping_; });
    }
}

}  // namespace tandem::app
