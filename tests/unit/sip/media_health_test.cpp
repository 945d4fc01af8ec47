#include "signaling/app/media_health.hpp"

#include <gtest/gtest.h>

#include <deque>

#include <prometheus/registry.h>

#include "gateway/metrics/metrics.hpp"

namespace tandem::app {
namespace {

// Answers from a script; a ping may also move the clock (a slow data plane).
class scripted_pinger final : public media_pinger {
  public:
    explicit scripted_pinger(manual_clock& time) : time_(time) {}
    ping_result ping() override {
        ++calls;
        time_.advance_ms(ping_cost_ms);
        if (script.empty()) {
            return {ping_outcome::timeout, "no reply"};
        }
        auto next = script.front();
        script.pop_front();
        return {next, next == ping_outcome::ok ? "" : "scripted failure"};
    }
    std::deque<ping_outcome> script;
    int calls = 0;
    std::int64_t ping_cost_ms = 0;

  private:
    manual_clock& time_;
};

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

TEST(media_health, down_until_the_first_ping_answers) {
    manual_clock time;
    scripted_pinger pinger(time);
    prometheus::Registry registry;
    media_health health(pinger, time, 5000, registry);
    EXPECT_FALSE(health.up());
    EXPECT_TRUE(contains(metrics::render_text(registry), "tandem_media_control_up 0"));

    pinger.script = {ping_outcome::ok};
    EXPECT_EQ(health.poll(), 5000);
    EXPECT_TRUE(health.up());
    EXPECT_EQ(pinger.calls, 1);
    const std::string text = metrics::render_text(registry);
    EXPECT_TRUE(contains(text, "tandem_media_control_up 1")) << text;
    EXPECT_TRUE(contains(text, "tandem_media_control_pings_total{result=\"ok\"} 1")) << text;
    EXPECT_TRUE(contains(text, "tandem_media_control_pings_total{result=\"timeout\"} 0")) << text;
}

TEST(media_health, pings_only_when_the_interval_has_elapsed) {
    manual_clock time;
    scripted_pinger pinger(time);
    prometheus::Registry registry;
    media_health health(pinger, time, 1000, registry);
    pinger.script = {ping_outcome::ok, ping_outcome::ok};
    health.poll();
    time.advance_ms(400);
    EXPECT_EQ(health.poll(), 600);
    EXPECT_EQ(pinger.calls, 1);
    time.advance_ms(600);
    EXPECT_EQ(health.poll(), 1000);
    EXPECT_EQ(pinger.calls, 2);
}

TEST(media_health, interval_counts_from_the_end_of_a_slow_ping) {
    manual_clock time;
    scripted_pinger pinger(time);
    pinger.ping_cost_ms = 4000;  // four 1 s attempts without a reply
    prometheus::Registry registry;
    media_health health(pinger, time, 1000, registry);
    health.poll();
    EXPECT_EQ(pinger.calls, 1);
    time.advance_ms(999);
    health.poll();
    EXPECT_EQ(pinger.calls, 1);
}

TEST(media_health, follows_the_data_plane_down_and_up_again) {
    manual_clock time;
    scripted_pinger pinger(time);
    prometheus::Registry registry;
    media_health health(pinger, time, 100, registry);
    pinger.script = {ping_outcome::ok, ping_outcome::timeout, ping_outcome::error, ping_outcome::ok};
    health.poll();
    EXPECT_TRUE(health.up());
    time.advance_ms(100);
    health.poll();
    EXPECT_FALSE(health.up());
    time.advance_ms(100);
    health.poll();
    EXPECT_FALSE(health.up());
    time.advance_ms(100);
    health.poll();
    EXPECT_TRUE(health.up());
    const std::string text = metrics::render_text(registry);
    EXPECT_TRUE(contains(text, "tandem_media_control_pings_total{result=\"ok\"} 2")) << text;
    EXPECT_TRUE(contains(text, "tandem_media_control_pings_total{result=\"timeout\"} 1")) << text;
    EXPECT_TRUE(contains(text, "tandem_media_control_pings_total{result=\"error\"} 1")) << text;
}

TEST(health_thread, pings_at_start_and_stops_promptly) {
    // Real thread, real time, but no timing assertion: the destructor must
    // return (the interval is an hour) after the first ping happened.
    steady_clock time;
    class counting_pinger final : public media_pinger {
      public:
        ping_result ping() override {
            calls.fetch_add(1);
            return {ping_outcome::ok, {}};
        }
        std::atomic<int> calls{0};
    } pinger;
    prometheus::Registry registry;
    media_health health(pinger, time, 3'600'000, registry);
    {
        health_thread thread(health);
        for (int i = 0; i < 1000 && pinger.calls.load() == 0; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    EXPECT_EQ(pinger.calls.load(), 1);
    EXPECT_TRUE(health.up());
}

}  // namespace
}  // namespace tandem::app
