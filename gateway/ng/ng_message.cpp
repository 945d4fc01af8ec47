#include "gateway/ng/ng_message.hpp"

namespace tandem::ng {

namespace {

constexpr std::size_t max_cookie_length = 256;

}  // namespace

std::string_view peek_cookie(std::string_view datagram) {
    const std::size_t space = datagram.find(' ');
    if (space == std::string_view::npos || space == 0 || space > max_cookie_length) {
        return {};
    }
    return datagram.substr(0, space);
}

result<message> parse_message(std::string_view datagram, const decode_limits& limits) {
    const std::size_t space = datagram.find(' ');
    if (space == std::string_view::npos) {
        return make_error("ng: no cookie (missing space)");
    }
    if (space == 0) {
        return make_error("ng: empty cookie");
    }
    if (space > max_cookie_length) {
        return make_error("ng: cookie longer than 256 bytes");
    }
    auto body = decode(datagram.substr(space + 1), limits);
    if (!body) {
        return make_error("ng: " + body.message());
    }
    if (!body->is_dict()) {
        return make_error("ng: body is not a dictionary");
    }
    return message{std::string(datagram.substr(0, space)), std::move(body).value()};
}

std::string format_message(std::string_view cookie, const value& body) {
    std::string out;
    out.reserve(cookie.size() + 64);
    out.append(cookie);
    out.push_back(' ');
    encode_to(body, out);
    return out;
}

value make_error_reply(std::string_view reason) {
    return value(dict{{"result", value("error")}, {"error-reason", value(reason)}});
}

}  // namespace tandem::ng
