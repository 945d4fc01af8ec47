// ng_calls: creates (or deletes) the relay benchmark's calls through the ng
// protocol, the same way against rtpengine and against tandem-dataplane.
//
//   ng_calls --ng 127.0.0.1:2223 --calls 1000 --out calls.txt
//            [--a-address 127.0.0.1 --a-port 40000 --b-address ... --b-port 50000 --port-step 2]
//   ng_calls --ng 127.0.0.1:2223 --calls 1000 --delete
//
// Each call is an offer from leg A (G.711 u-law on a_address:a_port +
// port_step * i) and an answer from leg B, exactly as a SIP proxy's
// rtpengine module sends them. The relay's ports come from the rewritten
// SDP of each reply; the calls file (tools/bench/bench_common.hpp) lists
// them for the generators. --port-step 0 puts every call's leg A on the
// same address and port (and leg B likewise), so a kernel-socket generator
// needs one socket per side. Prints one JSON line: created, failed, seconds.

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#include "gateway/ng/ng_client.hpp"
#include "tools/bench/bench_common.hpp"

namespace tandem::bench {
namespace {

std::string make_sdp(const std::string& address, std::uint16_t port, std::uint32_t session, bool rtcp_mux) {
    return "v=0\r\n"
           "o=- " +
           std::to_string(session) + " 1 IN IP4 " + address +
           "\r\n"
           "s=tandem-bench\r\n"
           "c=IN IP4 " +
           address +
           "\r\n"
           "t=0 0\r\n"
           "m=audio " +
           std::to_string(port) +
           " RTP/AVP 0\r\n"
           "a=rtpmap:0 PCMU/8000\r\n"
           "a=ptime:20\r\n"
           "a=sendrecv\r\n" +
           (rtcp_mux ? "a=rtcp-mux\r\n" : "");
}

struct relay_media {
    std::string address;
    std::uint16_t port = 0;
};

// The first audio m= port and the connection address in force for it.
std::optional<relay_media> read_relay_media(std::string_view sdp) {
    relay_media found;
    bool in_audio = false;
    std::size_t at = 0;
    while (at < sdp.size()) {
        std::size_t end = sdp.find('\n', at);
        if (end == std::string_view::npos) {
            end = sdp.size();
        }
        std::string_view line = sdp.substr(at, end - at);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        at = end + 1;
        if (line.starts_with("m=")) {
            if (in_audio) {
                break;
            }
            if (line.starts_with("m=audio ")) {
                in_audio = true;
                found.port = static_cast<std::uint16_t>(std::stoul(std::string(line.substr(8))));
            }
        } else if (line.starts_with("c=IN IP4 ")) {
            std::string_view address = line.substr(9);
            address = address.substr(0, address.find('/'));
            if (in_audio || found.address.empty()) {
                found.address = std::string(address);
            }
        }
    }
    if (found.port == 0 || found.address.empty()) {
        return std::nullopt;
    }
    return found;
}

result<ng::value> call_ng(ng::client& client, const ng::value& request) {
    auto reply = client.request(request);
    if (!reply) {
        return reply;
    }
    const auto outcome = reply->find_string("result");
    if (!outcome || *outcome != "ok") {
        const auto reason = reply->find_string("error-reason");
        return make_error("ng " + std::string(request.find_string("command").value_or("?")) + ": " +
                          std::string(reason.value_or(outcome.value_or("no result"))));
    }
    return reply;
}

std::string json_safe(std::string text) {
    for (char& c : text) {
        if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
            c = '\'';
        }
    }
    return text;
}

int run(int argc, char** argv) {
    std::string ng_target = "127.0.0.1:2223";
    std::uint32_t count = 1000;
    std::string out_file;
    std::string a_address = "127.0.0.1";
    std::string b_address = "127.0.0.1";
    std::uint16_t a_port = 40000;
    std::uint16_t b_port = 50000;
    std::uint32_t port_step = 2;
    std::string prefix = "bench";
    bool remove = false;
    bool rtcp_mux = false;
    std::uint32_t timeout_ms = 2000;
    CLI::App app{"creates the relay benchmark's calls over ng"};
    app.add_option("--ng", ng_target, "ng control address:port");
    app.add_option("--calls", count, "number of calls");
    app.add_option("--out", out_file, "calls file to write");
    app.add_option("--a-address", a_address, "leg A's IPv4 address");
    app.add_option("--b-address", b_address, "leg B's IPv4 address");
    app.add_option("--a-port", a_port, "leg A's first RTP port");
    app.add_option("--b-port", b_port, "leg B's first RTP port");
    app.add_option("--port-step", port_step,
                   "port increment per call (0: all calls share one port per side)");
    app.add_option("--call-id-prefix", prefix, "call-id prefix");
    app.add_option("--timeout-ms", timeout_ms, "per ng attempt");
    app.add_flag("--delete", remove, "delete the calls instead");
    app.add_flag("--rtcp-mux", rtcp_mux, "offer and answer a=rtcp-mux (RTCP on the RTP port)");
    CLI11_PARSE(app, argc, argv);

    const std::size_t colon = ng_target.rfind(':');
    if (colon == std::string::npos) {
        std::fprintf(stderr, "ng_calls: --ng wants ADDRESS:PORT\n");
        return 2;
    }
    if (static_cast<std::uint64_t>(port_step) * count + std::max(a_port, b_port) > 65535) {
        std::fprintf(stderr, "ng_calls: %u calls with --port-step %u run past port 65535\n", count,
                     port_step);
        return 2;
    }
    config::endpoint target{ng_target.substr(0, colon),
                            static_cast<std::uint16_t>(std::stoul(ng_target.substr(colon + 1)))};
    auto client = ng::client::connect(target, ng::client_options{timeout_ms, 2});
    if (!client) {
        std::fprintf(stderr, "ng_calls: %s\n", client.message().c_str());
        return 2;
    }
    std::ofstream out;
    if (!remove) {
        if (out_file.empty()) {
            std::fprintf(stderr, "ng_calls: --out FILE is required unless --delete\n");
            return 2;
        }
        out.open(out_file);
        if (!out) {
            std::fprintf(stderr, "ng_calls: cannot write %s\n", out_file.c_str());
            return 2;
        }
    }
    auto a_network = parse_ipv4(a_address);
    auto b_network = parse_ipv4(b_address);
    if (!a_network || !b_network) {
        std::fprintf(stderr, "ng_calls: bad leg address\n");
        return 2;
    }

    const auto started = std::chrono::steady_clock::now();
    std::uint32_t done = 0;
    std::uint32_t failed = 0;
    std::string first_error;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::string call_id = prefix + "-" + std::to_string(i);
        const std::string from_tag = "a" + std::to_string(i);
        const std::string to_tag = "b" + std::to_string(i);
        if (remove) {
            auto reply = call_ng(
                **client,
                ng::value(ng::dict{{"command", "delete"}, {"call-id", call_id}, {"from-tag", from_tag}}));
            reply ? ++done : ++failed;
            if (!reply && first_error.empty()) {
                first_error = reply.message();
            }
            continue;
        }
        const auto leg_a_port = static_cast<std::uint16_t>(a_port + port_step * i);
        const auto leg_b_port = static_cast<std::uint16_t>(b_port + port_step * i);
        auto offer =
            call_ng(**client, ng::value(ng::dict{{"command", "offer"},
                                                 {"call-id", call_id},
                                                 {"from-tag", from_tag},
                                                 {"sdp", make_sdp(a_address, leg_a_port, i, rtcp_mux)}}));
        std::optional<relay_media> for_b;
        if (offer) {
            for_b = read_relay_media(offer->find_string("sdp").value_or(""));
        }
        result<ng::value> answer = make_error("offer failed");
        std::optional<relay_media> for_a;
        if (for_b) {
            answer =
                call_ng(**client, ng::value(ng::dict{{"command", "answer"},
                                                     {"call-id", call_id},
                                                     {"from-tag", from_tag},
                                                     {"to-tag", to_tag},
                                                     {"sdp", make_sdp(b_address, leg_b_port, i, rtcp_mux)}}));
            if (answer) {
                for_a = read_relay_media(answer->find_string("sdp").value_or(""));
            }
        }
        if (!for_a || !for_b) {
            ++failed;
            if (first_error.empty()) {
                first_error = !offer    ? offer.message()
                              : !answer ? answer.message()
                                        : "reply SDP without audio";
            }
            continue;
        }
        auto relay_network = parse_ipv4(for_a->address);
        if (!relay_network) {
            ++failed;
            first_error = "relay address is not IPv4: " + for_a->address;
            continue;
        }
        out << format_call_line(call_legs{*a_network, leg_a_port, *b_network, leg_b_port, *relay_network,
                                          for_a->port, for_b->port})
            << '\n';
        ++done;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf(
        "{\"type\": \"ng_calls\", \"command\": \"%s\", \"done\": %u, \"failed\": %u, \"seconds\": %.3f, "
        "\"first_error\": \"%s\"}\n",
        remove ? "delete" : "offer+answer", done, failed, seconds, json_safe(first_error).c_str());
    return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace tandem::bench

int main(int argc, char** argv) {
    return tandem::bench::run(argc, argv);
}
