#pragma once
// What the relay benchmark's two traffic generators share: the probe that
// rides in every RTP payload, the latency histogram, the calls file written
// by ng_calls, and the stepped rate search.
//
// Every generated packet is a G.711 RTP packet (12-byte header, 160 bytes of
// PCMU) whose first payload bytes are a probe: a magic word, the step it was
// sent in, the sender's clock at transmission, the call and the direction.
// The receiver reads the probe wherever the headers in front of it were
// rewritten, so loss and latency are measured end to end and packets of an
// earlier step never count toward a later one. The search runs one bounded
// step per rate (send for duration_ms, then drain for drain_ms), doubles the
// rate until a step loses more than loss_max, bisects between the last pass
// and the first failure, and prints one JSON line per step and a summary.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gateway/core/result.hpp"

namespace tandem::bench {

inline constexpr std::size_t rtp_header_bytes = 12;
inline constexpr std::size_t g711_payload_bytes = 160;  // 20 ms at 8 kHz
inline constexpr std::size_t rtp_packet_bytes = rtp_header_bytes + g711_payload_bytes;
inline constexpr std::uint32_t probe_magic = 0x54444d42;  // "TDMB"

struct probe {
    std::uint32_t step = 0;
    std::uint64_t sent_clock = 0;  // sender's clock units (TSC ticks or ns)
    std::uint32_t call = 0;
    std::uint32_t direction = 0;  // 0: leg A sends toward B, 1: B toward A
};
inline constexpr std::size_t probe_bytes = 24;

// Writes a full RTP packet (header + probe + PCMU silence) into `out`, which
// must hold rtp_packet_bytes.
void write_rtp_packet(std::span<std::uint8_t> out, std::uint16_t sequence, std::uint32_t timestamp,
                      std::uint32_t ssrc, const probe& carried);

// Reads the probe from a UDP payload; nullopt when it is not one of ours.
std::optional<probe> read_probe(std::span<const std::uint8_t> udp_payload);

// Latency in 100 ns buckets below 1 ms and 10 us buckets up to 1 s; slower
// packets land in the last bucket.
class latency_histogram {
  public:
    latency_histogram();
    void add(std::uint64_t latency_ns);
    void clear();
    [[nodiscard]] std::uint64_t count() const { return count_; }
    // Upper edge of the bucket holding the given fraction (0..1), in ns.
    [[nodiscard]] std::uint64_t percentile_ns(double fraction) const;

  private:
    static constexpr std::uint64_t fine_ns = 100;
    static constexpr std::uint64_t fine_limit_ns = 1'000'000;
    static constexpr std::size_t fine_buckets = fine_limit_ns / fine_ns;
    static constexpr std::uint64_t coarse_ns = 10'000;
    static constexpr std::size_t coarse_buckets = (1'000'000'000 - fine_limit_ns) / coarse_ns;
    std::vector<std::uint64_t> buckets_;
    std::uint64_t count_ = 0;
};

// One call of the calls file: leg A at a_address:a_port, leg B at
// b_address:b_port; A sends to relay_address:relay_port_for_a (the port the
// answer's reply SDP advertised), B sends to relay_address:relay_port_for_b
// (the offer's reply SDP). Addresses are IPv4 in network byte order.
struct call_legs {
    std::uint32_t a_address = 0;
    std::uint16_t a_port = 0;
    std::uint32_t b_address = 0;
    std::uint16_t b_port = 0;
    std::uint32_t relay_address = 0;
    std::uint16_t relay_port_for_a = 0;
    std::uint16_t relay_port_for_b = 0;
};

// Text format, one call per line:
//   A_ADDR A_PORT B_ADDR B_PORT RELAY_ADDR RELAY_PORT_FOR_A RELAY_PORT_FOR_B
result<std::vector<call_legs>> read_calls_file(const std::string& path);
std::string format_call_line(const call_legs& call);
result<std::uint32_t> parse_ipv4(const std::string& text);  // network byte order
std::string format_ipv4(std::uint32_t address_network_order);

struct step_result {
    std::uint32_t step = 0;
    double offered_pps = 0;   // the target rate
    double achieved_pps = 0;  // what the generator managed to send
    std::uint64_t sent = 0;   // offered to the device, accepted or not
    std::uint64_t received = 0;
    std::uint64_t misrouted = 0;  // ours, but arrived at the wrong leg
    std::uint64_t p50_ns = 0;
    std::uint64_t p99_ns = 0;
    [[nodiscard]] double loss() const {
        return sent == 0 ? 1.0
                         : static_cast<double>(sent - std::min(sent, received)) / static_cast<double>(sent);
    }
};

struct search_options {
    double start_pps = 100'000;
    double max_pps = 20'000'000;
    double precision = 0.05;   // stop bisecting when (fail - pass) / pass is below this
    double loss_max = 0.0001;  // 0.01 %
    std::uint32_t max_steps = 14;
    std::uint32_t retries = 1;      // repeats of a failed rate before it counts as failed
    double generator_slack = 0.97;  // achieved below this share of offered: the generator is the limit
    double latency_load = 0.5;      // final step at this share of the best rate, for latency at moderate load
};

struct search_summary {
    std::optional<step_result> best;     // highest rate with loss <= loss_max
    std::optional<step_result> at_load;  // the latency step at latency_load * best
    bool generator_bound = false;        // the best step could not reach its offered rate
    std::uint32_t steps = 0;
};

// run_step(rate_pps, step_id) sends one bounded step and reports it.
using step_runner = std::function<step_result(double rate_pps, std::uint32_t step)>;

search_summary search_rate(const search_options& options, const step_runner& run_step);

// One JSON object per line on stdout, flushed, for the orchestrator.
void print_step_json(const step_result& step, bool passed);
void print_summary_json(const search_summary& summary, const std::string& extra_fields_json);

}  // namespace tandem::bench
