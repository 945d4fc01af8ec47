#pragma once
// media_pinger over the ng control protocol (gateway/ng/ng_client.hpp).
// A ping that gets no reply after every retransmission is a timeout; any
// other failure (an error reply, an unparseable reply, a socket error) is an
// error.

#include <memory>

#include "gateway/config/config.hpp"
#include "gateway/core/result.hpp"
#include "gateway/ng/ng_client.hpp"
#include "signaling/app/media_health.hpp"

namespace tandem::app {

class ng_pinger final : public media_pinger {
  public:
    static result<std::unique_ptr<ng_pinger>> connect(const config::media_control_config& settings);
    ping_result ping() override;

  private:
    explicit ng_pinger(std::unique_ptr<ng::client> client) : client_(std::move(client)) {}
    std::unique_ptr<ng::client> client_;
};

}  // namespace tandem::app
