#include "gateway/ng/bencode.hpp"

#include <charconv>
#include <limits>

namespace tandem::ng {

const value* value::find(std::string_view key) const {
    if (!is_dict()) {
        return nullptr;
    }
    const auto& map = entries();
    const auto it = map.find(key);
    return it == map.end() ? nullptr : &it->second;
}

std::optional<std::string_view> value::find_string(std::string_view key) const {
    const value* entry = find(key);
    if (entry == nullptr || !entry->is_string()) {
        return std::nullopt;
    }
    return std::string_view(entry->string());
}

std::optional<std::int64_t> value::find_integer(std::string_view key) const {
    const value* entry = find(key);
    if (entry == nullptr || !entry->is_integer()) {
        return std::nullopt;
    }
    return entry->integer();
}

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Recursive descent over a string_view. Recursion depth is bounded by
// limits.max_depth (checked before descending), so hostile nesting costs an
// error, not the stack. Every read is preceded by an at_end() check. The
// parse_* functions fill `out` and return false after recording the first
// error, which keeps values from being moved through a result at each level.
class decoder {
  public:
    decoder(std::string_view input, const decode_limits& limits) : input_(input), limits_(limits) {}

    result<value> run() {
        value out;
        if (!parse_value(0, out)) {
            return make_error(failure_);
        }
        if (position_ != input_.size()) {
            fail("trailing bytes after the value");
            return make_error(failure_);
        }
        return out;
    }

  private:
    [[nodiscard]] bool at_end() const { return position_ >= input_.size(); }
    [[nodiscard]] char peek() const { return input_[position_]; }

    bool fail(std::string_view what) {
        failure_ = "bencode: " + std::string(what) + " at offset " + std::to_string(position_);
        return false;
    }

    // Counts one decoded value (dict keys included: they cost memory too).
    bool count_element() {
        ++elements_;
        return elements_ <= limits_.max_elements;
    }

    bool parse_value(std::size_t depth, value& out) {
        if (at_end()) {
            return fail("unexpected end of input");
        }
        if (!count_element()) {
            return fail("too many elements");
        }
        const char c = peek();
        if (c == 'i') {
            return parse_integer(out);
        }
        if (c == 'l' || c == 'd') {
            if (depth + 1 > limits_.max_depth) {
                return fail("nesting too deep");
            }
            return c == 'l' ? parse_list(depth + 1, out) : parse_dict(depth + 1, out);
        }
        if (is_digit(c)) {
            std::string text;
            if (!parse_string(text)) {
                return false;
            }
            out = value(std::move(text));
            return true;
        }
        return fail("unexpected byte");
    }

    bool parse_integer(value& out) {
        ++position_;  // 'i'
        bool negative = false;
        if (!at_end() && peek() == '-') {
            negative = true;
            ++position_;
        }
        const std::size_t digits_start = position_;
        // The magnitude accumulates as unsigned so INT64_MIN is representable.
        std::uint64_t magnitude = 0;
        const std::uint64_t max_magnitude =
            negative ? static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1
                     : static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
        while (!at_end() && is_digit(peek())) {
            const auto digit = static_cast<std::uint64_t>(peek() - '0');
            if (magnitude > (max_magnitude - digit) / 10) {
                return fail("integer overflow");
            }
            magnitude = magnitude * 10 + digit;
            ++position_;
        }
        const std::size_t digit_count = position_ - digits_start;
        if (digit_count == 0) {
            return fail("integer without digits");
        }
        if (input_[digits_start] == '0' && (digit_count > 1 || negative)) {
            return fail("integer with a leading zero or negative zero");
        }
        if (at_end() || peek() != 'e') {
            return fail("unterminated integer");
        }
        ++position_;  // 'e'
        // 0 - magnitude in unsigned arithmetic negates INT64_MIN without overflow.
        out = value(static_cast<std::int64_t>(negative ? 0 - magnitude : magnitude));
        return true;
    }

    bool parse_string(std::string& out) {
        const std::size_t digits_start = position_;
        std::size_t length = 0;
        while (!at_end() && is_digit(peek())) {
            length = length * 10 + static_cast<std::size_t>(peek() - '0');
            // Checked per digit so a long digit run cannot wrap around.
            if (length > limits_.max_string) {
                return fail("string longer than the limit");
            }
            ++position_;
        }
        const std::size_t digit_count = position_ - digits_start;
        if (digit_count == 0) {
            return fail("string without length");
        }
        if (digit_count > 1 && input_[digits_start] == '0') {
            return fail("string length with a leading zero");
        }
        if (at_end() || peek() != ':') {
            return fail("string length without ':'");
        }
        ++position_;  // ':'
        if (length > input_.size() - position_) {
            return fail("string runs past the end of input");
        }
        out.assign(input_.substr(position_, length));
        position_ += length;
        return true;
    }

    bool parse_list(std::size_t depth, value& out) {
        ++position_;  // 'l'
        out = value(list{});
        list& items = out.items();
        while (true) {
            if (at_end()) {
                return fail("unterminated list");
            }
            if (peek() == 'e') {
                ++position_;
                return true;
            }
            if (!parse_value(depth, items.emplace_back())) {
                return false;
            }
        }
    }

    bool parse_dict(std::size_t depth, value& out) {
        ++position_;  // 'd'
        out = value(dict{});
        dict& entries = out.entries();
        std::optional<std::string> previous_key;  // only kept when strict_keys
        std::string key;
        while (true) {
            if (at_end()) {
                return fail("unterminated dictionary");
            }
            if (peek() == 'e') {
                ++position_;
                return true;
            }
            if (!is_digit(peek())) {
                return fail("dictionary key is not a string");
            }
            if (!count_element()) {
                return fail("too many elements");
            }
            if (!parse_string(key)) {
                return false;
            }
            if (limits_.strict_keys && previous_key && !(*previous_key < key)) {
                return fail("dictionary keys unsorted or duplicated");
            }
            if (at_end() || peek() == 'e') {
                return fail("dictionary key without value");
            }
            value item;
            if (!parse_value(depth, item)) {
                return false;
            }
            if (limits_.strict_keys) {
                previous_key = key;
            }
            // A duplicate key keeps its first value: rtpengine's lookup finds
            // the first occurrence too, so both read the same request.
            entries.try_emplace(std::move(key), std::move(item));
            key.clear();
        }
    }

    std::string_view input_;
    const decode_limits& limits_;
    std::size_t position_ = 0;
    std::size_t elements_ = 0;
    std::string failure_;
};

}  // namespace

result<value> decode(std::string_view input, const decode_limits& limits) {
    return decoder(input, limits).run();
}

void encode_to(const value& v, std::string& out) {
    if (v.is_integer()) {
        char buffer[24];
        const auto converted = std::to_chars(buffer, buffer + sizeof(buffer), v.integer());
        out.push_back('i');
        out.append(buffer, converted.ptr);
        out.push_back('e');
    } else if (v.is_string()) {
        const std::string& text = v.string();
        out.append(std::to_string(text.size()));
        out.push_back(':');
        out.append(text);
    } else if (v.is_list()) {
        out.push_back('l');
        for (const value& item : v.items()) {
            encode_to(item, out);
        }
        out.push_back('e');
    } else {
        // std::map iterates in byte order, which is the canonical key order.
        out.push_back('d');
        for (const auto& [key, item] : v.entries()) {
            out.append(std::to_string(key.size()));
            out.push_back(':');
            out.append(key);
            encode_to(item, out);
        }
        out.push_back('e');
    }
}

std::string encode(const value& v) {
    std::string out;
    encode_to(v, out);
    return out;
}

}  // namespace tandem::ng
