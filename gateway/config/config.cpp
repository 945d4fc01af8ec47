// The config loader is a small schema interpreter: every struct of
// config.hpp has one table of {key, reader} rows, and a few generic readers
// (unsigned in range, boolean, string, one of a set, IP literal, mapping,
// list) do all the checking. Adding a key is adding one row.
//
// yaml-cpp reports problems by throwing; parse_config() is the only place
// that catches, so the function itself never throws. Everything below it
// returns status and stops at the first problem.

#include "gateway/config/config.hpp"

#include <arpa/inet.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <system_error>
#include <type_traits>
#include <utility>

namespace tandem::config {
namespace {

// A null node's mark points at the next token, often lines later, so such
// nodes are reported at their key's (or list's) line instead.
int line_of(const YAML::Node& node, int fallback) {
    if (node.IsNull()) {
        return fallback;
    }
    const int line = node.Mark().line;
    return line >= 0 ? line + 1 : fallback;
}

// Text from the file as it appears in a message: control characters
// escaped and cut short, so the message stays one printable line whatever
// the file contained.
std::string printable(std::string_view text, std::size_t max_shown = 48) {
    std::string out;
    for (std::size_t i = 0; i < text.size() && i < max_shown; ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte == '"' || byte == '\\') {
            out += '\\';
            out += static_cast<char>(byte);
        } else if (byte < 0x20 || byte == 0x7f) {
            std::array<char, 8> hex{};
            std::snprintf(hex.data(), hex.size(), "\\x%02x", byte);
            out += hex.data();
        } else {
            out += static_cast<char>(byte);
        }
    }
    if (text.size() > max_shown) {
        out += "...";
    }
    return out;
}

std::string quote(std::string_view text) {
    return "\"" + printable(text) + "\"";
}

// Where a value sits in the file: its key path and its 1-based line.
struct site {
    std::string_view file;
    std::string path;
    int line = 1;

    [[nodiscard]] site child(std::string_view key, int key_line) const {
        return {file, path.empty() ? printable(key) : path + "." + printable(key), key_line};
    }
    [[nodiscard]] site element(std::size_t index, int element_line) const {
        return {file, path + "[" + std::to_string(index) + "]", element_line};
    }
    [[nodiscard]] error fail(std::string_view what) const {
        std::string message(file);
        message += ":" + std::to_string(line) + ": " + (path.empty() ? std::string("top level") : path);
        message += ": ";
        message += what;
        return make_error(std::move(message));
    }
};

std::string join(const std::vector<std::string_view>& words, std::string_view last_separator) {
    std::string out;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i > 0) {
            out += (i + 1 == words.size()) ? last_separator : std::string_view(", ");
        }
        out += words[i];
    }
    return out;
}

// "udp or tcp", "one of trace, debug, info, ...".
std::string choices_text(const std::vector<std::string_view>& choices) {
    return choices.size() <= 2 ? join(choices, " or ") : "one of " + join(choices, ", ");
}

const char* kind_of(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map:
            return "a mapping";
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Scalar:
            return "a scalar";
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined:
            return "no value";
    }
    return "no value";
}

error wrong_kind(const YAML::Node& node, const site& where, std::string_view expected) {
    return where.fail(std::string("found ") + kind_of(node) + ", expected " + std::string(expected));
}

// ---- scalar readers ------------------------------------------------------

result<std::string> read_scalar(const YAML::Node& node, const site& where, std::string_view expected) {
    if (!node.IsScalar()) {
        return wrong_kind(node, where, expected);
    }
    return node.Scalar();
}

struct unsigned_range {
    std::uint64_t min = 0;
    std::uint64_t max = 0;
    bool power_of_two = false;
};

result<std::uint64_t> read_unsigned(const YAML::Node& node, const site& where, unsigned_range range) {
    const std::string expected = std::string(range.power_of_two ? "a power of two" : "an integer") +
                                 " from " + std::to_string(range.min) + " to " + std::to_string(range.max);
    auto text = read_scalar(node, where, expected);
    if (!text) {
        return text.failure();
    }
    std::string_view digits = *text;
    const bool negative = !digits.empty() && digits.front() == '-';
    if (!digits.empty() && (digits.front() == '+' || negative)) {
        digits.remove_prefix(1);
    }
    const bool all_digits =
        !digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos;
    if (!all_digits) {
        return where.fail(quote(*text) + " is not an integer, expected " + expected);
    }
    std::uint64_t value = 0;
    bool overflow = false;
    for (const char digit : digits) {
        const auto next = static_cast<std::uint64_t>(digit - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - next) / 10) {
            overflow = true;
            break;
        }
        value = value * 10 + next;
    }
    const std::string shown = text->size() > 24 ? quote(*text) : *text;
    if (negative && (overflow || value != 0)) {  // "-0" is zero
        return where.fail(shown + " is negative, expected " + expected);
    }
    if (overflow || value < range.min || value > range.max) {
        return where.fail(shown + " is out of range, expected " + expected);
    }
    if (range.power_of_two && (value & (value - 1)) != 0) {
        return where.fail(shown + " is not a power of two, expected " + expected);
    }
    return value;
}

result<bool> read_bool(const YAML::Node& node, const site& where) {
    constexpr std::string_view expected = "true or false";
    auto text = read_scalar(node, where, expected);
    if (!text) {
        return text.failure();
    }
    // YAML 1.2 core schema only: "yes", "on" and "y" are strings there, and
    // accepting them would make `country: no` style surprises possible.
    if (*text == "true" || *text == "True" || *text == "TRUE") {
        return true;
    }
    if (*text == "false" || *text == "False" || *text == "FALSE") {
        return false;
    }
    return where.fail(quote(*text) + " is not a boolean, expected " + std::string(expected));
}

struct text_rule {
    bool non_empty = false;
    std::string_view allowed_characters;  // empty: any printable character
    std::string_view expected = "a string";
};

result<std::string> read_text(const YAML::Node& node, const site& where, const text_rule& rule) {
    auto text = read_scalar(node, where, rule.expected);
    if (!text) {
        return text.failure();
    }
    if (rule.non_empty && text->empty()) {
        return where.fail("is empty, expected " + std::string(rule.expected));
    }
    for (const char c : *text) {
        const auto byte = static_cast<unsigned char>(c);
        // Values end up in SIP headers, EAL arguments and log lines, where a
        // control character would split or forge a line.
        const bool control = byte < 0x20 || byte == 0x7f;
        const bool disallowed =
            !rule.allowed_characters.empty() && rule.allowed_characters.find(c) == std::string_view::npos;
        if (control || disallowed) {
            return where.fail(quote(*text) + " contains " + quote(std::string_view(&c, 1)) + ", expected " +
                              std::string(rule.expected));
        }
    }
    return text;
}

result<std::string> read_choice(const YAML::Node& node, const site& where,
                                const std::vector<std::string_view>& choices) {
    const std::string expected = choices_text(choices);
    auto text = read_scalar(node, where, expected);
    if (!text) {
        return text.failure();
    }
    for (const auto choice : choices) {
        if (*text == choice) {
            return text;
        }
    }
    return where.fail(quote(*text) + " is not valid, expected " + expected);
}

enum class ip_family { any, v4, v6 };

// The address in network byte order (4 or 16 bytes); empty when invalid.
std::string ip_bytes(const std::string& text, ip_family family) {
    std::array<unsigned char, 16> buffer{};
    if (family != ip_family::v6 && inet_pton(AF_INET, text.c_str(), buffer.data()) == 1) {
        return std::string(reinterpret_cast<const char*>(buffer.data()), 4);
    }
    if (family != ip_family::v4 && inet_pton(AF_INET6, text.c_str(), buffer.data()) == 1) {
        return std::string(reinterpret_cast<const char*>(buffer.data()), 16);
    }
    return {};
}

result<std::string> read_ip(const YAML::Node& node, const site& where, ip_family family, bool optional) {
    std::string what = "an IP address";
    std::string expected = "an IPv4 or IPv6 literal";
    if (family == ip_family::v4) {
        what = "an IPv4 address";
        expected = "an IPv4 literal";
    } else if (family == ip_family::v6) {
        what = "an IPv6 address";
        expected = "an IPv6 literal";
    }
    if (optional) {
        expected += " or an empty string";
    }
    auto text = read_scalar(node, where, expected);
    if (!text) {
        return text.failure();
    }
    if (optional && text->empty()) {
        return text;
    }
    // A NUL inside the scalar would make inet_pton see a valid prefix.
    if (text->find('\0') != std::string::npos || ip_bytes(*text, family).empty()) {
        return where.fail(quote(*text) + " is not " + what + ", expected " + expected);
    }
    return text;
}

// ---- mappings and lists ----------------------------------------------------

// Calls visit(key, key_line, value) for every pair of a mapping, refusing
// non-scalar and duplicate keys (yaml-cpp keeps duplicates; it does not
// reject them). A key with no value at all counts as an empty mapping.
template <typename visitor>
status for_each_pair(const YAML::Node& node, const site& where, std::string_view expected, visitor&& visit) {
    if (node.IsNull()) {
        return {};
    }
    if (!node.IsMap()) {
        return wrong_kind(node, where, expected);
    }
    std::map<std::string, int> seen;  // key -> line
    // Range-for binds each pair by value; it->first would dangle, because
    // yaml-cpp's operator-> returns a temporary proxy.
    for (const auto& pair : node) {
        const YAML::Node& key = pair.first;
        const int key_line = line_of(key, where.line);
        if (!key.IsScalar()) {
            return site{where.file, where.path, key_line}.fail(std::string("found ") + kind_of(key) +
                                                               " as a key, expected a key name");
        }
        const auto [first, inserted] = seen.emplace(key.Scalar(), key_line);
        if (!inserted) {
            return where.child(key.Scalar(), key_line)
                .fail("duplicate key (first on line " + std::to_string(first->second) +
                      "), expected each key once");
        }
        if (auto visited = visit(key.Scalar(), key_line, pair.second); !visited) {
            return visited;
        }
    }
    return {};
}

template <typename T>
using reader = std::function<status(const YAML::Node&, const site&, T&)>;

template <typename T>
struct field {
    std::string_view key;
    reader<T> read;
    bool reserved = false;  // a later section: refused by name, not listed as expected
};

template <typename T>
status read_mapping(const YAML::Node& node, const site& where, const std::vector<field<T>>& fields, T& out) {
    std::vector<std::string_view> known;
    for (const auto& row : fields) {
        if (!row.reserved) {
            known.push_back(row.key);
        }
    }
    const std::string expected = "a mapping with keys " + join(known, ", ");
    return for_each_pair(node, where, expected,
                         [&](const std::string& key, int key_line, const YAML::Node& value) -> status {
                             const site at = where.child(key, key_line);
                             for (const auto& row : fields) {
                                 if (row.key == key) {
                                     return row.read(value, at, out);
                                 }
                             }
                             return at.fail("unknown key, expected one of " + join(known, ", "));
                         });
}

// Row factories: each binds a key to a member and one of the readers above.

template <typename T, typename U>
field<T> unsigned_field(std::string_view key, U T::*member, unsigned_range range) {
    static_assert(std::is_unsigned_v<U>);
    return {key, [member, range](const YAML::Node& node, const site& where, T& out) -> status {
                auto value = read_unsigned(node, where, range);
                if (!value) {
                    return value.failure();
                }
                if (*value > std::numeric_limits<U>::max()) {  // a table mistake, not a user one
                    return where.fail("does not fit its field, expected a smaller range in the schema");
                }
                out.*member = static_cast<U>(*value);
                return {};
            }};
}

template <typename T>
field<T> bool_field(std::string_view key, bool T::*member) {
    return {key, [member](const YAML::Node& node, const site& where, T& out) -> status {
                auto value = read_bool(node, where);
                if (!value) {
                    return value.failure();
                }
                out.*member = *value;
                return {};
            }};
}

template <typename T>
field<T> text_field(std::string_view key, std::string T::*member, text_rule rule = {}) {
    return {key, [member, rule](const YAML::Node& node, const site& where, T& out) -> status {
                auto value = read_text(node, where, rule);
                if (!value) {
                    return value.failure();
                }
                out.*member = std::move(*value);
                return {};
            }};
}

template <typename T>
field<T> choice_field(std::string_view key, std::string T::*member,
                      const std::vector<std::string_view>& choices) {
    return {key, [member, choices](const YAML::Node& node, const site& where, T& out) -> status {
                auto value = read_choice(node, where, choices);
                if (!value) {
                    return value.failure();
                }
                out.*member = std::move(*value);
                return {};
            }};
}

template <typename T>
field<T> ip_field(std::string_view key, std::string T::*member, ip_family family, bool optional = false) {
    return {key, [member, family, optional](const YAML::Node& node, const site& where, T& out) -> status {
                auto value = read_ip(node, where, family, optional);
                if (!value) {
                    return value.failure();
                }
                out.*member = std::move(*value);
                return {};
            }};
}

template <typename T, typename U>
field<T> mapping_field(std::string_view key, U T::*member, std::vector<field<U>> (*fields)()) {
    return {key, [member, fields](const YAML::Node& node, const site& where, T& out) -> status {
                return read_mapping(node, where, fields(), out.*member);
            }};
}

// Runs after a whole list is read, with each element's site, for checks
// between elements (unique names, no duplicate listeners).
template <typename U>
using list_check = std::function<status(const std::vector<U>&, const std::vector<site>&)>;

template <typename T, typename U>
field<T> list_field(std::string_view key, std::vector<U> T::*member, std::string_view expected,
                    reader<U> read_element, bool non_empty, list_check<U> check = {}) {
    return {key, [=](const YAML::Node& node, const site& where, T& out) -> status {
                if (!node.IsSequence()) {
                    return wrong_kind(node, where, expected);
                }
                if (non_empty && node.size() == 0) {
                    return where.fail("is an empty list, expected " + std::string(expected) +
                                      " with at least one entry");
                }
                std::vector<U> items;
                std::vector<site> sites;
                for (const YAML::Node& element : node) {
                    sites.push_back(where.element(items.size(), line_of(element, where.line)));
                    U item{};  // each entry starts from the built-in defaults
                    if (auto read = read_element(element, sites.back(), item); !read) {
                        return read;
                    }
                    items.push_back(std::move(item));
                }
                if (check) {
                    if (auto checked = check(items, sites); !checked) {
                        return checked;
                    }
                }
                out.*member = std::move(items);
                return {};
            }};
}

template <typename U>
reader<U> mapping_reader(std::vector<field<U>> (*fields)()) {
    return [fields](const YAML::Node& node, const site& where, U& out) {
        return read_mapping(node, where, fields(), out);
    };
}

reader<std::string> text_reader(text_rule rule) {
    return [rule](const YAML::Node& node, const site& where, std::string& out) -> status {
        auto value = read_text(node, where, rule);
        if (!value) {
            return value.failure();
        }
        out = std::move(*value);
        return {};
    };
}

template <typename T>
field<T> reserved_field(std::string_view key) {
    return {key,
            [](const YAML::Node&, const site& where, T&) -> status {
                return where.fail("not supported yet by this version, remove it");
            },
            true};
}

// ---- the schema ----------------------------------------------------------------

const std::vector<std::string_view> log_levels{"trace", "debug", "info", "warn", "error", "critical", "off"};

constexpr unsigned_range port_range{1, 65535};

std::vector<field<endpoint>> endpoint_fields() {
    return {
        ip_field("address", &endpoint::address, ip_family::any),
        unsigned_field("port", &endpoint::port, port_range),
    };
}

std::vector<field<sip_listen>> sip_listen_fields() {
    return {
        choice_field("transport", &sip_listen::transport, {"udp", "tcp"}),
        ip_field("address", &sip_listen::address, ip_family::any),
        unsigned_field("port", &sip_listen::port, port_range),
    };
}

std::string listener_text(const sip_listen& listener) {
    const bool v6 = listener.address.find(':') != std::string::npos;
    return listener.transport + " " + (v6 ? "[" + listener.address + "]" : listener.address) + ":" +
           std::to_string(listener.port);
}

status check_unique_listeners(const std::vector<sip_listen>& listeners, const std::vector<site>& sites) {
    for (std::size_t i = 0; i < listeners.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            const auto& a = listeners[i];
            const auto& b = listeners[j];
            // Compare addresses as bytes: "::" and "0::0" are the same socket.
            if (a.transport == b.transport && a.port == b.port &&
                ip_bytes(a.address, ip_family::any) == ip_bytes(b.address, ip_family::any)) {
                return sites[i].fail(listener_text(a) + " is already listened on by " + sites[j].path +
                                     ", expected each transport, address and port once");
            }
        }
    }
    return {};
}

std::vector<field<media_control_config>> media_control_fields() {
    using m = media_control_config;
    return {
        mapping_field("dataplane", &m::dataplane, endpoint_fields),
        unsigned_field("timeout_ms", &m::timeout_ms, {10, 60000}),
        unsigned_field("retries", &m::retries, {0, 10}),
        unsigned_field("health_interval_ms", &m::health_interval_ms, {100, 3600000}),
    };
}

std::vector<field<signaling_config>> signaling_fields() {
    using s = signaling_config;
    return {
        list_field("listen", &s::listen, "a list of mappings with keys transport, address, port",
                   mapping_reader(sip_listen_fields), true, list_check<sip_listen>(check_unique_listeners)),
        text_field("user_agent", &s::user_agent, {true, {}, "a non-empty string"}),
        mapping_field("media_control", &s::media_control, media_control_fields),
    };
}

std::vector<field<eal_config>> eal_fields() {
    using e = eal_config;
    const text_rule argument{true, {}, "a non-empty string"};
    return {
        text_field("lcores", &e::lcores,
                   {true, "0123456789,-@()", "an lcore list of digits and , - @ ( ) such as \"0-3\""}),
        bool_field("no_huge", &e::no_huge),
        unsigned_field("memory_mb", &e::memory_mb, {64, 65536}),
        bool_field("in_memory", &e::in_memory),
        text_field("file_prefix", &e::file_prefix, argument),
        list_field("pci_allow", &e::pci_allow, "a list of PCI addresses", text_reader(argument), false),
        list_field("extra_args", &e::extra_args, "a list of EAL arguments", text_reader(argument), false),
    };
}

std::vector<field<port_config>> port_fields() {
    using p = port_config;
    const text_rule non_empty{true, {}, "a non-empty string"};
    constexpr unsigned_range descriptors{64, 16384, true};
    return {
        text_field("name", &p::name, non_empty),
        text_field("device", &p::device, {true, {}, "a vdev spec or a PCI address"}),
        ip_field("ipv4", &p::ipv4, ip_family::v4),
        unsigned_field("ipv4_prefix", &p::ipv4_prefix, {1, 32}),
        ip_field("ipv6", &p::ipv6, ip_family::v6, true),
        unsigned_field("ipv6_prefix", &p::ipv6_prefix, {1, 128}),
        unsigned_field("rx_queues", &p::rx_queues, {1, 64}),
        unsigned_field("rx_descriptors", &p::rx_descriptors, descriptors),
        unsigned_field("tx_descriptors", &p::tx_descriptors, descriptors),
        unsigned_field("mtu", &p::mtu, {576, 9600}),
        ip_field("ipv4_gateway", &p::ipv4_gateway, ip_family::v4, true),
        ip_field("ipv6_gateway", &p::ipv6_gateway, ip_family::v6, true),
    };
}

// Names key metrics and logs; two ports on one device would make EAL probe
// it twice. Both are refused here rather than at port start-up.
status check_unique_ports(const std::vector<port_config>& ports, const std::vector<site>& sites) {
    for (std::size_t i = 0; i < ports.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            if (ports[i].name == ports[j].name) {
                return sites[i]
                    .child("name", sites[i].line)
                    .fail(quote(ports[i].name) + " is also the name of " + sites[j].path +
                          ", expected unique port names");
            }
            if (ports[i].device == ports[j].device) {
                return sites[i]
                    .child("device", sites[i].line)
                    .fail(quote(ports[i].device) + " is also the device of " + sites[j].path +
                          ", expected each device once");
            }
        }
    }
    return {};
}

std::vector<field<media_config>> media_fields() {
    using m = media_config;
    return {
        unsigned_field("port_min", &m::port_min, {1024, 65534}),
        unsigned_field("port_max", &m::port_max, {1025, 65535}),
        unsigned_field("max_sessions", &m::max_sessions, {1, 1000000}),
        unsigned_field("timeout_s", &m::timeout_s, {0, 86400}),
        unsigned_field("silent_timeout_s", &m::silent_timeout_s, {0, 86400}),
        unsigned_field("final_timeout_s", &m::final_timeout_s, {0, 604800}),
        unsigned_field("delete_delay_s", &m::delete_delay_s, {0, 3600}),
        unsigned_field("learning_window_ms", &m::learning_window_ms, {0, 60000}),
    };
}

std::vector<field<dataplane_config>> dataplane_fields() {
    using d = dataplane_config;
    return {
        mapping_field("eal", &d::eal, eal_fields),
        list_field("ports", &d::ports, "a list of port mappings", mapping_reader(port_fields), true,
                   list_check<port_config>(check_unique_ports)),
        unsigned_field("mbufs", &d::mbufs, {1023, 4194303}),
        unsigned_field("burst_size", &d::burst_size, {1, 256}),
        choice_field("polling", &d::polling, {"busy", "adaptive"}),
        mapping_field("control", &d::control, endpoint_fields),
        {"media",
         [](const YAML::Node& node, const site& where, dataplane_config& out) -> status {
             if (auto read = read_mapping(node, where, media_fields(), out.media); !read) {
                 return read;
             }
             // Two pairs at least: one call needs a pair on each side.
             if (static_cast<unsigned>(out.media.port_min) + 3U > out.media.port_max) {
                 const YAML::Node max_node = node.IsMap() ? node["port_max"] : YAML::Node();
                 const int line = max_node ? line_of(max_node, where.line) : where.line;
                 return where.child("port_max", line)
                     .fail(std::to_string(out.media.port_max) + " leaves no room above port_min " +
                           std::to_string(out.media.port_min) + ", expected at least port_min + 3");
             }
             return {};
         }},
    };
}

std::vector<field<metrics_config>> metrics_fields() {
    using m = metrics_config;
    return {
        bool_field("enabled", &m::enabled),
        mapping_field("signaling", &m::signaling, endpoint_fields),
        mapping_field("dataplane", &m::dataplane, endpoint_fields),
    };
}

status read_log_modules(const YAML::Node& node, const site& where, logging_config& out) {
    std::map<std::string, std::string> modules;
    auto read = for_each_pair(node, where, "a mapping of module names to levels",
                              [&](const std::string& name, int key_line, const YAML::Node& value) -> status {
                                  const site at = where.child(name, key_line);
                                  if (name.empty()) {
                                      return at.fail("empty module name, expected a module name");
                                  }
                                  auto level = read_choice(value, at, log_levels);
                                  if (!level) {
                                      return level.failure();
                                  }
                                  modules[name] = std::move(*level);
                                  return {};
                              });
    if (!read) {
        return read;
    }
    out.modules = std::move(modules);
    return {};
}

std::vector<field<logging_config>> logging_fields() {
    using l = logging_config;
    return {
        choice_field("level", &l::level, log_levels),
        choice_field("format", &l::format, {"text", "journal"}),
        {"modules", read_log_modules},
    };
}

std::vector<field<appliance_config>> appliance_fields() {
    using a = appliance_config;
    return {
        mapping_field("signaling", &a::signaling, signaling_fields),
        mapping_field("dataplane", &a::dataplane, dataplane_fields),
        mapping_field("metrics", &a::metrics, metrics_fields),
        mapping_field("logging", &a::logging, logging_fields),
        reserved_field<a>("trunks"),
        reserved_field<a>("spans"),
        reserved_field<a>("routes"),
        reserved_field<a>("users"),
    };
}

// Sees only where each document starts; used to count documents safely.
class document_starts final : public YAML::EventHandler {
  public:
    std::vector<YAML::Mark> marks;

    void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

int line_of(const YAML::Mark& mark) {
    return mark.line >= 0 ? mark.line + 1 : 1;
}

// The file must hold one document. yaml-cpp 0.7's LoadAll() cannot be used
// to check that: on a stray "," at document level its parser reports an
// empty document without consuming the token, forever, allocating a node
// each time (jbeder/yaml-cpp#1040, fixed upstream after 0.7). So documents
// are counted here, at most three, and a document that starts where the
// previous one started means the parser is stuck on a token it cannot use.
status check_one_document(const std::string& text, std::string_view file_name) {
    std::istringstream input(text);
    YAML::Parser parser(input);
    document_starts starts;
    while (starts.marks.size() < 3 && parser.HandleNextDocument(starts)) {
    }
    const auto& marks = starts.marks;
    for (std::size_t i = 1; i < marks.size(); ++i) {
        if (marks[i].pos <= marks[i - 1].pos) {
            const auto at = static_cast<std::size_t>(std::max(marks[i].pos, 0));
            const std::string token = at < text.size() ? quote(text.substr(at, 1)) : std::string("token");
            return make_error(std::string(file_name) + ":" + std::to_string(line_of(marks[i])) +
                              ": syntax error: unexpected " + token + ", expected valid YAML");
        }
    }
    if (marks.size() > 1) {
        return site{file_name, "", line_of(marks[1])}.fail(
            "found a second YAML document, expected one document");
    }
    return {};
}

result<appliance_config> parse_document(const std::string& text, std::string_view file_name) {
    if (auto checked = check_one_document(text, file_name); !checked) {
        return checked.failure();
    }
    const YAML::Node document = YAML::Load(text);
    appliance_config config;
    config.source = std::string(file_name);
    // An empty file (or only comments) is a null document: all defaults.
    const site top{file_name, "", line_of(document, 1)};
    if (auto read = read_mapping(document, top, appliance_fields(), config); !read) {
        return read.failure();
    }
    return config;
}

}  // namespace

result<appliance_config> parse_config(std::string_view yaml_text, std::string_view file_name) {
    try {
        return parse_document(std::string(yaml_text), file_name);
    } catch (const YAML::ParserException& failure) {
        const int line = failure.mark.line >= 0 ? failure.mark.line + 1 : 1;
        return make_error(std::string(file_name) + ":" + std::to_string(line) +
                          ": syntax error: " + printable(failure.msg, 200) + ", expected valid YAML");
    } catch (const std::exception& failure) {
        return make_error(std::string(file_name) + ": cannot read: " + printable(failure.what(), 200));
    } catch (...) {
        return make_error(std::string(file_name) + ": cannot read: unexpected failure");
    }
}

result<appliance_config> load_config(const std::string& path) {
    // No config file is legitimately this big; the bound keeps a wrong path
    // (a device, a log file) from being read into memory whole.
    constexpr std::size_t max_file_bytes = 4U << 20U;
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) {
        return make_error(path +
                          ": cannot open: " + std::error_code(errno, std::generic_category()).message());
    }
    std::string text;
    std::array<char, 8192> buffer{};
    int read_errno = 0;
    while (text.size() <= max_file_bytes) {
        const std::size_t got = std::fread(buffer.data(), 1, buffer.size(), file);
        text.append(buffer.data(), got);
        if (got < buffer.size()) {
            if (std::ferror(file) != 0) {
                read_errno = errno;
            }
            break;
        }
    }
    std::fclose(file);
    if (read_errno != 0) {
        return make_error(path +
                          ": cannot open: " + std::error_code(read_errno, std::generic_category()).message());
    }
    if (text.size() > max_file_bytes) {
        return make_error(path + ": cannot open: larger than 4 MiB, expected a configuration file");
    }
    return parse_config(text, path);
}

}  // namespace tandem::config
