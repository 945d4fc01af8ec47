// Fuzz harness for the config loader: arbitrary bytes as a YAML file.
// parse_config() must return a value or an error, never throw or crash.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gateway/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto parsed = tandem::config::parse_config(text, "fuzz.yaml");
    // Errors must stay one line: a newline would let file content forge log lines.
    if (!parsed.ok() && parsed.message().find('\n') != std::string::npos) {
        __builtin_trap();
    }
    return 0;
}
