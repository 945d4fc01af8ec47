#include "dataplane/packet/bytes.hpp"

namespace tandem::packet {

std::uint32_t checksum_add(std::span<const std::uint8_t> bytes, std::uint32_t sum) {
    // 64-bit accumulator: no carry folding inside the loop even for 64 KiB.
    std::uint64_t total = sum;
    std::size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2) {
        total += static_cast<std::uint32_t>((bytes[i] << 8) | bytes[i + 1]);
    }
    if (i < bytes.size()) {
        total += static_cast<std::uint32_t>(bytes[i] << 8);
    }
    while (total >> 32) {
        total = (total & 0xffffffffU) + (total >> 32);
    }
    return static_cast<std::uint32_t>(total);
}

std::uint16_t checksum_finish(std::uint32_t sum) {
    while (sum >> 16) {
        sum = (sum & 0xffffU) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(~sum & 0xffffU);
}

}  // namespace tandem::packet
