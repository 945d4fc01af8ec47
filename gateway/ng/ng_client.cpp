#include "gateway/ng/ng_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gateway/ng/ng_message.hpp"
#include "gateway/ng/socket_address.hpp"

namespace tandem::ng {

namespace {

constexpr std::size_t receive_buffer_bytes = 65536;

// A cookie unique across processes (pid), client instances (random) and
// requests (counter), so a late reply to another request never matches.
std::string make_cookie_prefix() {
    std::random_device entropy;
    const std::uint64_t random = (static_cast<std::uint64_t>(entropy()) << 32) | entropy();
    char text[48];
    std::snprintf(text, sizeof(text), "%x_%llx_", static_cast<unsigned>(::getpid()),
                  static_cast<unsigned long long>(random));
    return text;
}

// Errors that a connected UDP socket reports after an ICMP "port
// unreachable": they mean "no answer yet", not a broken client.
bool is_transient(int error_number) {
    return error_number == ECONNREFUSED || error_number == EAGAIN || error_number == EWOULDBLOCK ||
           error_number == EINTR || error_number == EHOSTUNREACH || error_number == ENETUNREACH;
}

}  // namespace

struct client::impl {
    impl(const config::endpoint& where, client_options settings)
        : target(detail::format_endpoint(where)),
          options(settings),
          cookie_prefix(make_cookie_prefix()),
          buffer(receive_buffer_bytes) {}

    ~impl() {
        if (socket_fd >= 0) {
            ::close(socket_fd);
        }
    }

    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;

    int socket_fd = -1;
    std::string target;
    client_options options;
    std::string cookie_prefix;
    std::uint64_t counter = 0;
    std::vector<char> buffer;

    enum class wait_outcome { reply, timeout, failure };

    // Waits until `deadline` for the datagram carrying `cookie`; others are
    // stale replies to earlier requests and are skipped.
    wait_outcome wait_for_reply(std::string_view cookie, std::chrono::steady_clock::time_point deadline,
                                result<value>& out) {
        while (true) {
            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline) {
                return wait_outcome::timeout;
            }
            // Rounded up so a sub-millisecond remainder still waits.
            const auto remaining_us =
                std::chrono::duration_cast<std::chrono::microseconds>(deadline - now).count();
            const int wait_ms = static_cast<int>((remaining_us + 999) / 1000);
            pollfd watched{socket_fd, POLLIN, 0};
            const int ready = ::poll(&watched, 1, wait_ms);
            if (ready < 0 && errno != EINTR) {
                out = make_error(std::string("ng client: poll: ") + std::strerror(errno));
                return wait_outcome::failure;
            }
            if (ready <= 0) {
                continue;
            }
            const ssize_t received =
                ::recv(socket_fd, buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_TRUNC);
            if (received < 0) {
                if (is_transient(errno)) {
                    continue;
                }
                out = make_error("ng client: receive from " + target + ": " + std::strerror(errno));
                return wait_outcome::failure;
            }
            const auto size = static_cast<std::size_t>(received);
            if (size > buffer.size()) {
                continue;  // not a reply we could have produced a request for
            }
            const std::string_view datagram(buffer.data(), size);
            if (peek_cookie(datagram) != cookie) {
                continue;
            }
            auto parsed = parse_message(datagram);
            if (!parsed) {
                out = make_error("ng client: unparseable reply from " + target + ": " + parsed.message());
                return wait_outcome::failure;
            }
            out = std::move(parsed->body);
            return wait_outcome::reply;
        }
    }
};

client::client(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
client::~client() = default;

result<std::unique_ptr<client>> client::connect(const config::endpoint& target, client_options options) {
    auto address = detail::resolve_literal(target);
    if (!address) {
        return make_error("ng client: " + address.message());
    }
    if (target.port == 0) {
        return make_error("ng client: target port 0");
    }
    auto state = std::make_unique<impl>(target, options);
    state->socket_fd = ::socket(address->family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (state->socket_fd < 0) {
        return make_error(std::string("ng client: socket: ") + std::strerror(errno));
    }
    if (::connect(state->socket_fd, address->get(), address->length) != 0) {
        return make_error("ng client: connect to " + state->target + ": " + std::strerror(errno));
    }
    return std::unique_ptr<client>(new client(std::move(state)));
}

result<value> client::request(const value& request) {
    impl& state = *impl_;
    const std::string cookie = state.cookie_prefix + std::to_string(++state.counter);
    const std::string datagram = format_message(cookie, request);
    const std::uint64_t attempts = static_cast<std::uint64_t>(state.options.retries) + 1;
    for (std::uint64_t attempt = 0; attempt < attempts; ++attempt) {
        // Every attempt sends the identical datagram (same cookie), so the
        // server's reply cache answers a retransmission without re-running it.
        const ssize_t sent = ::send(state.socket_fd, datagram.data(), datagram.size(), MSG_DONTWAIT);
        if (sent < 0 && !is_transient(errno)) {
            return make_error("ng client: send to " + state.target + ": " + std::strerror(errno));
        }
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(state.options.timeout_ms);
        result<value> reply = make_error("");
        switch (state.wait_for_reply(cookie, deadline, reply)) {
            case impl::wait_outcome::reply:
            case impl::wait_outcome::failure:
                return reply;
            case impl::wait_outcome::timeout:
                break;
        }
    }
    return make_error("no reply from " + state.target + " after " + std::to_string(attempts) + " attempts");
}

status client::ping() {
    auto reply = request(value(dict{{"command", value("ping")}}));
    if (!reply) {
        return reply.failure();
    }
    const auto outcome = reply->find_string("result");
    if (outcome == std::string_view("pong")) {
        return {};
    }
    if (const auto reason = reply->find_string("error-reason")) {
        return make_error("ping: " + std::string(*reason));
    }
    // Bounded: the reply is the peer's bytes and ends up in a log line.
    return make_error("ping: unexpected reply " + encode(*reply).substr(0, 200));
}

}  // namespace tandem::ng
