#include "gateway/ng/ng_server.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>

#include <cerrno>
#include <cstring>
#include <deque>
#include <exception>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/ng/ng_message.hpp"
#include "gateway/ng/socket_address.hpp"

namespace tandem::ng {

namespace {

// 64 KiB holds any UDP payload (IPv4 at most 65507 bytes, IPv6 65527).
constexpr std::size_t receive_buffer_bytes = 65536;
// Largest reply that fits one IPv4 UDP datagram.
constexpr std::size_t max_reply_bytes = 65507;
// poll() wakes at least this often, so stop() is honoured even if the
// eventfd write were lost.
constexpr int poll_timeout_ms = 100;
// Datagrams handled per wake-up before checking the stop flag again.
constexpr int receive_batch = 64;

void close_fd(int& fd) {
    if (fd >= 0) {
        ::close(fd);
        fd = -1;
    }
}

}  // namespace

struct server::impl {
    impl(request_handler handler_function, const clock& clock_source, server_options server_settings)
        : handler(std::move(handler_function)),
          time(clock_source),
          options(std::move(server_settings)),
          buffer(receive_buffer_bytes) {}

    ~impl() {
        close_fd(socket_fd);
        close_fd(wake_fd);
    }

    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;

    struct cache_entry {
        std::string reply;
        std::int64_t expires_ms = 0;
    };

    int socket_fd = -1;
    int wake_fd = -1;
    std::uint16_t port = 0;
    request_handler handler;
    const clock& time;
    server_options options;
    server_counters counters;
    std::atomic<bool> stopping{false};
    std::vector<char> buffer;

    // Insertion order is expiry order (one TTL for all), so the front of
    // cache_order is both the oldest and the first to expire.
    std::unordered_map<std::string, cache_entry> cache;
    std::deque<std::string> cache_order;
    std::size_t cache_bytes = 0;

    void forget_oldest() {
        const auto it = cache.find(cache_order.front());
        if (it != cache.end()) {
            cache_bytes -= it->first.size() + it->second.reply.size();
            cache.erase(it);
        }
        cache_order.pop_front();
    }

    void expire_cache(std::int64_t now_ms) {
        while (!cache_order.empty()) {
            const auto it = cache.find(cache_order.front());
            if (it != cache.end() && it->second.expires_ms > now_ms) {
                return;
            }
            forget_oldest();
        }
    }

    void remember(std::string key, std::string reply, std::int64_t now_ms) {
        const std::size_t bytes = key.size() + reply.size();
        if (options.cache_max_entries == 0 || bytes > options.cache_max_bytes) {
            return;
        }
        while (!cache_order.empty() &&
               (cache.size() >= options.cache_max_entries || cache_bytes + bytes > options.cache_max_bytes)) {
            forget_oldest();
        }
        const bool inserted =
            cache.try_emplace(key, cache_entry{std::move(reply), now_ms + options.cache_ttl_ms}).second;
        if (inserted) {
            cache_bytes += bytes;
            cache_order.push_back(std::move(key));
        }
    }

    void send_to(std::string_view datagram, const sockaddr* peer, socklen_t peer_length) {
        const ssize_t sent =
            ::sendto(socket_fd, datagram.data(), datagram.size(), MSG_DONTWAIT, peer, peer_length);
        if (sent < 0 || static_cast<std::size_t>(sent) != datagram.size()) {
            counters.send_failed.fetch_add(1, std::memory_order_relaxed);
        }
    }

    void count_reply(const value& reply) {
        if (reply.find_string("result") == std::string_view("error")) {
            counters.errors.fetch_add(1, std::memory_order_relaxed);
        }
    }

    value dispatch(const value& request, const request_context& context) {
        if (!request.find_string("command")) {
            return make_error_reply("missing command");
        }
        value reply;
        try {
            reply = handler(request, context);
        } catch (const std::exception& failure) {
            return make_error_reply(std::string("internal error: ") + failure.what());
        } catch (...) {
            return make_error_reply("internal error");
        }
        if (!reply.find_string("result")) {
            return make_error_reply("internal error: reply without result");
        }
        return reply;
    }

    void handle_datagram(std::string_view datagram, const sockaddr* peer, socklen_t peer_length,
                         bool truncated) {
        const std::string_view cookie = peek_cookie(datagram);
        if (truncated) {
            counters.malformed.fetch_add(1, std::memory_order_relaxed);
            if (!cookie.empty()) {
                const value reply = make_error_reply("datagram too large");
                count_reply(reply);
                send_to(format_message(cookie, reply), peer, peer_length);
            }
            return;
        }

        const std::int64_t now_ms = time.now_ms();
        expire_cache(now_ms);
        request_context context{detail::format_address(peer, peer_length)};
        std::string cache_key;
        if (!cookie.empty()) {
            cache_key.reserve(context.peer.size() + 1 + cookie.size());
            cache_key.append(context.peer).append(1, ' ').append(cookie);
            const auto hit = cache.find(cache_key);
            if (hit != cache.end()) {
                counters.replies_cached.fetch_add(1, std::memory_order_relaxed);
                send_to(hit->second.reply, peer, peer_length);
                return;
            }
        }

        auto parsed = parse_message(datagram);
        if (!parsed) {
            counters.malformed.fetch_add(1, std::memory_order_relaxed);
            if (!cookie.empty()) {
                const value reply = make_error_reply(parsed.message());
                count_reply(reply);
                send_to(format_message(cookie, reply), peer, peer_length);
            }
            return;
        }
        counters.requests.fetch_add(1, std::memory_order_relaxed);

        value reply = dispatch(parsed->body, context);
        std::string wire = format_message(cookie, reply);
        if (wire.size() > max_reply_bytes) {
            reply = make_error_reply("reply too large for one datagram");
            wire = format_message(cookie, reply);
        }
        count_reply(reply);
        send_to(wire, peer, peer_length);
        remember(std::move(cache_key), std::move(wire), now_ms);
    }

    void receive_batch_of_datagrams() {
        for (int i = 0; i < receive_batch && !stopping.load(std::memory_order_relaxed); ++i) {
            sockaddr_storage peer{};
            socklen_t peer_length = sizeof(peer);
            // MSG_TRUNC makes recvfrom report the datagram's real size.
            const ssize_t received =
                ::recvfrom(socket_fd, buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_TRUNC,
                           reinterpret_cast<sockaddr*>(&peer), &peer_length);
            if (received < 0) {
                return;  // EAGAIN: drained; anything else: try again on the next poll
            }
            const auto size = static_cast<std::size_t>(received);
            const bool truncated = size > buffer.size();
            handle_datagram(std::string_view(buffer.data(), truncated ? buffer.size() : size),
                            reinterpret_cast<const sockaddr*>(&peer), peer_length, truncated);
        }
    }
};

server::server(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
server::~server() = default;

result<std::unique_ptr<server>> server::bind(const config::endpoint& listen, request_handler handler,
                                             const clock& time, server_options options) {
    if (!handler) {
        return make_error("ng server: no request handler");
    }
    auto address = detail::resolve_literal(listen);
    if (!address) {
        return make_error("ng server: " + address.message());
    }
    auto state = std::make_unique<impl>(std::move(handler), time, std::move(options));
    state->socket_fd = ::socket(address->family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (state->socket_fd < 0) {
        return make_error(std::string("ng server: socket: ") + std::strerror(errno));
    }
    if (::bind(state->socket_fd, address->get(), address->length) != 0) {
        return make_error("ng server: cannot bind " + detail::format_endpoint(listen) + ": " +
                          std::strerror(errno));
    }
    sockaddr_storage bound{};
    socklen_t bound_length = sizeof(bound);
    if (::getsockname(state->socket_fd, reinterpret_cast<sockaddr*>(&bound), &bound_length) != 0) {
        return make_error(std::string("ng server: getsockname: ") + std::strerror(errno));
    }
    if (bound.ss_family == AF_INET) {
        state->port = ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
    } else {
        state->port = ntohs(reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port);
    }
    state->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (state->wake_fd < 0) {
        return make_error(std::string("ng server: eventfd: ") + std::strerror(errno));
    }
    return std::unique_ptr<server>(new server(std::move(state)));
}

void server::run() {
    impl& state = *impl_;
    const std::int64_t tick_ms = state.options.on_tick ? state.options.tick_interval_ms : 0;
    const int timeout_ms =
        tick_ms > 0 ? static_cast<int>(std::min<std::int64_t>(tick_ms, poll_timeout_ms)) : poll_timeout_ms;
    std::int64_t next_tick_ms = state.time.now_ms() + tick_ms;
    while (!state.stopping.load(std::memory_order_acquire)) {
        if (tick_ms > 0 && state.time.now_ms() >= next_tick_ms) {
            state.options.on_tick();
            next_tick_ms = state.time.now_ms() + tick_ms;
        }
        pollfd watched[2] = {{state.socket_fd, POLLIN, 0}, {state.wake_fd, POLLIN, 0}};
        const int ready = ::poll(watched, 2, timeout_ms);
        if (ready <= 0) {
            continue;  // timeout or EINTR: re-check the flag
        }
        if ((watched[1].revents & POLLIN) != 0) {
            std::uint64_t ignored = 0;
            [[maybe_unused]] const ssize_t drained = ::read(state.wake_fd, &ignored, sizeof(ignored));
        }
        if ((watched[0].revents & (POLLIN | POLLERR)) != 0) {
            state.receive_batch_of_datagrams();
        }
    }
}

void server::stop() {
    impl_->stopping.store(true, std::memory_order_release);
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = ::write(impl_->wake_fd, &one, sizeof(one));
}

std::uint16_t server::local_port() const {
    return impl_->port;
}

const server_counters& server::counters() const {
    return impl_->counters;
}

}  // namespace tandem::ng
