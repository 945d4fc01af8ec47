#include "signaling/sip/trace_counter.hpp"

#include <functional>
#include <optional>

namespace tandem::sip {

namespace {

constexpr std::string_view content_format = "%s%.*s";
constexpr std::string_view line_end_format = "\n";
constexpr std::string_view separator =
    "------------------------------------------------------------------------";
constexpr std::string_view truncated_prefix = "   *** message truncated";
// Only the first line and header names matter; a longer line is cut, not buffered.
constexpr std::size_t max_line_chars = 1024;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_space(char c) {
    return c == ' ' || c == '\t';
}

// RFC 3261 25.1 token characters.
bool is_token_char(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)) {
        return true;
    }
    return std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
}

std::string_view leading_token(std::string_view text) {
    std::size_t length = 0;
    while (length < text.size() && is_token_char(text[length])) {
        ++length;
    }
    return text.substr(0, length);
}

std::string_view skip_spaces(std::string_view text) {
    while (!text.empty() && is_space(text.front())) {
        text.remove_prefix(1);
    }
    return text;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

// "recv 242 bytes from ..." / "send 378 bytes to ...": tport's stamp line.
std::optional<bool> stamp_is_send(std::string_view text) {
    bool send = false;
    if (text.starts_with("send ")) {
        send = true;
    } else if (!text.starts_with("recv ")) {
        return std::nullopt;
    }
    text.remove_prefix(5);
    std::size_t digits = 0;
    while (digits < text.size() && is_digit(text[digits])) {
        ++digits;
    }
    if (digits == 0 || !text.substr(digits).starts_with(send ? " bytes to " : " bytes from ")) {
        return std::nullopt;
    }
    return send;
}

}  // namespace

trace_counter::trace_counter(sip_counters& counters, std::size_t window)
    : counters_(counters), window_(window == 0 ? 1 : window) {}

bool trace_counter::feed(std::string_view format, std::string_view text) {
    if (format == content_format) {
        if (in_message_ && line_.size() < max_line_chars) {
            line_.append(text.substr(0, max_line_chars - line_.size()));
        }
        return true;
    }
    if (format == line_end_format) {
        if (!in_message_) {
            return false;
        }
        finish_line();
        return true;
    }
    const bool has_separator = format.find(separator) != std::string_view::npos;
    // Sofia 1.12.11 prints the stamp through "%s   ---..."; later versions
    // pass the stamp itself as the format. Either way the text is tport's own.
    const bool fixed_text = format.find('%') == std::string_view::npos;
    if (has_separator || fixed_text) {
        if (const auto send = stamp_is_send(text)) {
            if (in_message_) {
                close_message();
            }
            open_message(*send ? direction::sent : direction::received);
            return true;
        }
    }
    if (has_separator) {
        // The opening separator printed on its own (later versions) comes
        // before any content; the closing one after it.
        if (in_message_ && (lines_ > 0 || !line_.empty())) {
            close_message();
        }
        return true;
    }
    return format.starts_with(truncated_prefix);
}

void trace_counter::open_message(direction way) {
    in_message_ = true;
    direction_ = way;
    kind_ = kind::unknown;
    status_ = 0;
    method_.clear();
    via_.clear();
    call_id_.clear();
    cseq_.clear();
    counted_ = false;
    in_body_ = false;
    lines_ = 0;
    line_.clear();
}

void trace_counter::close_message() {
    if (!line_.empty()) {
        finish_line();
    }
    count_message();  // a message cut short (truncated trace) still counts
    in_message_ = false;
    line_.clear();
}

void trace_counter::finish_line() {
    std::string_view line(line_);
    // tport indents every line of the message by three spaces.
    if (line.starts_with("   ")) {
        line.remove_prefix(3);
    }
    if (lines_ == 0) {
        parse_first_line(line);
    } else if (!in_body_) {
        parse_header_line(line);
    }
    ++lines_;
    line_.clear();
}

void trace_counter::parse_first_line(std::string_view line) {
    kind_ = kind::other;
    if (direction_ == direction::received) {
        if (line.empty() || line.starts_with("SIP/")) {
            return;  // a response to a request of ours: not counted here
        }
        kind_ = kind::request;
        const std::string_view method = leading_token(line);
        // "INVITE sip:..." has a space after the token; anything else is garbage nta will 400.
        if (!method.empty() && method.size() < line.size() && line[method.size()] == ' ') {
            method_ = method;
        }
        return;
    }
    constexpr std::string_view version = "SIP/2.0 ";
    if (!line.starts_with(version) || line.size() < version.size() + 3) {
        return;  // a request of ours: not counted here
    }
    const std::string_view code = line.substr(version.size(), 3);
    if (!is_digit(code[0]) || !is_digit(code[1]) || !is_digit(code[2])) {
        return;
    }
    kind_ = kind::response;
    status_ = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
}

void trace_counter::parse_header_line(std::string_view line) {
    if (line.empty()) {
        in_body_ = true;
        count_message();
        return;
    }
    if (kind_ != kind::request && kind_ != kind::response) {
        return;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
        return;
    }
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && is_space(name.back())) {
        name.remove_suffix(1);
    }
    const std::string_view value = skip_spaces(line.substr(colon + 1));
    if (via_.empty() && (equals_ignoring_case(name, "Via") || equals_ignoring_case(name, "v"))) {
        via_ = value;
    } else if (call_id_.empty() &&
               (equals_ignoring_case(name, "Call-ID") || equals_ignoring_case(name, "i"))) {
        call_id_ = value;
    } else if (cseq_.empty() && equals_ignoring_case(name, "CSeq")) {
        cseq_ = value;
        if (kind_ == kind::response) {
            std::string_view rest = value;
            while (!rest.empty() && is_digit(rest.front())) {
                rest.remove_prefix(1);
            }
            method_ = leading_token(skip_spaces(rest));
        }
    }
}

void trace_counter::count_message() {
    if (counted_ || (kind_ != kind::request && kind_ != kind::response)) {
        return;
    }
    counted_ = true;
    // Without any transaction identity (garbage nta will 400) every copy counts.
    if (!via_.empty() || !call_id_.empty() || !cseq_.empty()) {
        std::string identity;
        identity.reserve(via_.size() + call_id_.size() + cseq_.size() + 8);
        identity.append(kind_ == kind::request ? "q" : std::to_string(status_));
        identity.append("\n").append(via_).append("\n").append(call_id_).append("\n").append(cseq_);
        if (seen_before(std::hash<std::string>{}(identity))) {
            return;
        }
    }
    if (kind_ == kind::request) {
        counters_.request_received(method_);
    } else {
        counters_.response_sent(method_, status_);
    }
}

// A 64-bit hash stands in for the identity: a collision merely drops one count.
bool trace_counter::seen_before(std::uint64_t key) {
    if (recent_.count(key) > 0) {
        return true;
    }
    if (recent_order_.size() >= window_) {
        recent_.erase(recent_order_.front());
        recent_order_.pop_front();
    }
    recent_order_.push_back(key);
    recent_.insert(key);
    return false;
}

}  // namespace tandem::sip
