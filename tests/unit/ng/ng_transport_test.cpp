// Server and client over UDP on the loopback interface. Ports come from the
// kernel (port 0). Waits use generous safety timeouts so a broken build
// fails instead of hanging; no assertion depends on how fast anything runs.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "gateway/core/clock.hpp"
#include "gateway/ng/bencode.hpp"
#include "gateway/ng/ng_client.hpp"
#include "gateway/ng/ng_message.hpp"
#include "gateway/ng/ng_server.hpp"

namespace tandem::ng {
namespace {

constexpr int safety_timeout_ms = 10'000;

// A plain UDP socket on 127.0.0.1 for playing client or fake server.
class raw_udp {
  public:
    raw_udp() {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in local{};
        local.sin_family = AF_INET;
        local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)), 0);
        socklen_t length = sizeof(local);
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length);
        port_ = ntohs(local.sin_port);
    }
    ~raw_udp() { ::close(fd_); }
    raw_udp(const raw_udp&) = delete;
    raw_udp& operator=(const raw_udp&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }

    void send_to(std::uint16_t port, std::string_view datagram) const {
        sockaddr_in peer{};
        peer.sin_family = AF_INET;
        peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        peer.sin_port = htons(port);
        ASSERT_EQ(::sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&peer),
                           sizeof(peer)),
                  static_cast<ssize_t>(datagram.size()));
    }

    // The next datagram and the port it came from; nullopt after the safety timeout.
    std::optional<std::string> receive(std::uint16_t* from_port = nullptr) const {
        pollfd watched{fd_, POLLIN, 0};
        if (::poll(&watched, 1, safety_timeout_ms) != 1) {
            return std::nullopt;
        }
        std::string buffer(65536, '\0');
        sockaddr_in peer{};
        socklen_t length = sizeof(peer);
        const ssize_t received =
            ::recvfrom(fd_, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&peer), &length);
        if (received < 0) {
            return std::nullopt;
        }
        if (from_port != nullptr) {
            *from_port = ntohs(peer.sin_port);
        }
        buffer.resize(static_cast<std::size_t>(received));
        return buffer;
    }

  private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

// A server running on its own thread for the duration of a test.
class running_server {
  public:
    running_server(request_handler handler, const clock& time, server_options options = {},
                   const std::string& address = "127.0.0.1") {
        auto bound = server::bind({address, 0}, std::move(handler), time, options);
        if (!bound) {
            error_ = bound.message();
            return;
        }
        server_ = std::move(bound).value();
        thread_ = std::thread([this] { server_->run(); });
    }
    ~running_server() {
        if (server_) {
            server_->stop();
            thread_.join();
        }
    }
    running_server(const running_server&) = delete;
    running_server& operator=(const running_server&) = delete;

    [[nodiscard]] bool ok() const { return server_ != nullptr; }
    [[nodiscard]] const std::string& error_message() const { return error_; }
    [[nodiscard]] std::uint16_t port() const { return server_->local_port(); }
    [[nodiscard]] const server_counters& counters() const { return server_->counters(); }

  private:
    std::unique_ptr<server> server_;
    std::thread thread_;
    std::string error_;
};

// Answers ping with pong and anything else with {result: ok, seen: N}.
struct counting_handler {
    std::atomic<int>* calls;
    value operator()(const value& request, const request_context& context) const {
        const int call = ++*calls;
        if (request.find_string("command") == std::string_view("ping")) {
            return value(dict{{"result", value("pong")}});
        }
        if (request.find_string("command") == std::string_view("throw")) {
            throw std::runtime_error("boom");
        }
        return value(dict{{"result", value("ok")}, {"seen", value(call)}, {"peer", value(context.peer)}});
    }
};

TEST(ng_server, ping_pong_through_the_client) {
    std::atomic<int> calls{0};
    steady_clock time;
    running_server server(counting_handler{&calls}, time);
    ASSERT_TRUE(server.ok()) << server.error_message();
    EXPECT_NE(server.port(), 0);

    auto connected = client::connect({"127.0.0.1", server.port()});
    ASSERT_TRUE(connected.ok()) << connected.message();
    const status pinged = connected.value()->ping();
    EXPECT_TRUE(pinged.ok()) << pinged.message();
    EXPECT_EQ(calls.load(), 1);
    EXPECT_EQ(server.counters().requests.load(), 1U);
}

TEST(ng_server, client_requests_get_distinct_cookies) {
    std::atomic<int> calls{0};
    steady_clock time;
    running_server server(counting_handler{&calls}, time);
    ASSERT_TRUE(server.ok());
    auto connected = client::connect({"127.0.0.1", server.port()});
    ASSERT_TRUE(connected.ok());
    const value query(dict{{"command", value("query")}});
    auto first = connected.value()->request(query);
    auto second = connected.value()->request(query);
    ASSERT_TRUE(first.ok()) << first.message();
    ASSERT_TRUE(second.ok()) << second.message();
    // Both ran: a reused cookie would have returned the cached first reply.
    EXPECT_EQ(first->find_integer("seen"), 1);
    EXPECT_EQ(second->find_integer("seen"), 2);
    EXPECT_EQ(calls.load(), 2);
}

TEST(ng_server, retransmission_is_answered_from_the_cache) {
    std::atomic<int> calls{0};
    steady_clock time;
    running_server server(counting_handler{&calls}, time);
    ASSERT_TRUE(server.ok());
    raw_udp peer;
    const std::string request = "retrans-1 d7:command5:query7:call-id3:abce";
    peer.send_to(server.port(), request);
    const auto first = peer.receive();
    peer.send_to(server.port(), request);
    const auto second = peer.receive();
    ASSERT_TRUE(first && second);
    EXPECT_EQ(*first, *second);
    EXPECT_EQ(first->rfind("retrans-1 ", 0), 0U);
    EXPECT_EQ(calls.load(), 1);
    EXPECT_EQ(server.counters().requests.load(), 1U);
    EXPECT_EQ(server.counters().replies_cached.load(), 1U);
}

TEST(ng_server, same_cookie_from_another_peer_is_a_new_request) {
    std::atomic<int> calls{0};
    steady_clock time;
    running_server server(counting_handler{&calls}, time);
    ASSERT_TRUE(server.ok());
    raw_udp first_peer;
    raw_udp second_peer;
    const std::string request = "shared d7:command5:querye";
    first_peer.send_to(server.port(), request);
    ASSERT_TRUE(first_peer.receive());
    second_peer.send_to(server.port(), request);
    ASSERT_TRUE(second_peer.receive());
    EXPECT_EQ(calls.load(), 2);
}

TEST(ng_server, cache_entries_expire_after_the_ttl) {
    std::atomic<int> calls{0};
    manual_clock time;
    server_options options;
    options.cache_ttl_ms = 1000;
    running_server server(counting_handler{&calls}, time, options);
    ASSERT_TRUE(server.ok());
    raw_udp peer;
    const std::string request = "ttl-1 d7:command5:querye";

    peer.send_to(server.port(), request);
    ASSERT_TRUE(peer.receive());
    time.advance_ms(999);
    peer.send_to(server.port(), request);
    const auto cached = peer.receive();
    ASSERT_TRUE(cached);
    EXPECT_EQ(calls.load(), 1);

    time.advance_ms(1);
    peer.send_to(server.port(), request);
    const auto fresh = peer.receive();
    ASSERT_TRUE(fresh);
    EXPECT_EQ(calls.load(), 2);
    EXPECT_NE(*cached, *fresh);  // "seen" went from 1 to 2
}

TEST(ng_server, cache_evicts_the_oldest_entry_when_full) {
    std::atomic<int> calls{0};
    manual_clock time;
    server_options options;
    options.cache_max_entries = 2;
    running_server server(counting_handler{&calls}, time, options);
    ASSERT_TRUE(server.ok());
    raw_udp peer;
    for (const char* request : {"a d7:command5:querye", "b d7:command5:querye", "c d7:command5:querye"}) {
        peer.send_to(server.port(), request);
        ASSERT_TRUE(peer.receive());
    }
    EXPECT_EQ(calls.load(), 3);
    peer.send_to(server.port(), "c d7:command5:querye");  // still cached
    ASSERT_TRUE(peer.receive());
    EXPECT_EQ(calls.load(), 3);
    peer.send_to(server.port(), "a d7:command5:querye");  // evicted by c
    ASSERT_TRUE(peer.receive());
    EXPECT_EQ(calls.load(), 4);
}

TEST(ng_server, cache_evicts_the_oldest_entry_beyond_its_byte_budget) {
    std::atomic<int> calls{0};
    manual_clock time;
    server_options options;
    options.cache_max_bytes = 100;  // one "peer cookie" key + ~45-byte reply fits, two do not
    running_server server(counting_handler{&calls}, time, options);
    ASSERT_TRUE(server.ok());
    raw_udp peer;
    for (const char* request : {"a d7:command5:querye", "b d7:command5:querye", "b d7:command5:querye"}) {
        peer.send_to(server.port(), request);
        ASSERT_TRUE(peer.receive());
    }
    EXPECT_EQ(calls.load(), 2);  // the second b came from the cache
    peer.send_to(server.port(), "a d7:command5:querye");
    ASSERT_TRUE(peer.receive());
    EXPECT_EQ(calls.load(), 3);  // a was evicted to make room for b
}

TEST(ng_server, malformed_body_gets_an_error_reply_with_the_cookie) {
    std::atomic<int> calls{0};
    steady_clock time;
    running_server server(counting_handler{&calls}, time);
    ASSERT_TRUE(server.ok());
    raw_udp peer;
    peer.send_to(server.port(), "bad-1 d7:comman");
    const auto reply = peer.receive();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->rfind("bad-1 d12:error-reason", 0), 0U) << *reply;
    auto parsed = parse_message(*reply);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->body.find_string("result"), std::string_view("error"));
    EXPECT_EQ(calls.load(), 0);
    EXPECT_EQ(server.counters().malformed.load(), 1U);
    EXPECT_EQ(server.counters().errors.load(), 1U);
}

TEST(ng_server, datagram_without_cookie_is_dropped_and_counted) {
    std::atomic<int> calls{0};
    steady_clock time;
    running_server server(counting_handler{&calls}, time);
    ASSERT_TRUE(server.ok());
    raw_udp peer;
    peer.send_to(server.port(), "no-cookie-here");
    peer.send_to(server.port(), "after d7:command4:pinge");
    // The first reply to arrive belongs to the second datagram: the first got none.
    const auto reply = peer.receive();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->rfind("after ", 0), 0U) << *reply;
    EXPECT_EQ(server.counters().malformed.load(), 1U);
    EXPECT_EQ(calls.load(), 1);
}

TEST(ng_server, body_without_command_is_rejected_before_the_handler) {
    std::atomic<int> calls{0};
    steady_clock time;
    running_server server(counting_handler{&calls}, time);
    ASSERT_TRUE(server.ok());
    raw_udp peer;
    peer.send_to(server.port(), "nc-1 d7:call-id3:abce");
    auto reply = peer.receive();
    ASSERT_TRUE(reply);
    auto parsed = parse_message(*reply);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->body.find_string("result"), std::string_view("error"));
    EXPECT_EQ(parsed->body.find_string("error-reason"), std::string_view("missing command"));

    peer.send_to(server.port(), "nc-2 d7:commandi5ee");  // command is not a string
    reply = peer.receive();
    ASSERT_TRUE(reply);
    parsed = parse_message(*reply);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->body.find_string("error-reason"), std::string_view("missing command"));
    EXPECT_EQ(calls.load(), 0);
    EXPECT_EQ(server.counters().errors.load(), 2U);
}

TEST(ng_server, handler_exception_becomes_an_error_reply_and_the_loop_survives) {
    std::atomic<int> calls{0};
    steady_clock time;
    running_server server(counting_handler{&calls}, time);
    ASSERT_TRUE(server.ok());
    auto connected = client::connect({"127.0.0.1", server.port()});
    ASSERT_TRUE(connected.ok());
    auto reply = connected.value()->request(value(dict{{"command", value("throw")}}));
    ASSERT_TRUE(reply.ok()) << reply.message();
    EXPECT_EQ(reply->find_string("result"), std::string_view("error"));
    const auto reason = reply->find_string("error-reason");
    ASSERT_TRUE(reason);
    EXPECT_NE(reason->find("boom"), std::string_view::npos);
    EXPECT_TRUE(connected.value()->ping().ok());
}

TEST(ng_server, handler_reply_without_result_becomes_an_error) {
    steady_clock time;
    running_server server([](const value&, const request_context&) { return value(dict{}); }, time);
    ASSERT_TRUE(server.ok());
    auto connected = client::connect({"127.0.0.1", server.port()});
    ASSERT_TRUE(connected.ok());
    auto reply = connected.value()->request(value(dict{{"command", value("query")}}));
    ASSERT_TRUE(reply.ok());
    EXPECT_EQ(reply->find_string("result"), std::string_view("error"));
}

TEST(ng_server, peer_is_reported_to_the_handler) {
    std::atomic<int> calls{0};
    steady_clock time;
    running_server server(counting_handler{&calls}, time);
    ASSERT_TRUE(server.ok());
    raw_udp peer;
    peer.send_to(server.port(), "p d7:command5:querye");
    const auto reply = peer.receive();
    ASSERT_TRUE(reply);
    auto parsed = parse_message(*reply);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->body.find_string("peer"), "127.0.0.1:" + std::to_string(peer.port()));
}

TEST(ng_server, serves_ipv6_loopback) {
    std::atomic<int> calls{0};
    steady_clock time;
    running_server server(counting_handler{&calls}, time, {}, "::1");
    if (!server.ok()) {
        GTEST_SKIP() << "no IPv6 loopback here: " << server.error_message();
    }
    auto connected = client::connect({"::1", server.port()});
    ASSERT_TRUE(connected.ok()) << connected.message();
    EXPECT_TRUE(connected.value()->ping().ok());
}

TEST(ng_server, bind_fails_for_a_taken_port_and_bad_addresses) {
    steady_clock time;
    const request_handler handler = [](const value&, const request_context&) {
        return value(dict{{"result", value("ok")}});
    };
    auto first = server::bind({"127.0.0.1", 0}, handler, time);
    ASSERT_TRUE(first.ok());
    auto second = server::bind({"127.0.0.1", first.value()->local_port()}, handler, time);
    EXPECT_FALSE(second.ok());
    EXPECT_FALSE(server::bind({"localhost", 0}, handler, time).ok());
    EXPECT_FALSE(server::bind({"256.1.1.1", 0}, handler, time).ok());
    EXPECT_FALSE(server::bind({"127.0.0.1", 0}, request_handler{}, time).ok());
}

TEST(ng_server, stop_before_run_returns) {
    steady_clock time;
    auto bound = server::bind(
        {"127.0.0.1", 0},
        [](const value&, const request_context&) {
            return value(dict{{"result", value("ok")}});
        },
        time);
    ASSERT_TRUE(bound.ok());
    bound.value()->stop();
    bound.value()->run();  // returns at once
}

TEST(ng_client, times_out_against_a_silent_peer_after_identical_retransmissions) {
    raw_udp silent;
    client_options options;
    options.timeout_ms = 20;
    options.retries = 2;
    auto connected = client::connect({"127.0.0.1", silent.port()}, options);
    ASSERT_TRUE(connected.ok());
    auto reply = connected.value()->request(value(dict{{"command", value("ping")}}));
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.message(),
              "no reply from 127.0.0.1:" + std::to_string(silent.port()) + " after 3 attempts");
    const auto first = silent.receive();
    const auto second = silent.receive();
    const auto third = silent.receive();
    ASSERT_TRUE(first && second && third);
    EXPECT_EQ(*first, *second);
    EXPECT_EQ(*second, *third);
}

TEST(ng_client, times_out_when_nothing_listens) {
    // Bind then close to find a port that is very likely free; the ICMP
    // "port unreachable" it provokes must read as "no reply", not a failure.
    std::uint16_t closed_port = 0;
    {
        raw_udp probe;
        closed_port = probe.port();
    }
    client_options options;
    options.timeout_ms = 20;
    options.retries = 1;
    auto connected = client::connect({"127.0.0.1", closed_port}, options);
    ASSERT_TRUE(connected.ok());
    const status pinged = connected.value()->ping();
    ASSERT_FALSE(pinged.ok());
    EXPECT_NE(pinged.message().find("no reply from 127.0.0.1:"), std::string::npos) << pinged.message();
    EXPECT_NE(pinged.message().find("after 2 attempts"), std::string::npos) << pinged.message();
}

TEST(ng_client, ignores_replies_with_another_cookie) {
    raw_udp fake_server;
    std::thread responder([&fake_server] {
        std::uint16_t client_port = 0;
        const auto request = fake_server.receive(&client_port);
        if (!request) {
            return;
        }
        const std::string cookie(peek_cookie(*request));
        fake_server.send_to(client_port, "stale-cookie d6:result4:ponge");
        fake_server.send_to(client_port, cookie + " d6:result2:oke");
    });
    client_options options;
    options.timeout_ms = safety_timeout_ms;
    options.retries = 0;
    auto connected = client::connect({"127.0.0.1", fake_server.port()}, options);
    ASSERT_TRUE(connected.ok());
    auto reply = connected.value()->request(value(dict{{"command", value("query")}}));
    responder.join();
    ASSERT_TRUE(reply.ok()) << reply.message();
    EXPECT_EQ(reply->find_string("result"), std::string_view("ok"));
}

TEST(ng_client, reports_an_unparseable_reply) {
    raw_udp fake_server;
    std::thread responder([&fake_server] {
        std::uint16_t client_port = 0;
        const auto request = fake_server.receive(&client_port);
        if (!request) {
            return;
        }
        fake_server.send_to(client_port, std::string(peek_cookie(*request)) + " d6:result");
    });
    client_options options;
    options.timeout_ms = safety_timeout_ms;
    options.retries = 0;
    auto connected = client::connect({"127.0.0.1", fake_server.port()}, options);
    ASSERT_TRUE(connected.ok());
    auto reply = connected.value()->request(value(dict{{"command", value("query")}}));
    responder.join();
    ASSERT_FALSE(reply.ok());
    EXPECT_NE(reply.message().find("unparseable reply"), std::string::npos) << reply.message();
}

TEST(ng_client, retransmits_until_answered) {
    raw_udp fake_server;
    std::thread responder([&fake_server] {
        std::uint16_t client_port = 0;
        const auto first = fake_server.receive(&client_port);  // dropped, as if lost
        const auto second = fake_server.receive(&client_port);
        if (!first || !second || *first != *second) {
            return;
        }
        const std::string cookie(peek_cookie(*second));
        fake_server.send_to(client_port, "old-cookie d6:result5:errore");
        fake_server.send_to(client_port, cookie + " d6:result4:ponge");
    });
    client_options options;
    options.timeout_ms = 50;
    options.retries = 100;  // enough that the responder's second receive is always reached
    auto connected = client::connect({"127.0.0.1", fake_server.port()}, options);
    ASSERT_TRUE(connected.ok());
    const status pinged = connected.value()->ping();
    responder.join();
    EXPECT_TRUE(pinged.ok()) << pinged.message();
}

TEST(ng_client, rejects_bad_targets) {
    EXPECT_FALSE(client::connect({"not-an-ip", 2223}).ok());
    EXPECT_FALSE(client::connect({"127.0.0.1", 0}).ok());
}

}  // namespace
}  // namespace tandem::ng

namespace tandem::ng {
namespace {

// The session manager's timeouts run from on_tick on the server's thread.
TEST(ng_server, on_tick_runs_on_the_server_thread_until_stop) {
    steady_clock time;
    std::atomic<int> ticks{0};
    std::atomic<bool> same_thread{true};
    std::thread::id server_thread;
    server_options options;
    options.tick_interval_ms = 5;
    options.on_tick = [&] {
        if (server_thread != std::thread::id{} && std::this_thread::get_id() != server_thread) {
            same_thread = false;
        }
        ++ticks;
    };
    auto bound = server::bind(
        {"127.0.0.1", 0},
        [](const value&, const request_context&) {
            return value(dict{{"result", "ok"}});
        },
        time, options);
    ASSERT_TRUE(bound.ok()) << bound.message();
    auto& srv = *bound.value();
    std::thread runner([&] {
        server_thread = std::this_thread::get_id();
        srv.run();
    });
    // Bounded wait: 5 s at most, usually a few ms.
    for (int i = 0; i < 500 && ticks.load() < 3; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    srv.stop();
    runner.join();
    EXPECT_GE(ticks.load(), 3);
    EXPECT_TRUE(same_thread.load());
}

}  // namespace
}  // namespace tandem::ng
