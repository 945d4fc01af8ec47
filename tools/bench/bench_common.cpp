#include "tools/bench/bench_common.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tandem::bench {

namespace {

void put_u16(std::uint8_t* at, std::uint16_t value) {
    at[0] = static_cast<std::uint8_t>(value >> 8);
    at[1] = static_cast<std::uint8_t>(value);
}

void put_u32(std::uint8_t* at, std::uint32_t value) {
    at[0] = static_cast<std::uint8_t>(value >> 24);
    at[1] = static_cast<std::uint8_t>(value >> 16);
    at[2] = static_cast<std::uint8_t>(value >> 8);
    at[3] = static_cast<std::uint8_t>(value);
}

std::uint32_t get_u32(const std::uint8_t* at) {
    return (static_cast<std::uint32_t>(at[0]) << 24) | (static_cast<std::uint32_t>(at[1]) << 16) |
           (static_cast<std::uint32_t>(at[2]) << 8) | at[3];
}

}  // namespace

void write_rtp_packet(std::span<std::uint8_t> out, std::uint16_t sequence, std::uint32_t timestamp,
                      std::uint32_t ssrc, const probe& carried) {
    std::uint8_t* p = out.data();
    p[0] = 0x80;  // version 2, no padding, no extension, no CSRC
    p[1] = 0;     // payload type 0: PCMU
    put_u16(p + 2, sequence);
    put_u32(p + 4, timestamp);
    put_u32(p + 8, ssrc);
    std::uint8_t* payload = p + rtp_header_bytes;
    put_u32(payload, probe_magic);
    put_u32(payload + 4, carried.step);
    put_u32(payload + 8, static_cast<std::uint32_t>(carried.sent_clock >> 32));
    put_u32(payload + 12, static_cast<std::uint32_t>(carried.sent_clock));
    put_u32(payload + 16, carried.call);
    put_u32(payload + 20, carried.direction);
    std::memset(payload + probe_bytes, 0xff, g711_payload_bytes - probe_bytes);  // PCMU silence
}

std::optional<probe> read_probe(std::span<const std::uint8_t> udp_payload) {
    if (udp_payload.size() < rtp_header_bytes + probe_bytes) {
        return std::nullopt;
    }
    const std::uint8_t* payload = udp_payload.data() + rtp_header_bytes;
    if (get_u32(payload) != probe_magic) {
        return std::nullopt;
    }
    probe found;
    found.step = get_u32(payload + 4);
    found.sent_clock = (static_cast<std::uint64_t>(get_u32(payload + 8)) << 32) | get_u32(payload + 12);
    found.call = get_u32(payload + 16);
    found.direction = get_u32(payload + 20);
    return found;
}

// Two tiers: 100 ns buckets below 1 ms, 10 us buckets from 1 ms to 1 s.
latency_histogram::latency_histogram() : buckets_(fine_buckets + coarse_buckets + 1, 0) {}

void latency_histogram::add(std::uint64_t latency_ns) {
    std::size_t index = 0;
    if (latency_ns < fine_limit_ns) {
        index = latency_ns / fine_ns;
    } else {
        index =
            fine_buckets + std::min<std::uint64_t>((latency_ns - fine_limit_ns) / coarse_ns, coarse_buckets);
    }
    ++buckets_[index];
    ++count_;
}

void latency_histogram::clear() {
    std::fill(buckets_.begin(), buckets_.end(), 0);
    count_ = 0;
}

std::uint64_t latency_histogram::percentile_ns(double fraction) const {
    if (count_ == 0) {
        return 0;
    }
    const auto wanted = static_cast<std::uint64_t>(fraction * static_cast<double>(count_));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
        seen += buckets_[i];
        if (seen > wanted) {
            return i < fine_buckets ? (i + 1) * fine_ns : fine_limit_ns + (i - fine_buckets + 1) * coarse_ns;
        }
    }
    return fine_limit_ns + (coarse_buckets + 1) * coarse_ns;
}

result<std::uint32_t> parse_ipv4(const std::string& text) {
    in_addr address{};
    if (inet_pton(AF_INET, text.c_str(), &address) != 1) {
        return make_error("not an IPv4 address: " + text);
    }
    return address.s_addr;
}

std::string format_ipv4(std::uint32_t address_network_order) {
    char text[INET_ADDRSTRLEN] = {};
    in_addr address{};
    address.s_addr = address_network_order;
    inet_ntop(AF_INET, &address, text, sizeof(text));
    return text;
}

result<std::vector<call_legs>> read_calls_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return make_error(path + ": cannot open");
    }
    std::vector<call_legs> calls;
    std::string line;
    std::size_t line_number = 0;
    while (std::getline(in, line)) {
        ++line_number;
        if (line.empty() || line[0] == '#') {
            continue;
        }
        std::istringstream fields(line);
        std::string a, b, relay;
        unsigned a_port = 0, b_port = 0, port_for_a = 0, port_for_b = 0;
        if (!(fields >> a >> a_port >> b >> b_port >> relay >> port_for_a >> port_for_b) || a_port > 65535 ||
            b_port > 65535 || port_for_a > 65535 || port_for_b > 65535) {
            return make_error(path + ":" + std::to_string(line_number) +
                              ": expected A_ADDR A_PORT B_ADDR B_PORT RELAY_ADDR PORT_FOR_A PORT_FOR_B");
        }
        auto a_address = parse_ipv4(a);
        auto b_address = parse_ipv4(b);
        auto relay_address = parse_ipv4(relay);
        if (!a_address || !b_address || !relay_address) {
            return make_error(path + ":" + std::to_string(line_number) + ": bad IPv4 address");
        }
        calls.push_back(call_legs{
            *a_address, static_cast<std::uint16_t>(a_port), *b_address, static_cast<std::uint16_t>(b_port),
            *relay_address, static_cast<std::uint16_t>(port_for_a), static_cast<std::uint16_t>(port_for_b)});
    }
    if (calls.empty()) {
        return make_error(path + ": no calls");
    }
    return calls;
}

std::string format_call_line(const call_legs& call) {
    return format_ipv4(call.a_address) + " " + std::to_string(call.a_port) + " " +
           format_ipv4(call.b_address) + " " + std::to_string(call.b_port) + " " +
           format_ipv4(call.relay_address) + " " + std::to_string(call.relay_port_for_a) + " " +
           std::to_string(call.relay_port_for_b);
}

search_summary search_rate(const search_options& options, const step_runner& run_step) {
    search_summary summary;
    double rate = std::min(options.start_pps, options.max_pps);
    std::optional<double> pass_rate;
    std::optional<double> fail_rate;
    while (summary.steps < options.max_steps) {
        step_result step = run_step(rate, ++summary.steps);
        bool passed = step.loss() <= options.loss_max;
        print_step_json(step, passed);
        // One repeat of a failed rate: on a shared machine a single
        // preemption of a busy-polling core can lose a ring's worth.
        for (std::uint32_t retry = 0; !passed && retry < options.retries && summary.steps < options.max_steps;
             ++retry) {
            step = run_step(rate, ++summary.steps);
            passed = step.loss() <= options.loss_max;
            print_step_json(step, passed);
        }
        const bool generator_limited = step.achieved_pps < options.generator_slack * step.offered_pps;
        if (passed) {
            if (!summary.best || step.achieved_pps > summary.best->achieved_pps) {
                summary.best = step;
                summary.generator_bound = generator_limited;
            }
            pass_rate = rate;
            if (generator_limited) {
                break;  // asking for more would measure the generator, not the device
            }
        } else {
            fail_rate = rate;
        }
        if (!fail_rate) {
            if (rate >= options.max_pps) {
                break;
            }
            rate = std::min(rate * 2, options.max_pps);
        } else if (!pass_rate) {
            rate = *fail_rate / 2;
            if (rate < 100) {
                break;
            }
        } else {
            if ((*fail_rate - *pass_rate) / *pass_rate <= options.precision) {
                break;
            }
            rate = (*pass_rate + *fail_rate) / 2;
        }
    }
    if (summary.best && options.latency_load > 0) {
        const step_result step = run_step(summary.best->offered_pps * options.latency_load, ++summary.steps);
        print_step_json(step, step.loss() <= options.loss_max);
        summary.at_load = step;
    }
    return summary;
}

namespace {

std::string step_json(const step_result& step) {
    char text[512];
    std::snprintf(
        text, sizeof(text),
        "{\"step\": %u, \"offered_pps\": %.0f, \"achieved_pps\": %.0f, \"sent\": %llu, "
        "\"received\": %llu, \"misrouted\": %llu, \"loss\": %.8f, \"p50_ns\": %llu, \"p99_ns\": %llu}",
        step.step, step.offered_pps, step.achieved_pps, static_cast<unsigned long long>(step.sent),
        static_cast<unsigned long long>(step.received), static_cast<unsigned long long>(step.misrouted),
        step.loss(), static_cast<unsigned long long>(step.p50_ns),
        static_cast<unsigned long long>(step.p99_ns));
    return text;
}

}  // namespace

void print_step_json(const step_result& step, bool passed) {
    std::printf("{\"type\": \"step\", \"passed\": %s, \"result\": %s}\n", passed ? "true" : "false",
                step_json(step).c_str());
    std::fflush(stdout);
}

void print_summary_json(const search_summary& summary, const std::string& extra_fields_json) {
    std::printf(
        "{\"type\": \"summary\", \"steps\": %u, \"generator_bound\": %s, \"best\": %s, \"at_load\": "
        "%s%s%s}\n",
        summary.steps, summary.generator_bound ? "true" : "false",
        summary.best ? step_json(*summary.best).c_str() : "null",
        summary.at_load ? step_json(*summary.at_load).c_str() : "null", extra_fields_json.empty() ? "" : ", ",
        extra_fields_json.c_str());
    std::fflush(stdout);
}

}  // namespace tandem::bench
