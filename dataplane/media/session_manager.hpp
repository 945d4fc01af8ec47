#pragma once
// Media sessions as rtpengine's ng protocol defines them, on the control
// thread of the data plane.
//
// A call (call-id) has two sides, each a monologue named by its SIP tag
// (from-tag of the offerer, to-tag of the answerer). Each m= line of the
// SDP is one media; each side of a media owns a local port pair from the
// pool (RTP on the even port, RTCP on the next one, or both on the even
// port with rtcp-mux). Packets that arrive on one side's port go out of the
// other side's port to the other side's peer.
//
// handle() takes one decoded ng request and returns the reply dictionary in
// rtpengine's shapes (offer/answer -> rewritten sdp; delete/query -> per tag
// and per stream statistics, plus Tandem's "rtcp" sub-dict on RTP streams;
// list; statistics). SSRC continuity is on for every call unless a request
// carries the flag "no-SSRC-continuity" ("SSRC-continuity" turns it back on). Unknown keys are ignored,
// malformed requests answer {result: error, error-reason}. Forwarding state
// reaches the workers only as relay_commands through the relay_workers seam;
// the workers' learned peers come back as events in poll(), which also runs
// timeouts and delayed deletes. Not thread-safe: one control thread.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/media/port_pool.hpp"
#include "dataplane/media/relay.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/ng/bencode.hpp"
#include "gateway/sdp/sdp.hpp"

namespace tandem::media {

// The seam to the worker lcores: real rings in production, a table applied
// synchronously in tests.
class relay_workers {
  public:
    virtual ~relay_workers() = default;
    // Broadcast to every worker; false when a ring was full (counted).
    virtual bool send(const relay_command& command) = 0;
    // Next learned_source event from any worker.
    virtual std::optional<relay_event> next_event() = 0;
    // Summed over workers; nullopt when no worker holds the stream.
    [[nodiscard]] virtual std::optional<stream_stats_snapshot> stats(std::uint16_t local_port,
                                                                     std::uint32_t stream_id) const = 0;
};

// One RTP stream's quality when its call ends (deleted, timed out): what
// the relay measured of the media one side sent (RFC 3550 A.3 loss, A.8
// jitter), and what that side said in RTCP about the media it received from
// us, with the round trip to it. Reported once per active media side, for
// the control layer to turn into histograms.
struct stream_quality {
    std::string call_id;
    std::string tag;               // the side that sends on this stream
    std::size_t media_index = 0;   // 1-based, as query's "index"
    std::string media_type;        // "audio", "video", ...
    std::uint16_t local_port = 0;  // our RTP port that side sends to
    std::uint32_t ssrc = 0;
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    std::uint64_t packets_expected = 0;
    std::uint64_t packets_lost = 0;
    double loss_percent = 0;  // lost / expected; 0 when nothing was expected
    double jitter_ms = 0;
    std::uint32_t ssrc_changes = 0;  // sources SSRC continuity joined
    double duration_s = 0;           // from the offer to the end
    // From that side's RTCP: its receiver report about what we sent it.
    std::uint64_t rtcp_packets = 0;
    double rtcp_fraction_lost_percent = 0;  // RFC 3550 fraction lost, as a percentage
    std::int32_t rtcp_packets_lost = 0;     // cumulative, as reported
    double rtcp_jitter_ms = 0;
    std::optional<double> rtt_ms;  // nullopt: no SR/RR pair measured it
};

struct media_settings {
    std::string ipv4_address;  // advertised in SDP for IPv4 peers
    std::string ipv6_address;  // advertised for IPv6 peers; empty: none
    std::uint16_t port_min = 30000;
    std::uint16_t port_max = 39999;
    std::uint32_t max_sessions = 10000;     // calls; offers beyond get "load limit"
    std::uint32_t timeout_s = 60;           // no media while sending: call deleted
    std::uint32_t silent_timeout_s = 3600;  // no media while on hold
    std::uint32_t final_timeout_s = 0;      // delete regardless after this long; 0: never
    std::uint32_t delete_delay_s = 0;       // default delay for delete
    std::uint32_t learning_window_ms = 3000;
    // Called on the control thread once per active media side of every call
    // that ends (delete, timeouts), just before its streams are removed.
    // Empty: nothing is harvested.
    std::function<void(const stream_quality&)> on_stream_ended;
};

struct session_totals {
    std::uint64_t sessions_created = 0;
    std::uint64_t sessions_deleted = 0;
    std::uint64_t sessions_timed_out = 0;
    std::uint64_t sessions_silent_timed_out = 0;
    std::uint64_t sessions_final_timed_out = 0;
    std::uint64_t offers_rejected_load = 0;
    std::uint64_t offers_rejected_drain = 0;
    std::uint64_t offers_rejected_ports = 0;
    std::uint64_t requests_errors = 0;
    std::uint64_t commands_dropped = 0;  // worker ring full
    std::uint64_t packets_total = 0;     // of deleted calls, for statistics
    std::uint64_t bytes_total = 0;
};

class session_manager {
  public:
    session_manager(media_settings settings, relay_workers& workers, const clock& time);
    ~session_manager();
    session_manager(const session_manager&) = delete;
    session_manager& operator=(const session_manager&) = delete;

    // One ng request (a dict with "command"); `source_address` is the ng
    // client's IP, used as received-from when SIP-source-address asks for it
    // and the request carries none.
    ng::value handle(const ng::value& request, const std::string& source_address = {});

    // Folds worker events in, deletes timed-out and delay-deleted calls.
    // Call every few milliseconds to a second from the control thread.
    void poll();

    // Drain: refuse new calls (offers for unknown call-ids), keep existing.
    void set_draining(bool draining) { draining_ = draining; }
    [[nodiscard]] bool draining() const { return draining_; }

    [[nodiscard]] std::size_t sessions() const;
    [[nodiscard]] std::size_t free_port_pairs() const { return ports_.free_pairs(); }
    [[nodiscard]] std::size_t total_port_pairs() const { return ports_.total_pairs(); }
    [[nodiscard]] const session_totals& totals() const { return totals_; }

    struct call;  // defined in the .cpp

  private:
    ng::value offer_or_answer(const ng::value& request, bool is_offer, const std::string& source_address);
    ng::value delete_call(const ng::value& request);
    ng::value query(const ng::value& request) const;
    ng::value list(const ng::value& request) const;
    ng::value statistics() const;
    void destroy(std::map<std::string, std::unique_ptr<call>, std::less<>>::iterator found);
    void publish(call& session);
    [[nodiscard]] ng::value describe(const call& session) const;
    std::uint32_t next_stream_id();

    media_settings settings_;
    relay_workers& workers_;
    const clock& time_;
    port_pool ports_;
    std::map<std::string, std::unique_ptr<call>, std::less<>> calls_;
    std::map<std::uint16_t, std::pair<call*, std::uint32_t>> by_port_;  // local port -> call, stream
    session_totals totals_;
    std::uint32_t last_stream_id_ = 0;
    bool draining_ = false;
    std::int64_t last_timeout_scan_ns_ = 0;
};

}  // namespace tandem::media
