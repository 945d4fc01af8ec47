// Bencode decoder harness: any input either fails to decode or decodes to a
// value whose canonical encoding decodes (strictly) to the same value and
// re-encodes to the same bytes.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/ng/bencode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    tandem::ng::decode_limits limits;
    limits.max_depth = 16;
    limits.max_elements = 4096;
    limits.max_string = 4096;
    auto decoded = tandem::ng::decode(input, limits);
    if (!decoded) {
        return 0;
    }
    const std::string canonical = tandem::ng::encode(decoded.value());
    tandem::ng::decode_limits strict = limits;
    strict.strict_keys = true;
    auto again = tandem::ng::decode(canonical, strict);
    if (!again || !(again.value() == decoded.value()) || tandem::ng::encode(again.value()) != canonical) {
        std::abort();
    }
    // Strict decoding admits exactly one spelling per value: the canonical one.
    if (tandem::ng::decode(input, strict) && canonical != input) {
        std::abort();
    }
    return 0;
}
