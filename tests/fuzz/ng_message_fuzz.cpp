// ng datagram harness: parse_message and peek_cookie agree on the cookie,
// and a parsed message formats back into a datagram that parses the same.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/ng/ng_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view datagram(reinterpret_cast<const char*>(data), size);
    const std::string_view cookie = tandem::ng::peek_cookie(datagram);
    auto parsed = tandem::ng::parse_message(datagram);
    if (!parsed) {
        return 0;
    }
    if (parsed->cookie != cookie || !parsed->body.is_dict()) {
        std::abort();
    }
    const std::string formatted = tandem::ng::format_message(parsed->cookie, parsed->body);
    auto again = tandem::ng::parse_message(formatted);
    if (!again || again->cookie != parsed->cookie || !(again->body == parsed->body)) {
        std::abort();
    }
    // Exercise the lookups the server does on every request.
    (void)parsed->body.find_string("command");
    (void)parsed->body.find_string("call-id");
    (void)parsed->body.find("flags");
    return 0;
}
