// Fuzz harness: arbitrary bytes as a received frame through what a worker
// does before the relay: classify() against a port with and without IPv6,
// then respond() in place in a buffer with exactly the tail room an mbuf
// would have (so ASan sees any write past it). Also the header parsers and
// the address-text parsers on the same bytes. Checks, beyond "no crash":
// the classifier's offsets stay inside the frame, a reply fits its buffer,
// and an answered IPv4 request leaves with a valid header checksum.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "dataplane/packet/addresses.hpp"
#include "dataplane/packet/bytes.hpp"
#include "dataplane/packet/classify.hpp"
#include "dataplane/packet/headers.hpp"
#include "dataplane/packet/respond.hpp"

namespace {

using namespace tandem::packet;

constexpr std::size_t tail_room = 128;  // an mbuf has far more; enough for any reply that grows

const port_identity v4_only{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}, {192, 0, 2, 2}, std::nullopt};
const port_identity dual_stack{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02},
                               {192, 0, 2, 2},
                               ipv6_address{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02}};

bool has_offsets(verdict kind) {
    switch (kind) {
        case verdict::arp_request_for_us:
        case verdict::icmp_echo_for_us:
        case verdict::icmpv6_echo_for_us:
        case verdict::neighbor_solicitation_for_us:
        case verdict::udp_for_us:
        case verdict::other_for_us:
        case verdict::fragment_for_us:
            return true;
        default:
            return false;
    }
}

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

void one_port(std::span<const std::uint8_t> input, const port_identity& us) {
    const classification what = classify(input, us);
    check(!to_string(what.kind).empty());
    if (has_offsets(what.kind)) {
        check(what.l3_offset >= ethernet_header_size);
        check(what.l4_offset >= what.l3_offset);
        check(std::size_t{what.l4_offset} + what.l4_length <= input.size());
    }

    std::vector<std::uint8_t> buffer(input.begin(), input.end());
    buffer.resize(input.size() + tail_room);
    const std::size_t reply = respond(buffer, input.size(), what, us);
    check(reply <= buffer.size());
    if (reply == 0) {
        // Nothing to answer: the frame must be untouched.
        check(std::equal(input.begin(), input.end(), buffer.begin()));
        return;
    }
    const std::span<const std::uint8_t> out(buffer.data(), reply);
    check(std::equal(us.mac.begin(), us.mac.end(), out.begin() + 6));  // from us
    if (what.kind == verdict::icmp_echo_for_us) {
        const auto header = parse_ipv4(out.subspan(what.l3_offset));
        check(header.has_value());
        check(ipv4_header_checksum_ok(out.subspan(what.l3_offset), *header));
        check(header->source == us.ipv4);
    }
    // The reply is itself a frame; classifying it must be as safe.
    (void)classify(out, us);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> input(data, size);
    one_port(input, v4_only);
    one_port(input, dual_stack);

    if (const auto ethernet = parse_ethernet(input)) {
        check(ethernet->payload_offset <= input.size());
        const auto payload = input.subspan(ethernet->payload_offset);
        (void)parse_arp(payload);
        if (const auto v4 = parse_ipv4(payload)) {
            check(v4->header_size <= v4->total_length && v4->total_length <= payload.size());
            (void)ipv4_header_checksum_ok(payload, *v4);
            (void)parse_udp(payload.subspan(v4->header_size, v4->total_length - v4->header_size));
        }
        if (const auto v6 = parse_ipv6(payload)) {
            check(ipv6_header_size + v6->payload_length <= payload.size());
            (void)parse_udp(payload.subspan(ipv6_header_size, v6->payload_length));
        }
    }
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (const auto v4 = parse_ipv4_address(text)) {
        check(parse_ipv4_address(to_string(*v4)) == v4);
    }
    if (const auto v6 = parse_ipv6_address(text)) {
        check(parse_ipv6_address(to_string(*v6)) == v6);
    }
    if (const auto mac = parse_mac_address(text)) {
        check(parse_mac_address(to_string(*mac)) == mac);
    }
    return 0;
}
