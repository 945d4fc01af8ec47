#pragma once
// SIP request/response counters for Prometheus, counted on the wire (see
// trace_counter.hpp), so requests Sofia rejects by itself are counted too:
//   tandem_sip_requests_total{method}                 requests received
//   tandem_sip_responses_total{method,code}           responses sent (method from CSeq)
//   tandem_sip_requests_rejected_total{method,code}   the final non-2xx ones among them
// Method labels come from the network, so anything outside RFC 3261 and its
// common extensions is counted as "other": a peer inventing method names
// must not grow the registry without bound. No Sofia here.

#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

namespace tandem::sip {

// The label value for a received method name ("INVITE", ..., or "other").
std::string_view method_label(std::string_view method);

class sip_counters {
  public:
    explicit sip_counters(prometheus::Registry& registry);

    void request_received(std::string_view method);
    // A status of 300..699 also counts the request as rejected.
    void response_sent(std::string_view method, int status);

  private:
    prometheus::Family<prometheus::Counter>& requests_;
    prometheus::Family<prometheus::Counter>& responses_;
    prometheus::Family<prometheus::Counter>& rejected_;
};

}  // namespace tandem::sip
