// Config loader: defaults, the shipped default file, overrides, and the exact
// one-line message for each kind of bad configuration.

#include "gateway/config/config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

namespace tandem::config {
namespace {

// Every field as text, so a mismatch shows which field differs. Keep in
// step with config.hpp (the default-file test fails when a field is missing
// from the file, but only this function notices a field missing here).
std::string describe(const appliance_config& c) {
    std::string out;
    auto line = [&out](const std::string& key, const std::string& value) { out += key + "=" + value + "\n"; };
    auto ep = [&line](const std::string& key, const endpoint& e) {
        line(key, e.address + " " + std::to_string(e.port));
    };
    for (std::size_t i = 0; i < c.signaling.listen.size(); ++i) {
        const auto& l = c.signaling.listen[i];
        line("signaling.listen[" + std::to_string(i) + "]",
             l.transport + " " + l.address + " " + std::to_string(l.port));
    }
    line("signaling.user_agent", c.signaling.user_agent);
    const auto& mc = c.signaling.media_control;
    ep("signaling.media_control.dataplane", mc.dataplane);
    line("signaling.media_control.timeout_ms", std::to_string(mc.timeout_ms));
    line("signaling.media_control.retries", std::to_string(mc.retries));
    line("signaling.media_control.health_interval_ms", std::to_string(mc.health_interval_ms));
    const auto& eal = c.dataplane.eal;
    line("dataplane.eal.lcores", eal.lcores);
    line("dataplane.eal.no_huge", std::to_string(eal.no_huge));
    line("dataplane.eal.memory_mb", std::to_string(eal.memory_mb));
    line("dataplane.eal.in_memory", std::to_string(eal.in_memory));
    line("dataplane.eal.file_prefix", eal.file_prefix);
    for (const auto& pci : eal.pci_allow) {
        line("dataplane.eal.pci_allow[]", pci);
    }
    for (const auto& arg : eal.extra_args) {
        line("dataplane.eal.extra_args[]", arg);
    }
    for (std::size_t i = 0; i < c.dataplane.ports.size(); ++i) {
        const auto& p = c.dataplane.ports[i];
        const std::string key = "dataplane.ports[" + std::to_string(i) + "].";
        line(key + "name", p.name);
        line(key + "device", p.device);
        line(key + "ipv4", p.ipv4 + "/" + std::to_string(p.ipv4_prefix));
        line(key + "ipv6", p.ipv6 + "/" + std::to_string(p.ipv6_prefix));
        line(key + "rx_queues", std::to_string(p.rx_queues));
        line(key + "descriptors", std::to_string(p.rx_descriptors) + " " + std::to_string(p.tx_descriptors));
        line(key + "mtu", std::to_string(p.mtu));
        line(key + "gateways", p.ipv4_gateway + " " + p.ipv6_gateway);
    }
    const auto& m = c.dataplane.media;
    line("dataplane.media.ports", std::to_string(m.port_min) + "-" + std::to_string(m.port_max));
    line("dataplane.media.max_sessions", std::to_string(m.max_sessions));
    line("dataplane.media.timeouts", std::to_string(m.timeout_s) + " " + std::to_string(m.silent_timeout_s) +
                                         " " + std::to_string(m.final_timeout_s));
    line("dataplane.media.delete_delay_s", std::to_string(m.delete_delay_s));
    line("dataplane.media.learning_window_ms", std::to_string(m.learning_window_ms));
    line("dataplane.mbufs", std::to_string(c.dataplane.mbufs));
    line("dataplane.burst_size", std::to_string(c.dataplane.burst_size));
    line("dataplane.polling", c.dataplane.polling);
    ep("dataplane.control", c.dataplane.control);
    line("metrics.enabled", std::to_string(c.metrics.enabled));
    ep("metrics.signaling", c.metrics.signaling);
    ep("metrics.dataplane", c.metrics.dataplane);
    line("logging.level", c.logging.level);
    line("logging.format", c.logging.format);
    for (const auto& [module, level] : c.logging.modules) {
        line("logging.modules." + module, level);
    }
    return out;
}

appliance_config parse_ok(const std::string& yaml) {
    auto parsed = parse_config(yaml, "tandem.yaml");
    if (!parsed.ok()) {
        ADD_FAILURE() << parsed.message();
        return {};
    }
    return std::move(parsed).value();
}

std::string parse_error(const std::string& yaml) {
    auto parsed = parse_config(yaml, "tandem.yaml");
    EXPECT_FALSE(parsed.ok()) << "accepted:\n" << yaml;
    return parsed.ok() ? std::string("<accepted>") : parsed.message();
}

// A file in a fresh temporary directory, removed with the fixture.
class temp_file {
  public:
    explicit temp_file(const std::string& content) {
        dir_ = std::filesystem::temp_directory_path() /
               ("tandem_config_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
        path_ = dir_ / "tandem.yaml";
        std::ofstream(path_) << content;
    }
    ~temp_file() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
    [[nodiscard]] std::string path() const { return path_.string(); }

  private:
    std::filesystem::path dir_;
    std::filesystem::path path_;
};

// ---- defaults and valid files ------------------------------------------------

TEST(config_defaults, empty_text_gives_built_in_defaults) {
    const auto config = parse_ok("");
    EXPECT_EQ(describe(config), describe(appliance_config{}));
    EXPECT_EQ(config.source, "tandem.yaml");
}

TEST(config_defaults, comments_only_and_null_document_give_defaults) {
    EXPECT_EQ(describe(parse_ok("# nothing here\n\n")), describe(appliance_config{}));
    EXPECT_EQ(describe(parse_ok("~\n")), describe(appliance_config{}));
}

TEST(config_defaults, built_in_values_match_the_header) {
    const appliance_config config;
    ASSERT_EQ(config.signaling.listen.size(), 2U);
    EXPECT_EQ(config.signaling.listen[1].transport, "tcp");
    EXPECT_EQ(config.dataplane.ports.size(), 1U);
    EXPECT_EQ(config.dataplane.control.port, 2223);
    EXPECT_EQ(config.metrics.dataplane.port, 9481);
}

TEST(config_defaults, shipped_default_file_equals_built_in_defaults) {
    const std::string path = std::string(TANDEM_SOURCE_DIR) + "/deploy/config/tandem.yaml";
    auto loaded = load_config(path);
    ASSERT_TRUE(loaded.ok()) << loaded.message();
    EXPECT_EQ(describe(*loaded), describe(appliance_config{}));
    EXPECT_EQ(loaded->source, path);
}

TEST(config_overrides, every_section_can_be_overridden) {
    const auto config = parse_ok(R"(
signaling:
  listen:
    - { transport: tcp, address: "::1", port: 15060 }
  user_agent: Tandem test
  media_control:
    dataplane: { address: 10.0.0.7, port: 3000 }
    timeout_ms: 10
    retries: 0
    health_interval_ms: 3600000
dataplane:
  eal:
    lcores: "(0-1)@0,2@1"
    no_huge: false
    memory_mb: 64
    in_memory: False
    file_prefix: t1
    pci_allow: ["0000:03:00.0"]
    extra_args: [--log-level=8]
  ports:
    - name: voip
      device: "0000:03:00.0"
      ipv4: 198.51.100.1
      ipv4_prefix: 32
      ipv6: "2001:db8::1"
      ipv6_prefix: 128
      rx_queues: 64
      rx_descriptors: 16384
      tx_descriptors: 64
      mtu: 9600
    - name: pstn
      device: net_memif0
  mbufs: 4194303
  burst_size: 256
  polling: busy
  control: { address: "::", port: 65535 }
metrics:
  enabled: TRUE
  signaling: { port: 19480 }
logging:
  level: debug
  format: journal
  modules: { sip: trace, ng: "off" }
)");
    ASSERT_EQ(config.signaling.listen.size(), 1U);
    EXPECT_EQ(config.signaling.listen[0].transport, "tcp");
    EXPECT_EQ(config.signaling.listen[0].address, "::1");
    EXPECT_EQ(config.signaling.listen[0].port, 15060);
    EXPECT_EQ(config.signaling.user_agent, "Tandem test");
    EXPECT_EQ(config.signaling.media_control.dataplane.address, "10.0.0.7");
    EXPECT_EQ(config.signaling.media_control.dataplane.port, 3000);
    EXPECT_EQ(config.signaling.media_control.timeout_ms, 10U);
    EXPECT_EQ(config.signaling.media_control.retries, 0U);
    EXPECT_EQ(config.signaling.media_control.health_interval_ms, 3600000U);
    EXPECT_EQ(config.dataplane.eal.lcores, "(0-1)@0,2@1");
    EXPECT_FALSE(config.dataplane.eal.no_huge);
    EXPECT_EQ(config.dataplane.eal.memory_mb, 64U);
    EXPECT_FALSE(config.dataplane.eal.in_memory);
    EXPECT_EQ(config.dataplane.eal.file_prefix, "t1");
    EXPECT_EQ(config.dataplane.eal.pci_allow, std::vector<std::string>{"0000:03:00.0"});
    EXPECT_EQ(config.dataplane.eal.extra_args, std::vector<std::string>{"--log-level=8"});
    ASSERT_EQ(config.dataplane.ports.size(), 2U);
    const auto& voip = config.dataplane.ports[0];
    EXPECT_EQ(voip.name, "voip");
    EXPECT_EQ(voip.device, "0000:03:00.0");
    EXPECT_EQ(voip.ipv4, "198.51.100.1");
    EXPECT_EQ(voip.ipv4_prefix, 32);
    EXPECT_EQ(voip.ipv6, "2001:db8::1");
    EXPECT_EQ(voip.ipv6_prefix, 128);
    EXPECT_EQ(voip.rx_queues, 64);
    EXPECT_EQ(voip.rx_descriptors, 16384);
    EXPECT_EQ(voip.tx_descriptors, 64);
    EXPECT_EQ(voip.mtu, 9600);
    // A list entry starts from the built-in port defaults, not from entry 0.
    const auto& pstn = config.dataplane.ports[1];
    EXPECT_EQ(pstn.name, "pstn");
    EXPECT_EQ(pstn.device, "net_memif0");
    EXPECT_EQ(pstn.ipv4, port_config{}.ipv4);
    EXPECT_EQ(pstn.mtu, 1500);
    EXPECT_EQ(config.dataplane.mbufs, 4194303U);
    EXPECT_EQ(config.dataplane.burst_size, 256);
    EXPECT_EQ(config.dataplane.polling, "busy");
    EXPECT_EQ(config.dataplane.control.address, "::");
    EXPECT_EQ(config.dataplane.control.port, 65535);
    EXPECT_TRUE(config.metrics.enabled);
    EXPECT_EQ(config.metrics.signaling.address, "0.0.0.0");  // untouched key keeps its default
    EXPECT_EQ(config.metrics.signaling.port, 19480);
    EXPECT_EQ(config.metrics.dataplane.port, 9481);
    EXPECT_EQ(config.logging.level, "debug");
    EXPECT_EQ(config.logging.format, "journal");
    EXPECT_EQ(config.logging.modules, (std::map<std::string, std::string>{{"ng", "off"}, {"sip", "trace"}}));
}

TEST(config_overrides, partial_file_keeps_other_defaults) {
    auto config = parse_ok("metrics:\n  enabled: false\n");
    EXPECT_FALSE(config.metrics.enabled);
    config.metrics.enabled = true;
    config.source.clear();
    EXPECT_EQ(describe(config), describe(appliance_config{}));
}

TEST(config_overrides, section_with_no_value_keeps_defaults) {
    EXPECT_EQ(describe(parse_ok("signaling:\nlogging:\n  modules:\n")), describe(appliance_config{}));
}

TEST(config_overrides, remote_dataplane_differs_from_local_control) {
    const auto config = parse_ok(
        "signaling: { media_control: { dataplane: { address: 192.0.2.50, port: 2300 } } }\n"
        "dataplane: { control: { address: 127.0.0.1, port: 2223 } }\n");
    EXPECT_EQ(config.signaling.media_control.dataplane.address, "192.0.2.50");
}

TEST(config_overrides, same_port_on_different_transports_or_addresses_is_fine) {
    const auto config = parse_ok(
        "signaling:\n"
        "  listen:\n"
        "    - { transport: udp, address: 127.0.0.1, port: 5060 }\n"
        "    - { transport: tcp, address: 127.0.0.1, port: 5060 }\n"
        "    - { transport: udp, address: 127.0.0.2, port: 5060 }\n");
    EXPECT_EQ(config.signaling.listen.size(), 3U);
}

TEST(config_overrides, empty_pci_list_and_empty_ipv6_are_allowed) {
    const auto config =
        parse_ok("dataplane:\n  eal: { pci_allow: [] }\n  ports:\n    - { name: a, ipv6: \"\" }\n");
    EXPECT_TRUE(config.dataplane.eal.pci_allow.empty());
    EXPECT_TRUE(config.dataplane.ports[0].ipv6.empty());
}

// ---- bad configurations: one exact message each --------------------------------

TEST(config_errors, unknown_key_at_top_level) {
    EXPECT_EQ(
        parse_error("metrics: {}\nsignalling: {}\n"),
        "tandem.yaml:2: signalling: unknown key, expected one of signaling, dataplane, metrics, logging");
}

TEST(config_errors, unknown_key_nested) {
    EXPECT_EQ(
        parse_error("signaling:\n  user_agent: x\n  listn: []\n"),
        "tandem.yaml:3: signaling.listn: unknown key, expected one of listen, user_agent, media_control");
    EXPECT_EQ(parse_error("dataplane:\n  ports:\n    - name: a\n      mtux: 1500\n"),
              "tandem.yaml:4: dataplane.ports[0].mtux: unknown key, expected one of name, device, ipv4, "
              "ipv4_prefix, ipv6, ipv6_prefix, rx_queues, rx_descriptors, tx_descriptors, mtu, ipv4_gateway, "
              "ipv6_gateway");
}

TEST(config_media, overrides_and_port_range_checks) {
    const auto config = parse_ok(
        "dataplane:\n  media:\n    port_min: 20000\n    port_max: 20999\n    max_sessions: 50\n"
        "    timeout_s: 30\n    delete_delay_s: 10\n");
    EXPECT_EQ(config.dataplane.media.port_min, 20000);
    EXPECT_EQ(config.dataplane.media.port_max, 20999);
    EXPECT_EQ(config.dataplane.media.max_sessions, 50U);
    EXPECT_EQ(config.dataplane.media.timeout_s, 30U);
    EXPECT_EQ(config.dataplane.media.delete_delay_s, 10U);
    EXPECT_EQ(config.dataplane.media.silent_timeout_s, 3600U);
    EXPECT_EQ(
        parse_error("dataplane:\n  media:\n    port_min: 30000\n    port_max: 30001\n"),
        "tandem.yaml:4: dataplane.media.port_max: 30001 leaves no room above port_min 30000, expected at "
        "least port_min + 3");
    EXPECT_EQ(parse_error("dataplane:\n  media:\n    port_min: 80\n"),
              "tandem.yaml:3: dataplane.media.port_min: 80 is out of range, expected an integer from 1024 to "
              "65534");
    EXPECT_EQ(
        parse_error("dataplane:\n  ports:\n    - ipv4_gateway: 192.0.2.300\n"),
        "tandem.yaml:3: dataplane.ports[0].ipv4_gateway: \"192.0.2.300\" is not an IPv4 address, expected "
        "an IPv4 literal or an empty string");
}

TEST(config_errors, reserved_sections_are_refused_by_name) {
    EXPECT_EQ(parse_error("logging: {}\ntrunks:\n  - name: a\n"),
              "tandem.yaml:2: trunks: not supported yet by this version, remove it");
    EXPECT_EQ(parse_error("spans: []\n"),
              "tandem.yaml:1: spans: not supported yet by this version, remove it");
    EXPECT_EQ(parse_error("routes:\n"),
              "tandem.yaml:1: routes: not supported yet by this version, remove it");
    EXPECT_EQ(parse_error("users: {}\n"),
              "tandem.yaml:1: users: not supported yet by this version, remove it");
}

TEST(config_errors, top_level_not_a_mapping) {
    EXPECT_EQ(parse_error("- signaling\n- dataplane\n"),
              "tandem.yaml:1: top level: found a list, expected a mapping with keys signaling, dataplane, "
              "metrics, logging");
    EXPECT_EQ(parse_error("hello\n"),
              "tandem.yaml:1: top level: found a scalar, expected a mapping with keys signaling, dataplane, "
              "metrics, logging");
}

TEST(config_errors, scalar_where_mapping_expected) {
    EXPECT_EQ(parse_error("metrics:\n  signaling: 9480\n"),
              "tandem.yaml:2: metrics.signaling: found a scalar, expected a mapping with keys address, port");
}

TEST(config_errors, mapping_where_scalar_expected) {
    EXPECT_EQ(parse_error("metrics:\n  enabled: { value: true }\n"),
              "tandem.yaml:2: metrics.enabled: found a mapping, expected true or false");
}

TEST(config_errors, list_where_mapping_expected) {
    EXPECT_EQ(parse_error("dataplane:\n  eal:\n    - lcores: 0-1\n"),
              "tandem.yaml:2: dataplane.eal: found a list, expected a mapping with keys lcores, no_huge, "
              "memory_mb, in_memory, file_prefix, pci_allow, extra_args");
}

TEST(config_errors, mapping_where_list_expected) {
    EXPECT_EQ(parse_error("signaling:\n  listen:\n    transport: udp\n"),
              "tandem.yaml:2: signaling.listen: found a mapping, expected a list of mappings with keys "
              "transport, address, port");
}

TEST(config_errors, scalar_with_no_value) {
    EXPECT_EQ(parse_error("dataplane:\n  mbufs:\n"),
              "tandem.yaml:2: dataplane.mbufs: found no value, expected an integer from 1023 to 4194303");
}

TEST(config_errors, integer_out_of_range) {
    EXPECT_EQ(
        parse_error("dataplane:\n  eal:\n    memory_mb: 20\n"),
        "tandem.yaml:3: dataplane.eal.memory_mb: 20 is out of range, expected an integer from 64 to 65536");
    EXPECT_EQ(
        parse_error("metrics:\n  dataplane: { port: 0 }\n"),
        "tandem.yaml:2: metrics.dataplane.port: 0 is out of range, expected an integer from 1 to 65535");
    EXPECT_EQ(
        parse_error("metrics:\n  dataplane: { port: 65536 }\n"),
        "tandem.yaml:2: metrics.dataplane.port: 65536 is out of range, expected an integer from 1 to 65535");
}

TEST(config_errors, integer_overflow) {
    EXPECT_EQ(
        parse_error("dataplane:\n  mbufs: 99999999999999999999\n"),
        "tandem.yaml:2: dataplane.mbufs: 99999999999999999999 is out of range, expected an integer from "
        "1023 to 4194303");
}

TEST(config_errors, negative_integer) {
    EXPECT_EQ(
        parse_error("signaling:\n  media_control:\n    retries: -1\n"),
        "tandem.yaml:3: signaling.media_control.retries: -1 is negative, expected an integer from 0 to 10");
}

TEST(config_errors, float_for_integer) {
    EXPECT_EQ(
        parse_error("dataplane:\n  burst_size: 32.5\n"),
        "tandem.yaml:2: dataplane.burst_size: \"32.5\" is not an integer, expected an integer from 1 to 256");
    EXPECT_EQ(
        parse_error("dataplane:\n  burst_size: 1e2\n"),
        "tandem.yaml:2: dataplane.burst_size: \"1e2\" is not an integer, expected an integer from 1 to 256");
}

TEST(config_errors, bad_boolean) {
    EXPECT_EQ(parse_error("metrics:\n  enabled: yes please\n"),
              "tandem.yaml:2: metrics.enabled: \"yes please\" is not a boolean, expected true or false");
    EXPECT_EQ(parse_error("dataplane: { eal: { no_huge: 1 } }\n"),
              "tandem.yaml:1: dataplane.eal.no_huge: \"1\" is not a boolean, expected true or false");
}

TEST(config_errors, bad_ip_address) {
    EXPECT_EQ(
        parse_error("dataplane:\n  control:\n    address: 300.1.1.1\n"),
        "tandem.yaml:3: dataplane.control.address: \"300.1.1.1\" is not an IP address, expected an IPv4 "
        "or IPv6 literal");
    EXPECT_EQ(
        parse_error("dataplane:\n  ports:\n    - ipv4: \"::1\"\n"),
        "tandem.yaml:3: dataplane.ports[0].ipv4: \"::1\" is not an IPv4 address, expected an IPv4 literal");
    EXPECT_EQ(parse_error("dataplane:\n  ports:\n    - ipv6: 10.0.0.1\n"),
              "tandem.yaml:3: dataplane.ports[0].ipv6: \"10.0.0.1\" is not an IPv6 address, expected an IPv6 "
              "literal or an empty string");
    EXPECT_EQ(parse_error("signaling: { listen: [ { address: localhost } ] }\n"),
              "tandem.yaml:1: signaling.listen[0].address: \"localhost\" is not an IP address, expected an "
              "IPv4 or IPv6 literal");
}

TEST(config_errors, bad_enum_value) {
    EXPECT_EQ(parse_error("signaling:\n  listen:\n    - { transport: udp, port: 5060 }\n"
                          "    - { transport: sctp, port: 5060 }\n"),
              "tandem.yaml:4: signaling.listen[1].transport: \"sctp\" is not valid, expected udp or tcp");
    EXPECT_EQ(parse_error("dataplane:\n  polling: lazy\n"),
              "tandem.yaml:2: dataplane.polling: \"lazy\" is not valid, expected busy or adaptive");
    EXPECT_EQ(parse_error("logging:\n  format: json\n"),
              "tandem.yaml:2: logging.format: \"json\" is not valid, expected text or journal");
}

TEST(config_errors, bad_log_level) {
    EXPECT_EQ(parse_error("logging:\n  level: verbose\n"),
              "tandem.yaml:2: logging.level: \"verbose\" is not valid, expected one of trace, debug, info, "
              "warn, error, critical, off");
}

TEST(config_errors, bad_log_level_in_modules) {
    EXPECT_EQ(parse_error("logging:\n  modules:\n    sip: debug\n    ng: loud\n"),
              "tandem.yaml:4: logging.modules.ng: \"loud\" is not valid, expected one of trace, debug, info, "
              "warn, error, critical, off");
    EXPECT_EQ(parse_error("logging:\n  modules: [sip]\n"),
              "tandem.yaml:2: logging.modules: found a list, expected a mapping of module names to levels");
}

TEST(config_errors, empty_ports_list) {
    EXPECT_EQ(
        parse_error("dataplane:\n  ports: []\n"),
        "tandem.yaml:2: dataplane.ports: is an empty list, expected a list of port mappings with at least "
        "one entry");
}

TEST(config_errors, duplicate_port_names) {
    EXPECT_EQ(parse_error("dataplane:\n  ports:\n    - { name: media0, device: net_tap0 }\n"
                          "    - { name: media0, device: net_tap1 }\n"),
              "tandem.yaml:4: dataplane.ports[1].name: \"media0\" is also the name of dataplane.ports[0], "
              "expected unique port names");
}

TEST(config_errors, duplicate_port_devices) {
    EXPECT_EQ(parse_error("dataplane:\n  ports:\n    - name: a\n    - name: b\n"),
              "tandem.yaml:4: dataplane.ports[1].device: \"net_tap0,iface=tandem0\" is also the device of "
              "dataplane.ports[0], expected each device once");
}

TEST(config_errors, descriptors_not_power_of_two) {
    EXPECT_EQ(
        parse_error("dataplane:\n  ports:\n    - rx_descriptors: 1000\n"),
        "tandem.yaml:3: dataplane.ports[0].rx_descriptors: 1000 is not a power of two, expected a power "
        "of two from 64 to 16384");
    EXPECT_EQ(
        parse_error("dataplane:\n  ports:\n    - tx_descriptors: 32768\n"),
        "tandem.yaml:3: dataplane.ports[0].tx_descriptors: 32768 is out of range, expected a power of two "
        "from 64 to 16384");
}

TEST(config_errors, bad_lcores) {
    EXPECT_EQ(parse_error("dataplane:\n  eal:\n    lcores: \"\"\n"),
              "tandem.yaml:3: dataplane.eal.lcores: is empty, expected an lcore list of digits and , - @ ( ) "
              "such as \"0-3\"");
    EXPECT_EQ(
        parse_error("dataplane:\n  eal:\n    lcores: 0-1;rm\n"),
        "tandem.yaml:3: dataplane.eal.lcores: \"0-1;rm\" contains \";\", expected an lcore list of digits "
        "and , - @ ( ) such as \"0-3\"");
}

TEST(config_errors, control_character_in_string) {
    EXPECT_EQ(
        parse_error("signaling:\n  user_agent: \"Tandem\\r\\nX-Evil: 1\"\n"),
        "tandem.yaml:2: signaling.user_agent: \"Tandem\\x0d\\x0aX-Evil: 1\" contains \"\\x0d\", expected "
        "a non-empty string");
}

TEST(config_errors, duplicate_sip_listener) {
    EXPECT_EQ(
        parse_error("signaling:\n  listen:\n    - { transport: udp, address: \"::\", port: 5060 }\n"
                    "    - { transport: tcp, address: \"::\", port: 5060 }\n"
                    "    - { transport: udp, address: \"0::0\", port: 5060 }\n"),
        "tandem.yaml:5: signaling.listen[2]: udp [0::0]:5060 is already listened on by signaling.listen[0], "
        "expected each transport, address and port once");
}

TEST(config_errors, duplicate_key) {
    EXPECT_EQ(parse_error("metrics:\n  enabled: true\n  enabled: false\n"),
              "tandem.yaml:3: metrics.enabled: duplicate key (first on line 2), expected each key once");
    EXPECT_EQ(parse_error("logging: {}\nlogging: {}\n"),
              "tandem.yaml:2: logging: duplicate key (first on line 1), expected each key once");
}

TEST(config_errors, unknown_key_with_control_characters_is_escaped) {
    EXPECT_EQ(
        parse_error("metrics:\n  \"en\\nabled\": true\n"),
        "tandem.yaml:2: metrics.en\\x0aabled: unknown key, expected one of enabled, signaling, dataplane");
}

TEST(config_errors, non_scalar_key) {
    EXPECT_EQ(parse_error("metrics:\n  ? [a, b]\n  : 1\n"),
              "tandem.yaml:2: metrics: found a list as a key, expected a key name");
}

TEST(config_errors, syntax_error) {
    EXPECT_EQ(parse_error("metrics:\n  enabled: [true\n  dataplane: {}\n"),
              "tandem.yaml:3: syntax error: end of sequence flow not found, expected valid YAML");
}

// yaml-cpp 0.7 alone loops forever, allocating, on a stray "," (jbeder/yaml-cpp#1040).
TEST(config_errors, stray_comma_is_a_syntax_error_not_a_hang) {
    EXPECT_EQ(parse_error(","), "tandem.yaml:1: syntax error: unexpected \",\", expected valid YAML");
    EXPECT_EQ(parse_error("metrics: {}\n...\n, x\n"),
              "tandem.yaml:3: syntax error: unexpected \",\", expected valid YAML");
}

TEST(config_errors, second_document) {
    EXPECT_EQ(parse_error("metrics: {}\n---\nlogging: {}\n"),
              "tandem.yaml:2: top level: found a second YAML document, expected one document");
}

TEST(config_errors, missing_file) {
    const std::string path = std::string(TANDEM_SOURCE_DIR) + "/no/such/tandem.yaml";
    auto loaded = load_config(path);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.message(), path + ": cannot open: No such file or directory");
}

TEST(config_errors, directory_instead_of_file) {
    const std::string path = std::string(TANDEM_SOURCE_DIR) + "/deploy";
    auto loaded = load_config(path);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.message(), path + ": cannot open: Is a directory");
}

TEST(config_errors, error_in_file_names_the_path) {
    const temp_file file("logging:\n  level: chatty\n");
    auto loaded = load_config(file.path());
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.message(), file.path() +
                                    ":2: logging.level: \"chatty\" is not valid, expected one of "
                                    "trace, debug, info, warn, error, critical, off");
}

TEST(config_errors, messages_are_one_line_even_for_hostile_input) {
    for (const std::string& yaml :
         {std::string("a: \"x\ny\"\n"), std::string("metrics: {enabled: \"\\n\\t\"}\n"),
          std::string("\x01\x02: [\n"), std::string("{{{{{{{{{{"),
          std::string(5000, '[') + std::string(5000, ']')}) {
        auto parsed = parse_config(yaml, "tandem.yaml");
        ASSERT_FALSE(parsed.ok());
        EXPECT_EQ(parsed.message().find('\n'), std::string::npos) << parsed.message();
    }
}

}  // namespace
}  // namespace tandem::config
