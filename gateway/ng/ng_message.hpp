#pragma once
// ng datagram framing: "<cookie> <bencoded dictionary>". The cookie is an
// opaque token chosen by the client (no spaces); the reply echoes it.

#include <string>
#include <string_view>

#include "gateway/core/result.hpp"
#include "gateway/ng/bencode.hpp"

namespace tandem::ng {

struct message {
    std::string cookie;
    value body;  // always a dict after a successful parse
};

// Splits and decodes one datagram; errors for a missing cookie, an empty or
// over-long cookie (> 256 bytes), a body that is not a bencoded dict.
result<message> parse_message(std::string_view datagram, const decode_limits& limits = {});

// Only the cookie, for replying to a datagram whose body failed to parse.
// Empty when the datagram has no "cookie " prefix.
std::string_view peek_cookie(std::string_view datagram);

std::string format_message(std::string_view cookie, const value& body);

// Convenience builders for replies in rtpengine's shapes.
value make_error_reply(std::string_view reason);  // {result: error, error-reason: ...}

}  // namespace tandem::ng
