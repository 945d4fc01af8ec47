#pragma once
// The plain face of the SIP stack: what the rest of tandem-signaling sees of
// an incoming request and how it answers one. Nothing here names a Sofia-SIP
// type, so the application, its policies and their unit tests compile
// without Sofia's headers. Strings are copies owned by the struct; they stay
// valid after the Sofia message they came from is gone.

#include <cstdint>
#include <string>

namespace tandem::sip {

struct incoming_request {
    std::string method;       // as received, e.g. "INVITE"
    std::string request_uri;  // "sip:+4930123@gw.example"
    std::string from_uri;
    std::string to_uri;
    std::string call_id;
    std::string transport;  // "udp" | "tcp" (lower case, from the top Via)
    std::string source;     // "192.0.2.1:5060" or "[2001:db8::1]:5060"; empty when unknown
};

// A final answer chosen by the application. retry_after_s > 0 adds a
// Retry-After header (RFC 3261 20.33), used with 503 so callers back off.
struct final_response {
    int status = 500;
    std::string reason;
    std::uint32_t retry_after_s = 0;
};

// Implemented by the application; called on the SIP thread (the thread in
// sip_stack::run), never concurrently. Must not block: it runs inside the
// event loop that serves every other request.
class request_handler {
  public:
    virtual ~request_handler() = default;
    // An initial INVITE; the stack sends what this returns (status >= 300
    // for now: calls are not routed yet).
    virtual final_response on_invite(const incoming_request& request) = 0;
    // Every other request that reached the application, already answered by
    // the stack with `status` (OPTIONS 200, CANCEL, BYE...). For logging.
    virtual void on_answered(const incoming_request& request, int status) = 0;
};

}  // namespace tandem::sip
