#pragma once
// Counts SIP messages on the wire from Sofia-SIP's transport trace.
//
// Why: nua answers many requests itself before the application sees them
// (405 for methods outside Allow, 501 for unknown methods, 481 for
// out-of-dialog BYE/CANCEL, 416, 420, nta's 400/482/483), and Sofia 1.12.11
// offers no event or hook for those answers. The one place that sees every
// message is tport's message trace (TPTAG_LOG), which arrives through su_log.
// sip_stack routes those su_log calls here; trace_counter turns them into
// sip_counters calls: every request received and every response sent.
// Retransmissions (a UDP peer repeating its request, nta repeating a final
// response until the ACK) are recognised by top Via + Call-ID + CSeq (+ status)
// among the last `window` messages and counted once, so a scanner that never
// ACKs its INVITE counts as one rejected INVITE, not eight.
//
// Input is what Sofia 1.12.11's tport_log_msg() emits, one su_log call at a
// time, as (format, formatted text):
//   "%s   ----...\n"  text "recv 242 bytes from udp/[...]:5060 at ...:\n   ----...\n"  opens a message
//   "%s%.*s"          text "   OPTIONS sip:x SIP/2.0" (first piece of a line) or a continuation
//   "\n"              ends a line
//   "%s   ----...\n"  text "\n   ----...\n" or "   ----...\n"                     closes the message
// Message content only ever arrives through the "%s%.*s" format, so a peer
// cannot forge the start or end of a message from inside a body. Anything
// else is not part of a trace and is left to the caller (returns false).
// Not thread-safe: the caller serializes calls. No Sofia here.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>

#include "signaling/sip/sip_counters.hpp"

namespace tandem::sip {

class trace_counter {
  public:
    // `counters` must outlive this object. `window` bounds the memory for
    // retransmission detection (16 bytes or so per entry).
    explicit trace_counter(sip_counters& counters, std::size_t window = 16384);

    // One su_log call. True when it belonged to a message trace (the caller
    // logs those at trace level, not as Sofia diagnostics).
    bool feed(std::string_view format, std::string_view text);

  private:
    enum class direction { received, sent };
    enum class kind { unknown, request, response, other };

    void open_message(direction way);
    void close_message();
    void finish_line();
    void parse_first_line(std::string_view line);
    void parse_header_line(std::string_view line);
    void count_message();
    bool seen_before(std::uint64_t key);

    sip_counters& counters_;
    std::size_t window_;
    std::deque<std::uint64_t> recent_order_;
    std::unordered_set<std::uint64_t> recent_;

    bool in_message_ = false;
    direction direction_ = direction::received;
    kind kind_ = kind::unknown;
    int status_ = 0;
    std::string method_;  // request line method; for responses, from CSeq
    std::string via_;     // first Via line
    std::string call_id_;
    std::string cseq_;
    bool counted_ = false;
    bool in_body_ = false;
    std::size_t lines_ = 0;
    std::string line_;
};

}  // namespace tandem::sip
