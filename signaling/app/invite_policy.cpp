#include "signaling/app/invite_policy.hpp"

#include <algorithm>

namespace tandem::app {

invite_policy::invite_policy(const media_health& health)
    : health_(health), retry_after_s_(std::max<std::uint32_t>(1, (health.interval_ms() + 999) / 1000)) {}

sip::final_response invite_policy::on_invite(const sip::incoming_request& /*request*/) {
    if (!health_.up()) {
        return {503, "Service Unavailable", retry_after_s_};
    }
    return {480, "No route", 0};
}

void invite_policy::on_answered(const sip::incoming_request& /*request*/, int /*status*/) {}

}  // namespace tandem::app
