#pragma once
// Bencode, the encoding of rtpengine's ng control protocol.
//
// decode() is total: it checks every length before reading, bounds nesting
// depth, element count and string size, and returns an error (never throws,
// never crashes) on any malformed input. Dictionaries keep their keys sorted
// and unique, as the encoding requires; decode rejects unsorted or duplicate
// keys only when limits.strict_keys is set (rtpengine itself accepts them);
// otherwise a duplicated key keeps its first value, the one rtpengine reads.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gateway/core/result.hpp"

namespace tandem::ng {

class value;
using list = std::vector<value>;
using dict = std::map<std::string, value, std::less<>>;

class value {
  public:
    value() : data_(std::string{}) {}
    value(std::int64_t number) : data_(number) {}
    value(int number) : data_(static_cast<std::int64_t>(number)) {}
    value(std::string text) : data_(std::move(text)) {}
    value(std::string_view text) : data_(std::string(text)) {}
    value(const char* text) : data_(std::string(text)) {}
    value(list items) : data_(std::move(items)) {}
    value(dict entries) : data_(std::move(entries)) {}

    // Defined out of line: inlined copies and moves of this recursive variant
    // trip g++ 12's -Wmaybe-uninitialized false positive in every caller.
    value(const value& other);
    value(value&& other) noexcept;
    value& operator=(const value& other);
    value& operator=(value&& other) noexcept;
    ~value();

    [[nodiscard]] bool is_integer() const { return std::holds_alternative<std::int64_t>(data_); }
    [[nodiscard]] bool is_string() const { return std::holds_alternative<std::string>(data_); }
    [[nodiscard]] bool is_list() const { return std::holds_alternative<list>(data_); }
    [[nodiscard]] bool is_dict() const { return std::holds_alternative<dict>(data_); }

    // Accessors: call only after the matching is_*() check.
    [[nodiscard]] std::int64_t integer() const { return std::get<std::int64_t>(data_); }
    [[nodiscard]] const std::string& string() const { return std::get<std::string>(data_); }
    [[nodiscard]] const list& items() const { return std::get<list>(data_); }
    [[nodiscard]] list& items() { return std::get<list>(data_); }
    [[nodiscard]] const dict& entries() const { return std::get<dict>(data_); }
    [[nodiscard]] dict& entries() { return std::get<dict>(data_); }

    // Dictionary lookups; nullptr / nullopt when this is not a dict, the key
    // is absent, or the entry has another type.
    [[nodiscard]] const value* find(std::string_view key) const;
    [[nodiscard]] std::optional<std::string_view> find_string(std::string_view key) const;
    [[nodiscard]] std::optional<std::int64_t> find_integer(std::string_view key) const;

    friend bool operator==(const value&, const value&) = default;

  private:
    std::variant<std::int64_t, std::string, list, dict> data_;
};

struct decode_limits {
    std::size_t max_depth = 32;        // nested lists/dicts
    std::size_t max_elements = 65536;  // total values in one document
    std::size_t max_string = 1 << 20;  // one string's length (an SDP fits)
    bool strict_keys = false;          // reject unsorted/duplicate dict keys
};

// Decodes exactly one value that must span the whole input.
result<value> decode(std::string_view input, const decode_limits& limits = {});

// Canonical encoding (dict keys sorted).
std::string encode(const value& v);
void encode_to(const value& v, std::string& out);

}  // namespace tandem::ng
