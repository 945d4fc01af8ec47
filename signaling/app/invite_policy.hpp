#pragma once
// What tandem-signaling answers to an INVITE before the B2BUA exists.
//
// With the data plane down no call could get media, so the answer is
// 503 Service Unavailable with Retry-After (one health interval, at least a
// second): upstream proxies (Kamailio's dispatcher) fail over to another
// node. With the data plane up there is still no route: 480 "No route".

#include <cstdint>

#include "signaling/app/media_health.hpp"
#include "signaling/sip/sip_types.hpp"

namespace tandem::app {

class invite_policy final : public sip::request_handler {
  public:
    explicit invite_policy(const media_health& health);

    sip::final_response on_invite(const sip::incoming_request& request) override;
    void on_answered(const sip::incoming_request& request, int status) override;

    [[nodiscard]] std::uint32_t retry_after_s() const { return retry_after_s_; }

  private:
    const media_health& health_;
    std::uint32_t retry_after_s_;
};

}  // namespace tandem::app
