// udp_gen: the kernel-socket traffic generator of `tandem bench relay`, for
// relays that live behind the kernel's UDP stack (rtpengine in userspace).
//
//   udp_gen --calls FILE [search options]
//
// Same traffic and the same probe as relay_gen (tools/bench/bench_common.hpp):
// G.711 RTP on both legs of every call, round robin at a paced total rate,
// sent with sendmmsg and received with recvmmsg on one thread. One socket is
// bound per distinct leg endpoint of the calls file, so calls made with
// `ng_calls --port-step 0` need two sockets in all; at most 64 endpoints.
// Latency uses CLOCK_MONOTONIC stamped at transmission.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "tools/bench/bench_common.hpp"

namespace tandem::bench {
namespace {

std::atomic<bool> quit{false};

void on_signal(int) {
    quit.store(true);
}

std::uint64_t now_ns() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ULL +
           static_cast<std::uint64_t>(now.tv_nsec);
}

constexpr std::size_t max_burst = 64;
constexpr std::size_t max_sockets = 64;

struct options {
    std::string calls_file;
    std::uint32_t duration_ms = 3000;
    std::uint32_t drain_ms = 300;
    std::uint32_t settle_quiet_ms = 200;
    std::uint32_t settle_max_ms = 10000;
    std::uint32_t burst = 32;
    int socket_buffer_bytes = 32 << 20;
    search_options search;
};

struct local_socket {
    int fd = -1;
    std::uint32_t address = 0;  // network order
    std::uint16_t port = 0;     // host order
};

class generator {
  public:
    generator(options settings, std::vector<call_legs> calls)
        : settings_(std::move(settings)), calls_(std::move(calls)) {}

    ~generator() {
        for (auto& socket : sockets_) {
            ::close(socket.fd);
        }
    }
    generator(const generator&) = delete;
    generator& operator=(const generator&) = delete;

    status start() {
        std::map<std::uint64_t, std::size_t> by_endpoint;
        const std::size_t legs = calls_.size() * 2;
        leg_socket_.resize(legs);
        leg_destination_.resize(legs);
        sequence_.assign(legs, 0);
        timestamp_.assign(legs, 0);
        for (std::size_t leg = 0; leg < legs; ++leg) {
            const call_legs& call = calls_[leg / 2];
            const bool from_a = leg % 2 == 0;
            const std::uint32_t address = from_a ? call.a_address : call.b_address;
            const std::uint16_t port = from_a ? call.a_port : call.b_port;
            const std::uint64_t key = (static_cast<std::uint64_t>(address) << 16) | port;
            auto found = by_endpoint.find(key);
            if (found == by_endpoint.end()) {
                if (sockets_.size() == max_sockets) {
                    return make_error("more than " + std::to_string(max_sockets) +
                                      " leg endpoints; create the calls with ng_calls --port-step 0");
                }
                auto opened = open_socket(address, port);
                if (!opened) {
                    return error{opened.failure()};
                }
                found = by_endpoint.emplace(key, sockets_.size()).first;
                sockets_.push_back(local_socket{*opened, address, port});
            }
            leg_socket_[leg] = static_cast<std::uint16_t>(found->second);
            sockaddr_in& destination = leg_destination_[leg];
            destination.sin_family = AF_INET;
            destination.sin_addr.s_addr = call.relay_address;
            destination.sin_port = htons(from_a ? call.relay_port_for_a : call.relay_port_for_b);
            sequence_[leg] = static_cast<std::uint16_t>(leg * 7919);
            timestamp_[leg] = static_cast<std::uint32_t>(leg) * 104729U;
        }
        return {};
    }

    [[nodiscard]] std::uint64_t legs() const { return calls_.size() * 2; }

    step_result run_step(double rate_pps, std::uint32_t step, std::uint64_t packets = 0) {
        step_ = step;
        received_ = 0;
        misrouted_ = 0;
        histogram_.clear();
        const std::uint64_t start = now_ns();
        const std::uint64_t send_until = start + settings_.duration_ms * 1'000'000ULL;
        const double packets_per_ns = rate_pps / 1e9;
        std::uint64_t sent = 0;
        std::uint64_t now = start;
        while (!quit.load() && (packets != 0 ? sent < packets : now < send_until)) {
            now = now_ns();
            const auto due = static_cast<std::uint64_t>(static_cast<double>(now - start) * packets_per_ns);
            if (due > sent) {
                std::uint64_t count = std::min<std::uint64_t>(due - sent, settings_.burst);
                if (packets != 0) {
                    count = std::min(count, packets - sent);
                }
                sent += send_burst(count, now);
            }
            poll_rx();
        }
        const std::uint64_t sent_end = now_ns();
        const std::uint64_t drain_until = sent_end + settings_.drain_ms * 1'000'000ULL;
        while (!quit.load() && now_ns() < drain_until) {
            poll_rx();
        }
        const std::uint64_t step_received = received_;
        const std::uint64_t step_misrouted = misrouted_;
        step_ = 0;
        // Settle: an overloaded relay may still hold a backlog; the next
        // step starts once nothing has arrived for settle_quiet_ms (these
        // late packets already count as lost).
        const std::uint64_t settle_until = now_ns() + settings_.settle_max_ms * 1'000'000ULL;
        std::uint64_t quiet_since = now_ns();
        while (!quit.load() && now_ns() < settle_until &&
               now_ns() - quiet_since < settings_.settle_quiet_ms * 1'000'000ULL) {
            const std::uint64_t before = stale_ + received_ + misrouted_;
            poll_rx();
            if (stale_ + received_ + misrouted_ != before) {
                quiet_since = now_ns();
            }
        }
        step_result result;
        result.step = step;
        result.offered_pps = rate_pps;
        result.sent = sent;
        result.received = step_received;
        result.misrouted = step_misrouted;
        const double seconds = static_cast<double>(sent_end - start) / 1e9;
        result.achieved_pps = seconds > 0 ? static_cast<double>(sent) / seconds : 0;
        result.p50_ns = histogram_.percentile_ns(0.50);
        result.p99_ns = histogram_.percentile_ns(0.99);
        return result;
    }

    std::string totals_json() const {
        char text[256];
        std::snprintf(
            text, sizeof(text),
            "\"calls\": %zu, \"sockets\": %zu, \"tx_rejected\": %llu, \"stale\": %llu, \"foreign\": %llu",
            calls_.size(), sockets_.size(), static_cast<unsigned long long>(tx_rejected_),
            static_cast<unsigned long long>(stale_), static_cast<unsigned long long>(foreign_));
        return text;
    }

  private:
    result<int> open_socket(std::uint32_t address, std::uint16_t port) const {
        const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            return make_error(std::string("socket: ") + std::strerror(errno));
        }
        const int size = settings_.socket_buffer_bytes;
        // FORCE variants ignore rmem_max/wmem_max as root; the plain ones are the fallback.
        if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0) {
            (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        }
        if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) != 0) {
            (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
        }
        sockaddr_in local{};
        local.sin_family = AF_INET;
        local.sin_addr.s_addr = address;
        local.sin_port = htons(port);
        if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) {
            const std::string reason = std::strerror(errno);
            ::close(fd);
            return make_error("bind " + format_ipv4(address) + ":" + std::to_string(port) + ": " + reason);
        }
        return fd;
    }

    // Builds `count` packets for the next legs and sends them with one
    // sendmmsg per source socket. Every packet counts as offered.
    std::uint64_t send_burst(std::uint64_t count, std::uint64_t now) {
        count = std::min<std::uint64_t>(count, max_burst);
        const std::size_t legs = calls_.size() * 2;
        std::array<std::uint16_t, max_burst> socket_of{};
        for (std::size_t i = 0; i < count; ++i) {
            const std::size_t leg = next_leg_;
            next_leg_ = next_leg_ + 1 == legs ? 0 : next_leg_ + 1;
            probe carried;
            carried.step = step_;
            carried.sent_clock = now;
            carried.call = static_cast<std::uint32_t>(leg / 2);
            carried.direction = static_cast<std::uint32_t>(leg % 2);
            write_rtp_packet(tx_buffers_[i], sequence_[leg]++, timestamp_[leg],
                             static_cast<std::uint32_t>(leg + 1), carried);
            timestamp_[leg] += 160;
            socket_of[i] = leg_socket_[leg];
            tx_iov_[i] = iovec{tx_buffers_[i].data(), rtp_packet_bytes};
            tx_messages_[i] = mmsghdr{};
            tx_messages_[i].msg_hdr.msg_name = &leg_destination_[leg];
            tx_messages_[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
            tx_messages_[i].msg_hdr.msg_iov = &tx_iov_[i];
            tx_messages_[i].msg_hdr.msg_iovlen = 1;
        }
        // Group by socket: with one socket per side this is two runs.
        std::array<mmsghdr, max_burst> group{};
        std::array<bool, max_burst> done{};
        for (std::size_t first = 0; first < count; ++first) {
            if (done[first]) {
                continue;
            }
            std::size_t size = 0;
            for (std::size_t i = first; i < count; ++i) {
                if (!done[i] && socket_of[i] == socket_of[first]) {
                    group[size++] = tx_messages_[i];
                    done[i] = true;
                }
            }
            const int fd = sockets_[socket_of[first]].fd;
            std::size_t offset = 0;
            while (offset < size) {
                const int accepted = ::sendmmsg(fd, &group[offset], static_cast<unsigned>(size - offset), 0);
                if (accepted <= 0) {
                    tx_rejected_ += size - offset;  // EAGAIN/ENOBUFS: offered, not delivered
                    break;
                }
                offset += static_cast<std::size_t>(accepted);
            }
        }
        return count;
    }

    void poll_rx() {
        for (std::size_t s = 0; s < sockets_.size(); ++s) {
            for (std::size_t i = 0; i < max_burst; ++i) {
                rx_iov_[i] = iovec{rx_buffers_[i].data(), rx_buffers_[i].size()};
                rx_messages_[i] = mmsghdr{};
                rx_messages_[i].msg_hdr.msg_iov = &rx_iov_[i];
                rx_messages_[i].msg_hdr.msg_iovlen = 1;
            }
            const int count =
                ::recvmmsg(sockets_[s].fd, rx_messages_.data(), settings_.burst, MSG_DONTWAIT, nullptr);
            if (count <= 0) {
                continue;
            }
            const std::uint64_t now = now_ns();
            for (int i = 0; i < count; ++i) {
                handle_datagram(
                    s,
                    std::span<const std::uint8_t>(rx_buffers_[static_cast<std::size_t>(i)].data(),
                                                  rx_messages_[static_cast<std::size_t>(i)].msg_len),
                    now);
            }
        }
    }

    void handle_datagram(std::size_t socket_index, std::span<const std::uint8_t> datagram,
                         std::uint64_t now) {
        const auto found = read_probe(datagram);
        if (!found) {
            ++foreign_;
            return;
        }
        if (step_ == 0 || found->step != step_) {
            ++stale_;
            return;
        }
        if (found->call >= calls_.size()) {
            ++misrouted_;
            return;
        }
        const call_legs& call = calls_[found->call];
        const bool to_b = found->direction == 0;
        const local_socket& at = sockets_[socket_index];
        if (at.address != (to_b ? call.b_address : call.a_address) ||
            at.port != (to_b ? call.b_port : call.a_port)) {
            ++misrouted_;
            return;
        }
        ++received_;
        histogram_.add(now > found->sent_clock ? now - found->sent_clock : 0);
    }

    options settings_;
    std::vector<call_legs> calls_;
    std::vector<local_socket> sockets_;
    std::vector<std::uint16_t> leg_socket_;
    std::vector<sockaddr_in> leg_destination_;
    std::vector<std::uint16_t> sequence_;
    std::vector<std::uint32_t> timestamp_;
    std::array<std::array<std::uint8_t, rtp_packet_bytes>, max_burst> tx_buffers_{};
    std::array<iovec, max_burst> tx_iov_{};
    std::array<mmsghdr, max_burst> tx_messages_{};
    std::array<std::array<std::uint8_t, 2048>, max_burst> rx_buffers_{};
    std::array<iovec, max_burst> rx_iov_{};
    std::array<mmsghdr, max_burst> rx_messages_{};
    std::size_t next_leg_ = 0;
    std::uint32_t step_ = 0;
    std::uint64_t received_ = 0;
    std::uint64_t misrouted_ = 0;
    std::uint64_t tx_rejected_ = 0;
    std::uint64_t stale_ = 0;
    std::uint64_t foreign_ = 0;
    latency_histogram histogram_;
};

int run(int argc, char** argv) {
    options settings;
    CLI::App app{"kernel-socket RTP generator for tandem bench relay"};
    app.add_option("--calls", settings.calls_file, "calls file written by ng_calls")->required();
    app.add_option("--duration-ms", settings.duration_ms, "sending time per step");
    app.add_option("--drain-ms", settings.drain_ms, "receiving time after each step");
    app.add_option("--settle-max-ms", settings.settle_max_ms, "bound on waiting for a backlog to clear");
    app.add_option("--burst", settings.burst, "packets per sendmmsg/recvmmsg")->check(CLI::Range(1, 64));
    app.add_option("--start-pps", settings.search.start_pps, "first step's total rate");
    app.add_option("--max-pps", settings.search.max_pps, "highest rate tried");
    app.add_option("--precision", settings.search.precision, "bisect until (fail - pass) / pass is below");
    app.add_option("--loss-max", settings.search.loss_max, "highest loss a step may have to pass");
    app.add_option("--max-steps", settings.search.max_steps, "bound on search steps");
    app.add_option("--retries", settings.search.retries, "repeats of a failed rate");
    app.add_option("--latency-load", settings.search.latency_load,
                   "extra step at this share of the best rate");
    CLI11_PARSE(app, argc, argv);

    auto calls = read_calls_file(settings.calls_file);
    if (!calls) {
        std::fprintf(stderr, "udp_gen: %s\n", calls.message().c_str());
        return 2;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    generator traffic(settings, std::move(*calls));
    if (const status ready = traffic.start(); !ready) {
        std::fprintf(stderr, "udp_gen: %s\n", ready.message().c_str());
        return 1;
    }
    // Warm-up: three packets per leg so the relay learns every peer first.
    (void)traffic.run_step(std::min(settings.search.start_pps, 100'000.0), 0, traffic.legs() * 3);
    const search_summary summary = search_rate(
        settings.search, [&](double rate, std::uint32_t step) { return traffic.run_step(rate, step); });
    print_summary_json(summary, traffic.totals_json());
    return summary.best ? 0 : 1;
}

}  // namespace
}  // namespace tandem::bench

int main(int argc, char** argv) {
    return tandem::bench::run(argc, argv);
}
