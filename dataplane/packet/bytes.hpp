#pragma once
// Big-endian field access and the Internet checksum (RFC 1071) on plain byte
// spans. The load/store helpers do not check bounds: every caller has
// already checked the span's length (the parsers do it once per header), so
// the hot path pays one comparison per header, not one per field.

#include <cstddef>
#include <cstdint>
#include <span>

namespace tandem::packet {

inline std::uint16_t load_be16(std::span<const std::uint8_t> bytes, std::size_t offset) {
    return static_cast<std::uint16_t>((bytes[offset] << 8) | bytes[offset + 1]);
}

inline std::uint32_t load_be32(std::span<const std::uint8_t> bytes, std::size_t offset) {
    return (static_cast<std::uint32_t>(bytes[offset]) << 24) |
           (static_cast<std::uint32_t>(bytes[offset + 1]) << 16) |
           (static_cast<std::uint32_t>(bytes[offset + 2]) << 8) | bytes[offset + 3];
}

inline void store_be16(std::span<std::uint8_t> bytes, std::size_t offset, std::uint16_t value) {
    bytes[offset] = static_cast<std::uint8_t>(value >> 8);
    bytes[offset + 1] = static_cast<std::uint8_t>(value);
}

inline void store_be32(std::span<std::uint8_t> bytes, std::size_t offset, std::uint32_t value) {
    bytes[offset] = static_cast<std::uint8_t>(value >> 24);
    bytes[offset + 1] = static_cast<std::uint8_t>(value >> 16);
    bytes[offset + 2] = static_cast<std::uint8_t>(value >> 8);
    bytes[offset + 3] = static_cast<std::uint8_t>(value);
}

// One's-complement sum of 16-bit big-endian words, not yet folded; an odd
// trailing byte is padded with zero. Chain calls to cover a pseudo-header.
// Cost: one add per two bytes.
std::uint32_t checksum_add(std::span<const std::uint8_t> bytes, std::uint32_t sum = 0);

// Folds a sum to 16 bits and complements it: the value to store in a
// checksum field. A received header whose checksum field is included in the
// sum is valid when checksum_finish() returns 0.
std::uint16_t checksum_finish(std::uint32_t sum);

}  // namespace tandem::packet
