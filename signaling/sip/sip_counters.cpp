#include "signaling/sip/sip_counters.hpp"

#include <array>
#include <string>

#include <prometheus/labels.h>

namespace tandem::sip {

std::string_view method_label(std::string_view method) {
    static constexpr std::array<std::string_view, 14> known{
        "INVITE", "ACK",    "BYE",     "CANCEL",    "OPTIONS", "REGISTER", "INFO",
        "PRACK",  "UPDATE", "MESSAGE", "SUBSCRIBE", "NOTIFY",  "REFER",    "PUBLISH"};
    for (const auto name : known) {
        if (name == method) {
            return name;
        }
    }
    return "other";
}

sip_counters::sip_counters(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("tandem_sip_requests_total")
                    .Help("SIP requests received, by method (unknown methods as \"other\")")
                    .Register(registry)),
      responses_(prometheus::BuildCounter()
                     .Name("tandem_sip_responses_total")
                     .Help("SIP responses sent, by request method and status code")
                     .Register(registry)),
      rejected_(prometheus::BuildCounter()
                    .Name("tandem_sip_requests_rejected_total")
                    .Help("SIP requests answered with a final non-2xx response (300-699), by method and code")
                    .Register(registry)) {}

void sip_counters::request_received(std::string_view method) {
    requests_.Add({{"method", std::string(method_label(method))}}).Increment();
}

void sip_counters::response_sent(std::string_view method, int status) {
    const bool valid = status >= 100 && status <= 699;
    const std::string code = valid ? std::to_string(status) : "other";
    const prometheus::Labels labels{{"method", std::string(method_label(method))}, {"code", code}};
    responses_.Add(labels).Increment();
    if (valid && status >= 300) {
        rejected_.Add(labels).Increment();
    }
}

}  // namespace tandem::sip
