#pragma once
// In-place responders: turn a request the classifier accepted into its
// reply inside the same buffer, so a worker sends the received mbuf back
// without allocating. ARP request -> ARP reply, ICMP echo request -> echo
// reply, ICMPv6 echo request -> echo reply, neighbour solicitation ->
// neighbour advertisement (the only one that grows the frame, hence `room`).
//
// respond() trusts the classification for *what* the frame is but checks
// every offset against the buffer before touching it; it returns the
// reply's length in bytes, or 0 (frame untouched) when the verdict has no
// reply or the offsets do not fit. Checksums are computed in software:
// cost is one pass over the ICMP payload (a 64-byte ping: ~30 adds).

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/packet/addresses.hpp"
#include "dataplane/packet/classify.hpp"

namespace tandem::packet {

inline constexpr std::uint8_t reply_ttl = 64;

// `room` is the whole writable buffer starting at the frame; the frame's
// bytes are the first `frame_length` of it.
std::size_t respond(std::span<std::uint8_t> room, std::size_t frame_length, const classification& what,
                    const port_identity& us);

}  // namespace tandem::packet
