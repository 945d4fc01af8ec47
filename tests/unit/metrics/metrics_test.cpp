#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <prometheus/counter.h>

#include "gateway/core/clock.hpp"
#include "gateway/metrics/metrics.hpp"
#include "gateway/metrics/worker_counters.hpp"

namespace tandem::metrics {
namespace {

// Minimal HTTP/1.0 GET over loopback; returns the whole response.
std::string http_get(std::uint16_t port, const std::string& path) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        close(fd);
        return {};
    }
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
    if (send(fd, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size())) {
        close(fd);
        return {};
    }
    std::string response;
    char buffer[4096];
    ssize_t got = 0;
    while ((got = recv(fd, buffer, sizeof buffer, 0)) > 0) {
        response.append(buffer, static_cast<std::size_t>(got));
    }
    close(fd);
    return response;
}

constexpr std::array<counter_spec, 3> test_specs{{
    {"tandem_test_rx_packets_total", "Packets received", false},
    {"tandem_test_dropped_total", "Packets dropped", false},
    {"tandem_test_queue_depth", "Queue depth", true},
}};

TEST(worker_counters, each_worker_counts_alone_and_sums) {
    worker_counters counters(test_specs, 3);
    counters.add(0, 0);
    counters.add(1, 0, 5);
    counters.add(2, 1, 7);
    counters.set(2, 2, 42);
    EXPECT_EQ(counters.get(0, 0), 1U);
    EXPECT_EQ(counters.get(1, 0), 5U);
    EXPECT_EQ(counters.sum(0), 6U);
    EXPECT_EQ(counters.sum(1), 7U);
    EXPECT_EQ(counters.get(2, 2), 42U);
    EXPECT_EQ(counters.get(0, 1), 0U);
}

TEST(worker_counters, concurrent_writers_lose_nothing) {
    auto counters = std::make_shared<worker_counters>(test_specs, 2);
    constexpr std::uint64_t per_worker = 200000;
    std::vector<std::thread> workers;
    for (std::size_t worker = 0; worker < 2; ++worker) {
        workers.emplace_back([&counters, worker] {
            for (std::uint64_t i = 0; i < per_worker; ++i) {
                counters->add(worker, 0);
            }
        });
    }
    for (auto& thread : workers) {
        thread.join();
    }
    EXPECT_EQ(counters->sum(0), 2 * per_worker);
}

TEST(worker_counters, collector_labels_each_worker) {
    auto counters = std::make_shared<worker_counters>(test_specs, 2);
    counters->add(0, 0, 3);
    counters->add(1, 0, 4);
    counters->set(1, 2, 9);
    auto collector = make_worker_collector(counters, "lcore", {"1", "2"});
    const auto text = render_text(*collector);
    EXPECT_NE(text.find("# TYPE tandem_test_rx_packets_total counter"), std::string::npos) << text;
    EXPECT_NE(text.find("tandem_test_rx_packets_total{lcore=\"1\"} 3"), std::string::npos) << text;
    EXPECT_NE(text.find("tandem_test_rx_packets_total{lcore=\"2\"} 4"), std::string::npos) << text;
    EXPECT_NE(text.find("# TYPE tandem_test_queue_depth gauge"), std::string::npos) << text;
    EXPECT_NE(text.find("tandem_test_queue_depth{lcore=\"2\"} 9"), std::string::npos) << text;
}

TEST(process_collector, reports_build_uptime_memory_and_fds) {
    manual_clock time(1'000'000'000);
    auto collector = make_process_collector("unit", time);
    time.advance_ms(2500);
    const auto text = render_text(*collector);
    EXPECT_NE(text.find("tandem_build_info{process=\"unit\",version=\""), std::string::npos) << text;
    EXPECT_NE(text.find("tandem_uptime_seconds 2.5"), std::string::npos) << text;
    EXPECT_NE(text.find("tandem_process_resident_memory_bytes "), std::string::npos);
    EXPECT_EQ(text.find("tandem_process_resident_memory_bytes 0\n"), std::string::npos) << "RSS read as zero";
    EXPECT_NE(text.find("tandem_process_open_fds "), std::string::npos);
    EXPECT_NE(text.find("tandem_process_cpu_seconds_total "), std::string::npos);
}

TEST(metrics_service, serves_registry_and_process_metrics_over_http) {
    steady_clock time;
    auto service = metrics_service::start({"127.0.0.1", 0}, "unit", time);
    ASSERT_TRUE(service.ok()) << service.message();
    auto& family = prometheus::BuildCounter()
                       .Name("tandem_unit_things_total")
                       .Help("Things counted by the unit test")
                       .Register((*service)->registry());
    family.Add({}).Increment(3);
    const auto port = (*service)->listen_port();
    ASSERT_GT(port, 0);
    const auto response = http_get(port, "/metrics");
    EXPECT_NE(response.find("200 OK"), std::string::npos) << response;
    EXPECT_NE(response.find("tandem_unit_things_total 3"), std::string::npos) << response;
    EXPECT_NE(response.find("tandem_build_info{process=\"unit\""), std::string::npos) << response;
    EXPECT_NE(response.find("tandem_uptime_seconds"), std::string::npos) << response;
}

TEST(metrics_service, taken_port_is_an_error_not_a_crash) {
    steady_clock time;
    auto first = metrics_service::start({"127.0.0.1", 0}, "unit", time);
    ASSERT_TRUE(first.ok()) << first.message();
    const auto port = (*first)->listen_port();
    auto second = metrics_service::start({"127.0.0.1", port}, "unit", time);
    ASSERT_FALSE(second.ok());
    EXPECT_NE(second.message().find("metrics: cannot listen on 127.0.0.1:" + std::to_string(port)),
              std::string::npos)
        << second.message();
}

}  // namespace
}  // namespace tandem::metrics
