#include "signaling/app/ng_pinger.hpp"

namespace tandem::app {

result<std::unique_ptr<ng_pinger>> ng_pinger::connect(const config::media_control_config& settings) {
    auto client =
        ng::client::connect(settings.dataplane, ng::client_options{settings.timeout_ms, settings.retries});
    if (!client) {
        return client.failure();
    }
    return std::unique_ptr<ng_pinger>(new ng_pinger(std::move(client.value())));
}

ping_result ng_pinger::ping() {
    const status answer = client_->ping();
    if (answer) {
        return {ping_outcome::ok, {}};
    }
    // ng::client reports exhausted retransmissions as "no reply from ...".
    const bool timed_out = answer.message().rfind("no reply", 0) == 0;
    return {timed_out ? ping_outcome::timeout : ping_outcome::error, answer.message()};
}

}  // namespace tandem::app
