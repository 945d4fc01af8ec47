// Fuzz harness: the data plane's control side. A fresh media::session_manager
// per input, over a fake relay_workers that applies every command to a real
// relay_table at once (as the unit tests' fake does), with a manual clock.
//
// The first byte picks the mode:
//   even ('N'): the rest is a sequence of ng datagrams ("cookie d...e", or a
//       bare bencoded dict) separated by "\n==\n", each handled in turn;
//   odd ('S'):  the rest is SDP: "offer SDP\n==\nanswer SDP" (one SDP serves
//       as both when there is no separator), run through offer, answer,
//       query, a re-INVITE from the callee, answer and delete, with the
//       first byte's other bits choosing Kamailio-style flags.
// Between requests the harness plays the workers: it reports learned peers
// for some streams and lets control fold them in (poll), and moves the
// clock so timeouts and delayed deletes fire.
//
// Checks beyond "no crash": every reply is a dict with a string "result";
// an "ok" offer/answer carries SDP that parses again; and once every call is
// deleted, every port pair is back in the pool and no relay rule is left
// in the table (no leaked ports, no stale forwarding).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/media/relay_table.hpp"
#include "dataplane/media/session_manager.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/ng/bencode.hpp"
#include "gateway/ng/ng_message.hpp"
#include "gateway/sdp/sdp.hpp"

namespace {

using namespace tandem;
using namespace tandem::media;

constexpr std::uint16_t port_min = 2000;
constexpr std::uint16_t port_max = 2019;  // ten pairs: running out of ports is reachable
constexpr std::size_t max_requests = 64;
constexpr std::string_view separator = "\n==\n";

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

class table_workers final : public relay_workers {
  public:
    bool send(const relay_command& command) override {
        (void)table.apply(command);
        return true;
    }
    std::optional<relay_event> next_event() override { return table.events().pop(); }
    [[nodiscard]] std::optional<stream_stats_snapshot> stats(std::uint16_t local_port,
                                                             std::uint32_t stream_id) const override {
        return table.stats(local_port, stream_id);
    }

    relay_table table{relay_table_config{port_max + 2U, 64}};
};

media_settings settings() {
    media_settings out;
    out.ipv4_address = "192.0.2.2";
    out.ipv6_address = "2001:db8::2";
    out.port_min = port_min;
    out.port_max = port_max;
    out.max_sessions = 4;
    out.timeout_s = 60;
    out.silent_timeout_s = 600;
    out.final_timeout_s = 3600;
    out.learning_window_ms = 1000;
    return out;
}

// NG_SESSION_FUZZ_TRACE=1 prints each request's command and result, to see
// what a corpus file reaches.
const bool trace = std::getenv("NG_SESSION_FUZZ_TRACE") != nullptr;

std::string printable(std::optional<std::string_view> text) {
    return std::string(text.value_or("").substr(0, 200));
}

struct harness {
    manual_clock time{1'000'000'000};
    table_workers workers;
    session_manager manager{settings(), workers, time};
    std::size_t step = 0;

    ng::value handle(const ng::value& request) {
        ng::value reply = manager.handle(request, "203.0.113.5");
        check(reply.is_dict());
        check(reply.find_string("result").has_value());
        if (trace) {
            std::fprintf(stderr, "%s -> %s %s\n", printable(request.find_string("command")).c_str(),
                         printable(reply.find_string("result")).c_str(),
                         printable(reply.find_string("error-reason")).c_str());
        }
        (void)ng::encode(reply);
        return reply;
    }

    // What workers would report: some streams latch onto another source.
    void play_workers() {
        ++step;
        for (std::uint32_t port = port_min; port <= port_max + 1U; ++port) {
            relay_slot* slot = workers.table.slot(static_cast<std::uint16_t>(port));
            if (slot == nullptr || (port + step) % 3 != 0) {
                continue;
            }
            media_endpoint source;
            source.family = slot->rule.expected_source.family == 6 ? 6 : 4;
            if (source.family == 4) {
                source.address[0] = 198;
                source.address[1] = 51;
                source.address[2] = 100;
                source.address[3] = static_cast<std::uint8_t>(port);
            } else {
                source.address[0] = 0x20;
                source.address[1] = 0x01;
                source.address[2] = 0x0d;
                source.address[3] = 0xb8;
                source.address[15] = static_cast<std::uint8_t>(port);
            }
            source.port = static_cast<std::uint16_t>(port + 10000);
            slot->learned_peer = source;
            workers.table.report_learned(*slot);
        }
        manager.poll();
        // A few seconds per request; now and then past the media timeout.
        time.advance_ms(step % 16 == 15 ? 70'000 : 2'000);
        manager.poll();
    }

    // Deletes whatever is left and checks nothing leaked.
    void finish() {
        const ng::value listed = handle(ng::value(ng::dict{{"command", ng::value("list")}, {"limit", 1000}}));
        if (const auto* calls = listed.find("calls"); calls != nullptr && calls->is_list()) {
            for (const auto& id : calls->items()) {
                if (id.is_string()) {
                    (void)handle(ng::value(ng::dict{{"command", ng::value("delete")}, {"call-id", id}}));
                }
            }
        }
        // Delayed deletes from the input: far in the future, then polled.
        time.advance_ms(10LL * 24 * 3600 * 1000);
        manager.poll();
        check(manager.sessions() == 0);
        check(manager.free_port_pairs() == manager.total_port_pairs());
        for (std::uint32_t port = 0; port < workers.table.ports(); ++port) {
            check(workers.table.slot(static_cast<std::uint16_t>(port)) == nullptr);
        }
    }
};

std::vector<std::string_view> split(std::string_view text, std::size_t limit) {
    std::vector<std::string_view> parts;
    while (parts.size() + 1 < limit) {
        const auto at = text.find(separator);
        if (at == std::string_view::npos) {
            break;
        }
        parts.push_back(text.substr(0, at));
        text.remove_prefix(at + separator.size());
    }
    parts.push_back(text);
    return parts;
}

std::optional<ng::value> decode_request(std::string_view datagram) {
    if (auto message = ng::parse_message(datagram)) {
        return std::move(message.value().body);
    }
    if (auto bare = ng::decode(datagram)) {
        return std::move(bare.value());
    }
    return std::nullopt;
}

void ng_mode(harness& h, std::string_view text) {
    for (const auto datagram : split(text, max_requests)) {
        if (auto request = decode_request(datagram)) {
            (void)h.handle(*request);
        }
        h.play_workers();
    }
}

void check_sdp_reply(const ng::value& reply) {
    if (reply.find_string("result").value_or("") != "ok") {
        return;
    }
    const auto sdp_text = reply.find_string("sdp");
    check(sdp_text.has_value());
    // What we send to the other side must be SDP we would accept ourselves.
    check(sdp::parse(*sdp_text).ok());
}

ng::value sdp_request(std::string_view command, std::string_view from_tag, std::string_view to_tag,
                      std::string_view sdp, std::uint8_t options) {
    ng::list flags;
    if ((options & 0x02) != 0) {
        flags.emplace_back("strict-source");
    }
    if ((options & 0x04) != 0) {
        flags.emplace_back("asymmetric");
    }
    if ((options & 0x08) != 0) {
        flags.emplace_back("SIP-source-address");
    }
    if ((options & 0x10) != 0) {
        flags.emplace_back("full-rtcp-attribute");
    }
    ng::dict request{
        {"command", ng::value(command)},
        {"call-id", ng::value("fuzz-call")},
        {"from-tag", ng::value(from_tag)},
        {"sdp", ng::value(sdp)},
        {"flags", ng::value(std::move(flags))},
        {"replace", ng::value(ng::list{ng::value("origin"), ng::value("session-connection")})},
        {"ICE", ng::value("remove")},
    };
    if (!to_tag.empty()) {
        request.emplace("to-tag", ng::value(to_tag));
    }
    if ((options & 0x20) != 0) {
        request.emplace("rtcp-mux",
                        ng::value(ng::list{ng::value((options & 0x40) != 0 ? "demux" : "offer")}));
    }
    if ((options & 0x80) != 0) {
        request.emplace("address family", ng::value("IP6"));
    }
    return ng::value(std::move(request));
}

void sdp_mode(harness& h, std::string_view text, std::uint8_t options) {
    const auto parts = split(text, 2);
    const std::string_view offer_sdp = parts[0];
    const std::string_view answer_sdp = parts.size() > 1 ? parts[1] : parts[0];

    check_sdp_reply(h.handle(sdp_request("offer", "tag-a", "", offer_sdp, options)));
    h.play_workers();
    check_sdp_reply(h.handle(sdp_request("answer", "tag-a", "tag-b", answer_sdp, options)));
    h.play_workers();
    (void)h.handle(ng::value(ng::dict{{"command", ng::value("query")}, {"call-id", ng::value("fuzz-call")}}));
    // The callee re-INVITEs with the SDPs the other way round.
    check_sdp_reply(h.handle(sdp_request("offer", "tag-b", "tag-a", answer_sdp, options)));
    h.play_workers();
    check_sdp_reply(h.handle(sdp_request("answer", "tag-b", "tag-a", offer_sdp, options)));
    h.play_workers();
    (void)h.handle(ng::value(ng::dict{{"command", ng::value("statistics")}}));
    (void)h.handle(ng::value(ng::dict{{"command", ng::value("delete")},
                                      {"call-id", ng::value("fuzz-call")},
                                      {"from-tag", ng::value("tag-a")}}));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::uint8_t mode = data[0];
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    harness h;
    if ((mode & 1U) == 0) {
        ng_mode(h, rest);
    } else {
        sdp_mode(h, rest, mode);
    }
    h.finish();
    return 0;
}
