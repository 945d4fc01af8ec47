#include "signaling/app/invite_policy.hpp"

#include <gtest/gtest.h>

#include <prometheus/registry.h>

namespace tandem::app {
namespace {

class fixed_pinger final : public media_pinger {
  public:
    ping_result ping() override { return {answer, {}}; }
    ping_outcome answer = ping_outcome::ok;
};

sip::incoming_request an_invite() {
    sip::incoming_request request;
    request.method = "INVITE";
    request.request_uri = "sip:+4930123@127.0.0.1";
    request.transport = "udp";
    return request;
}

TEST(invite_policy, data_plane_down_means_503_with_retry_after) {
    manual_clock time;
    fixed_pinger pinger;
    pinger.answer = ping_outcome::timeout;
    prometheus::Registry registry;
    media_health health(pinger, time, 5000, registry);
    health.poll();
    invite_policy policy(health);
    const auto answer = policy.on_invite(an_invite());
    EXPECT_EQ(answer.status, 503);
    EXPECT_EQ(answer.reason, "Service Unavailable");
    EXPECT_EQ(answer.retry_after_s, 5U);
}

TEST(invite_policy, never_pinged_counts_as_down) {
    manual_clock time;
    fixed_pinger pinger;
    prometheus::Registry registry;
    media_health health(pinger, time, 5000, registry);
    invite_policy policy(health);
    EXPECT_EQ(policy.on_invite(an_invite()).status, 503);
}

TEST(invite_policy, data_plane_up_but_no_route_means_480) {
    manual_clock time;
    fixed_pinger pinger;
    prometheus::Registry registry;
    media_health health(pinger, time, 5000, registry);
    health.poll();
    invite_policy policy(health);
    const auto answer = policy.on_invite(an_invite());
    EXPECT_EQ(answer.status, 480);
    EXPECT_EQ(answer.reason, "No route");
    EXPECT_EQ(answer.retry_after_s, 0U);
}

TEST(invite_policy, retry_after_is_at_least_one_second) {
    manual_clock time;
    fixed_pinger pinger;
    prometheus::Registry registry;
    media_health health(pinger, time, 100, registry);
    invite_policy policy(health);
    EXPECT_EQ(policy.retry_after_s(), 1U);
}

}  // namespace
}  // namespace tandem::app
