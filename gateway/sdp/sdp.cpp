#include "gateway/sdp/sdp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace tandem::sdp {
namespace {

constexpr std::string_view whitespace = " \t";

bool is_space(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && is_space(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_space(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

// Splits on runs of spaces and tabs; the views point into `text`.
std::vector<std::string_view> split_tokens(std::string_view text) {
    std::vector<std::string_view> tokens;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t start = text.find_first_not_of(whitespace, pos);
        if (start == std::string_view::npos) {
            break;
        }
        std::size_t end = text.find_first_of(whitespace, start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        tokens.push_back(text.substr(start, end - start));
        pos = end;
    }
    return tokens;
}

// First whitespace-separated token and the trimmed rest.
std::pair<std::string_view, std::string_view> split_first(std::string_view text) {
    text = trim(text);
    const std::size_t end = text.find_first_of(whitespace);
    if (end == std::string_view::npos) {
        return {text, {}};
    }
    return {text.substr(0, end), trim(text.substr(end))};
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) {
            return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        };
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

// Decimal digits only, at most `max`; nullopt for anything else.
std::optional<std::uint32_t> parse_uint(std::string_view text, std::uint32_t max) {
    if (text.empty() || text.size() > 10) {
        return std::nullopt;
    }
    std::uint64_t number = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        number = number * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (number > max) {
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(number);
}

bool all_digits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Attacker text in an error message: bounded and printable.
std::string clip(std::string_view text) {
    constexpr std::size_t max_shown = 40;
    std::string out;
    for (std::size_t i = 0; i < text.size() && i < max_shown; ++i) {
        const char c = text[i];
        out += (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    if (text.size() > max_shown) {
        out += "...";
    }
    return out;
}

std::string quote(std::string_view text) {
    return '"' + clip(text) + '"';
}

std::string at_line(std::size_t line_number, std::string_view what) {
    return "line " + std::to_string(line_number) + ": " + std::string(what);
}

bool printable_token(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string_view family_name(address_family family) {
    return family == address_family::ip4 ? "IP4" : "IP6";
}

// ---- the three structured lines --------------------------------------------

result<origin_field> parse_origin(std::string_view value) {
    const std::vector<std::string_view> tokens = split_tokens(value);
    if (tokens.size() < 6) {
        return make_error(
            "o= needs 6 fields (username sess-id sess-version nettype addrtype address), found " +
            std::to_string(tokens.size()));
    }
    const std::size_t n = tokens.size();
    origin_field origin;
    // A username with spaces is invalid but seen in the wild: take the last
    // five fields from the right and leave the rest to the username.
    const std::size_t username_end = static_cast<std::size_t>(tokens[n - 5].data() - value.data());
    origin.username = std::string(trim(value.substr(0, username_end)));
    origin.session_id = std::string(tokens[n - 5]);
    origin.session_version = std::string(tokens[n - 4]);
    origin.network_type = std::string(tokens[n - 3]);
    origin.address_type = std::string(tokens[n - 2]);
    origin.address = std::string(tokens[n - 1]);
    return origin;
}

std::string render_origin(const origin_field& origin) {
    std::string out;
    out.reserve(origin.username.size() + origin.session_id.size() + origin.session_version.size() +
                origin.network_type.size() + origin.address_type.size() + origin.address.size() + 5);
    out += origin.username;
    out += ' ';
    out += origin.session_id;
    out += ' ';
    out += origin.session_version;
    out += ' ';
    out += origin.network_type;
    out += ' ';
    out += origin.address_type;
    out += ' ';
    out += origin.address;
    return out;
}

// "IN IP4 addr" as three tokens (from c= or a=rtcp).
result<connection_field> parse_connection_tokens(std::string_view network_type, std::string_view address_type,
                                                 std::string_view address, std::string_view what) {
    if (!iequals(network_type, "IN")) {
        return make_error(std::string(what) + " network type " + quote(network_type) +
                          " unsupported (expected IN)");
    }
    connection_field connection;
    if (iequals(address_type, "IP4")) {
        connection.family = address_family::ip4;
    } else if (iequals(address_type, "IP6")) {
        connection.family = address_family::ip6;
    } else {
        return make_error(std::string(what) + " address type " + quote(address_type) +
                          " unsupported (expected IP4 or IP6)");
    }
    const std::size_t slash = address.find('/');
    const std::string_view host = address.substr(0, slash);
    if (host.empty() || !printable_token(address)) {
        return make_error(std::string(what) + " address " + quote(address) + " is malformed");
    }
    connection.address = std::string(host);
    if (slash != std::string_view::npos) {
        connection.multicast_suffix = std::string(address.substr(slash));
    }
    return connection;
}

result<connection_field> parse_connection(std::string_view value) {
    const std::vector<std::string_view> tokens = split_tokens(value);
    if (tokens.size() != 3) {
        return make_error("c= needs 3 fields (IN IP4|IP6 address), found " + std::to_string(tokens.size()));
    }
    return parse_connection_tokens(tokens[0], tokens[1], tokens[2], "c=");
}

std::string render_connection(const connection_field& connection) {
    std::string out = "IN ";
    out += family_name(connection.family);
    out += ' ';
    out += connection.address;
    out += connection.multicast_suffix;
    return out;
}

struct media_line_fields {
    std::string media_type;
    std::uint16_t port = 0;
    std::optional<std::uint16_t> port_count;
    std::string protocol;
    std::vector<std::string> formats;

    friend bool operator==(const media_line_fields&, const media_line_fields&) = default;
};

media_line_fields fields_of(const media_description& media) {
    return {media.media_type, media.port, media.port_count, media.protocol, media.formats};
}

result<media_line_fields> parse_media_line(std::string_view value) {
    const std::vector<std::string_view> tokens = split_tokens(value);
    if (tokens.size() < 4) {
        return make_error("m= needs at least 4 fields (media port proto fmt), found " +
                          std::to_string(tokens.size()));
    }
    media_line_fields fields;
    fields.media_type = std::string(tokens[0]);
    const std::string_view port_token = tokens[1];
    const std::size_t slash = port_token.find('/');
    const std::string_view port_text = port_token.substr(0, slash);
    if (!all_digits(port_text)) {
        return make_error("m= port " + quote(port_text) + " is not a number");
    }
    const auto port = parse_uint(port_text, 65535);
    if (!port) {
        return make_error("m= port " + clip(port_text) + " out of range");
    }
    fields.port = static_cast<std::uint16_t>(*port);
    if (slash != std::string_view::npos) {
        const std::string_view count_text = port_token.substr(slash + 1);
        const auto count = parse_uint(count_text, 65535);
        if (!count || *count == 0) {
            return make_error("m= port count " + quote(count_text) + " out of range (1..65535)");
        }
        fields.port_count = static_cast<std::uint16_t>(*count);
    }
    fields.protocol = std::string(tokens[2]);
    fields.formats.reserve(tokens.size() - 3);
    for (std::size_t i = 3; i < tokens.size(); ++i) {
        fields.formats.emplace_back(tokens[i]);
    }
    return fields;
}

std::string render_media_line(const media_line_fields& fields) {
    std::string out = fields.media_type;
    out += ' ';
    out += std::to_string(fields.port);
    if (fields.port_count) {
        out += '/';
        out += std::to_string(*fields.port_count);
    }
    out += ' ';
    out += fields.protocol;
    for (const std::string& format : fields.formats) {
        out += ' ';
        out += format;
    }
    return out;
}

// The original text while it still says what the fields say, else the
// fields rendered: untouched lines keep their spelling.
template <typename Fields, typename Parse, typename Render>
std::string slot_text(std::string_view original, const Fields& fields, Parse parse_fn, Render render_fn) {
    auto reparsed = parse_fn(original);
    if (reparsed.ok() && reparsed.value() == fields) {
        return std::string(original);
    }
    return render_fn(fields);
}

result<rtcp_attribute> parse_rtcp(std::string_view value) {
    const std::vector<std::string_view> tokens = split_tokens(value);
    if (tokens.size() != 1 && tokens.size() != 4) {
        return make_error("a=rtcp needs a port and optionally IN IP4|IP6 <address>");
    }
    const auto port = parse_uint(tokens[0], 65535);
    if (!port) {
        return make_error("a=rtcp port " + quote(tokens[0]) + " out of range");
    }
    rtcp_attribute attribute;
    attribute.port = static_cast<std::uint16_t>(*port);
    if (tokens.size() == 4) {
        auto connection = parse_connection_tokens(tokens[1], tokens[2], tokens[3], "a=rtcp");
        if (!connection) {
            return connection.failure();
        }
        attribute.connection = std::move(connection.value());
    }
    return attribute;
}

std::string render_rtcp(const rtcp_attribute& attribute) {
    std::string out = "rtcp:" + std::to_string(attribute.port);
    if (attribute.connection) {
        out += ' ';
        out += render_connection(*attribute.connection);
    }
    return out;
}

// ---- line-list edits ---------------------------------------------------------

bool is_session_connection_successor(char type) {
    return std::string_view("btrzka").find(type) != std::string_view::npos;
}

std::size_t session_connection_position(const std::vector<line>& lines) {
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (is_session_connection_successor(lines[i].type)) {
            return i;
        }
    }
    return lines.size();
}

// After the m= line and its i= lines, as RFC 8866 orders a media section.
std::size_t media_connection_position(const std::vector<line>& lines) {
    std::size_t i = 0;
    while (i < lines.size() && (lines[i].type == 'm' || lines[i].type == 'i')) {
        ++i;
    }
    return i;
}

void sync_connection_slot(std::vector<line>& lines, const std::optional<connection_field>& connection,
                          std::size_t insert_at) {
    auto slot = std::find_if(lines.begin(), lines.end(), [](const line& l) { return l.type == 'c'; });
    if (!connection) {
        std::erase_if(lines, [](const line& l) { return l.type == 'c'; });
        return;
    }
    if (slot != lines.end()) {
        slot->value = render_connection(*connection);
        return;
    }
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(std::min(insert_at, lines.size())),
                 line{'c', render_connection(*connection)});
}

void sync_media_slot(media_description& media) {
    auto slot =
        std::find_if(media.lines.begin(), media.lines.end(), [](const line& l) { return l.type == 'm'; });
    std::string text = render_media_line(fields_of(media));
    if (slot != media.lines.end()) {
        slot->value = std::move(text);
    } else {
        media.lines.insert(media.lines.begin(), line{'m', std::move(text)});
    }
}

void sync_origin_slot(session_description& description) {
    auto& lines = description.lines;
    auto slot = std::find_if(lines.begin(), lines.end(), [](const line& l) { return l.type == 'o'; });
    std::string text = render_origin(description.origin);
    if (slot != lines.end()) {
        slot->value = std::move(text);
        return;
    }
    const bool starts_with_version = !lines.empty() && lines.front().type == 'v';
    lines.insert(lines.begin() + (starts_with_version ? 1 : 0), line{'o', std::move(text)});
}

// Replaces every line that `matches` by one a=`replacement` at the first
// one's place (appended when there was none), or just removes them.
void replace_attributes(std::vector<line>& lines, const auto& matches,
                        std::optional<std::string> replacement) {
    std::size_t first = lines.size();
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (matches(lines[i])) {
            first = i;
            break;
        }
    }
    std::erase_if(lines, matches);
    if (replacement) {
        lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(std::min(first, lines.size())),
                     line{'a', std::move(*replacement)});
    }
}

bool is_direction_attribute(const line& l) {
    if (l.type != 'a') {
        return false;
    }
    const std::string_view name = l.attribute_name();
    return name == "sendrecv" || name == "sendonly" || name == "recvonly" || name == "inactive";
}

status media_index_error(const session_description& description, std::size_t media_index) {
    return make_error("media index " + std::to_string(media_index) + " out of range (" +
                      std::to_string(description.media.size()) + " media sections)");
}

status check_address(address_family family, std::string_view address) {
    if (!is_ip_literal(family, address)) {
        return make_error("address " + quote(address) + " is not an " +
                          (family == address_family::ip4 ? "IPv4" : "IPv6") + " address");
    }
    return {};
}

// ---- formatting ------------------------------------------------------------------

void append_line(std::string& out, char type, std::string_view value) {
    out += type;
    out += '=';
    out += value;
    out += "\r\n";
}

void format_session(const session_description& description, std::string& out) {
    const auto& lines = description.lines;
    const bool has_origin_slot =
        std::any_of(lines.begin(), lines.end(), [](const line& l) { return l.type == 'o'; });
    const bool has_connection_slot =
        std::any_of(lines.begin(), lines.end(), [](const line& l) { return l.type == 'c'; });
    const std::size_t connection_at = has_connection_slot ? lines.size() : session_connection_position(lines);
    bool origin_done = false;
    bool connection_done = false;
    const auto emit_origin = [&](std::string_view original) {
        append_line(out, 'o', slot_text(original, description.origin, parse_origin, render_origin));
        origin_done = true;
    };
    const auto emit_connection = [&](std::string_view original) {
        if (description.connection) {
            append_line(out, 'c',
                        slot_text(original, *description.connection, parse_connection, render_connection));
        }
        connection_done = true;
    };
    if (!has_origin_slot && (lines.empty() || lines.front().type != 'v')) {
        emit_origin({});
    }
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const line& l = lines[i];
        if (i == connection_at) {
            emit_connection({});
        }
        if (l.type == 'o') {
            if (!origin_done) {
                emit_origin(l.value);
            }
        } else if (l.type == 'c') {
            if (!connection_done) {
                emit_connection(l.value);
            }
        } else if (l.type != 'm') {
            append_line(out, l.type, l.value);
        }
        if (i == 0 && l.type == 'v' && !has_origin_slot) {
            emit_origin({});
        }
    }
    if (!connection_done) {
        emit_connection({});
    }
}

void format_media(const media_description& media, std::string& out) {
    const auto& lines = media.lines;
    const auto media_slot =
        std::find_if(lines.begin(), lines.end(), [](const line& l) { return l.type == 'm'; });
    const std::string_view original = media_slot != lines.end() ? std::string_view(media_slot->value) : "";
    append_line(out, 'm', slot_text(original, fields_of(media), parse_media_line, render_media_line));

    const bool has_connection_slot =
        std::any_of(lines.begin(), lines.end(), [](const line& l) { return l.type == 'c'; });
    const std::size_t connection_at = has_connection_slot ? lines.size() : media_connection_position(lines);
    bool connection_done = false;
    const auto emit_connection = [&](std::string_view text) {
        if (media.connection) {
            append_line(out, 'c', slot_text(text, *media.connection, parse_connection, render_connection));
        }
        connection_done = true;
    };
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const line& l = lines[i];
        if (i == connection_at) {
            emit_connection({});
        }
        if (l.type == 'c') {
            if (!connection_done) {
                emit_connection(l.value);
            }
        } else if (l.type != 'm') {
            append_line(out, l.type, l.value);
        }
    }
    if (!connection_done) {
        emit_connection({});
    }
}

struct static_entry {
    std::uint8_t payload_type;
    std::string_view name;
    std::uint32_t clock_rate_hz;
    std::uint16_t channels;
};

// RFC 3551 tables 4 and 5.
constexpr std::array<static_entry, 24> static_table{{
    {0, "PCMU", 8000, 1},   {3, "GSM", 8000, 1},    {4, "G723", 8000, 1},   {5, "DVI4", 8000, 1},
    {6, "DVI4", 16000, 1},  {7, "LPC", 8000, 1},    {8, "PCMA", 8000, 1},   {9, "G722", 8000, 1},
    {10, "L16", 44100, 2},  {11, "L16", 44100, 1},  {12, "QCELP", 8000, 1}, {13, "CN", 8000, 1},
    {14, "MPA", 90000, 1},  {15, "G728", 8000, 1},  {16, "DVI4", 11025, 1}, {17, "DVI4", 22050, 1},
    {18, "G729", 8000, 1},  {25, "CelB", 90000, 1}, {26, "JPEG", 90000, 1}, {28, "nv", 90000, 1},
    {31, "H261", 90000, 1}, {32, "MPV", 90000, 1},  {33, "MP2T", 90000, 1}, {34, "H263", 90000, 1},
}};

// "PCMU/8000[/2]" of an rtpmap into `out`; false when malformed.
bool parse_encoding(std::string_view text, codec& out) {
    const std::size_t first = text.find('/');
    if (first == std::string_view::npos || first == 0) {
        return false;
    }
    const std::string_view rest = text.substr(first + 1);
    const std::size_t second = rest.find('/');
    const auto rate = parse_uint(rest.substr(0, second), 0xffffffffu);
    if (!rate) {
        return false;
    }
    std::uint16_t channels = 1;
    if (second != std::string_view::npos) {
        const auto parsed = parse_uint(rest.substr(second + 1), 65535);
        if (!parsed || *parsed == 0) {
            return false;
        }
        channels = static_cast<std::uint16_t>(*parsed);
    }
    out.encoding_name = std::string(text.substr(0, first));
    out.clock_rate_hz = *rate;
    out.channels = channels;
    return true;
}

}  // namespace

// ---- line ------------------------------------------------------------------------

std::string_view line::attribute_name() const {
    if (type != 'a') {
        return {};
    }
    const std::string_view text(value);
    return text.substr(0, text.find(':'));
}

std::string_view line::attribute_value() const {
    if (type != 'a') {
        return {};
    }
    const std::string_view text(value);
    const std::size_t colon = text.find(':');
    return colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
}

bool line::is_attribute(std::string_view name) const {
    return type == 'a' && attribute_name() == name;
}

// ---- parse -----------------------------------------------------------------------

result<session_description> parse(std::string_view text, const parse_limits& limits) {
    if (text.size() > limits.max_size_bytes) {
        return make_error("SDP is " + std::to_string(text.size()) + " bytes, limit " +
                          std::to_string(limits.max_size_bytes));
    }
    session_description description;
    bool seen_version = false;
    bool seen_origin = false;
    bool seen_name = false;
    std::size_t line_number = 0;
    std::size_t first_blank_line = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t newline = text.find('\n', pos);
        const std::size_t end = newline == std::string_view::npos ? text.size() : newline;
        std::string_view raw = text.substr(pos, end - pos);
        pos = newline == std::string_view::npos ? text.size() : newline + 1;
        ++line_number;
        if (line_number > limits.max_lines) {
            return make_error("more than " + std::to_string(limits.max_lines) + " lines");
        }
        if (!raw.empty() && raw.back() == '\r') {
            raw.remove_suffix(1);
        }
        if (raw.empty()) {
            if (first_blank_line == 0) {
                first_blank_line = line_number;
            }
            continue;
        }
        if (first_blank_line != 0) {
            return make_error(at_line(first_blank_line, "empty line inside the session description"));
        }
        if (raw.size() > limits.max_line_length) {
            return make_error(at_line(line_number, std::to_string(raw.size()) + " bytes long, limit " +
                                                       std::to_string(limits.max_line_length)));
        }
        if (raw.find('\r') != std::string_view::npos) {
            return make_error(at_line(line_number, "stray carriage return (lines end in CRLF or LF)"));
        }
        if (raw.find('\0') != std::string_view::npos) {
            return make_error(at_line(line_number, "NUL byte"));
        }
        if (raw.size() < 2 || raw[1] != '=' || raw[0] < 'a' || raw[0] > 'z') {
            return make_error(at_line(line_number, "expected <letter>=<value>, got " + quote(raw)));
        }
        const char type = raw[0];
        const std::string_view value = raw.substr(2);
        if (!seen_version && type != 'v') {
            return make_error(at_line(line_number, "expected v=0 first, got " + quote(raw)));
        }
        const bool in_media = !description.media.empty();
        if (in_media && (type == 'v' || type == 'o' || type == 's')) {
            return make_error(at_line(line_number, std::string(1, type) + "= inside a media section"));
        }
        switch (type) {
            case 'v':
                if (seen_version) {
                    return make_error(at_line(line_number, "second v= line"));
                }
                if (trim(value) != "0") {
                    return make_error(at_line(line_number, "version " + quote(value) + " unsupported"));
                }
                seen_version = true;
                break;
            case 'o': {
                if (seen_origin) {
                    return make_error(at_line(line_number, "second o= line"));
                }
                auto origin = parse_origin(value);
                if (!origin) {
                    return make_error(at_line(line_number, origin.message()));
                }
                description.origin = std::move(origin.value());
                seen_origin = true;
                break;
            }
            case 's':
                if (seen_name) {
                    return make_error(at_line(line_number, "second s= line"));
                }
                seen_name = true;
                break;
            case 'c': {
                auto& target = in_media ? description.media.back().connection : description.connection;
                if (target) {
                    return make_error(at_line(line_number, in_media ? "second c= line in this media section"
                                                                    : "second session-level c= line"));
                }
                auto connection = parse_connection(value);
                if (!connection) {
                    return make_error(at_line(line_number, connection.message()));
                }
                target = std::move(connection.value());
                break;
            }
            case 'm': {
                if (description.media.size() >= limits.max_media) {
                    return make_error(at_line(
                        line_number, "more than " + std::to_string(limits.max_media) + " media sections"));
                }
                auto fields = parse_media_line(value);
                if (!fields) {
                    return make_error(at_line(line_number, fields.message()));
                }
                media_description media;
                media.media_type = std::move(fields->media_type);
                media.port = fields->port;
                media.port_count = fields->port_count;
                media.protocol = std::move(fields->protocol);
                media.formats = std::move(fields->formats);
                description.media.push_back(std::move(media));
                break;
            }
            case 'a':
                if (in_media && value.substr(0, value.find(':')) == "rtcp") {
                    const std::size_t colon = value.find(':');
                    auto attribute = parse_rtcp(colon == std::string_view::npos ? std::string_view{}
                                                                                : value.substr(colon + 1));
                    if (!attribute) {
                        return make_error(at_line(line_number, attribute.message()));
                    }
                }
                break;
            default:
                break;
        }
        auto& lines = description.media.empty() ? description.lines : description.media.back().lines;
        lines.push_back(line{type, std::string(value)});
    }
    if (!seen_version) {
        return make_error("empty session description (no v= line)");
    }
    if (!seen_origin) {
        return make_error("missing o= line");
    }
    if (!seen_name) {
        return make_error("missing s= line");
    }
    return description;
}

std::string format(const session_description& description) {
    std::size_t estimate = 0;
    for (const line& l : description.lines) {
        estimate += l.value.size() + 4;
    }
    for (const media_description& media : description.media) {
        for (const line& l : media.lines) {
            estimate += l.value.size() + 4;
        }
    }
    std::string out;
    out.reserve(estimate + 64);
    format_session(description, out);
    for (const media_description& media : description.media) {
        format_media(media, out);
    }
    return out;
}

// ---- protocol --------------------------------------------------------------------

transport_protocol classify_protocol(std::string_view protocol) {
    struct entry {
        std::string_view name;
        transport_protocol kind;
    };
    constexpr std::array<entry, 7> table{{
        {"RTP/AVP", transport_protocol::rtp_avp},
        {"RTP/AVPF", transport_protocol::rtp_avpf},
        {"RTP/SAVP", transport_protocol::rtp_savp},
        {"RTP/SAVPF", transport_protocol::rtp_savpf},
        {"UDP/TLS/RTP/SAVP", transport_protocol::udp_tls_rtp_savp},
        {"UDP/TLS/RTP/SAVPF", transport_protocol::udp_tls_rtp_savpf},
        {"udp", transport_protocol::udp},
    }};
    for (const entry& e : table) {
        if (iequals(protocol, e.name)) {
            return e.kind;
        }
    }
    return transport_protocol::other;
}

bool is_rtp(transport_protocol protocol) {
    return protocol != transport_protocol::udp && protocol != transport_protocol::other;
}

bool is_srtp(transport_protocol protocol) {
    return protocol == transport_protocol::rtp_savp || protocol == transport_protocol::rtp_savpf ||
           protocol == transport_protocol::udp_tls_rtp_savp ||
           protocol == transport_protocol::udp_tls_rtp_savpf;
}

// ---- attributes ------------------------------------------------------------------

std::optional<std::string_view> find_attribute(std::span<const line> lines, std::string_view name) {
    for (const line& l : lines) {
        if (l.is_attribute(name)) {
            return l.attribute_value();
        }
    }
    return std::nullopt;
}

std::vector<std::string_view> find_attributes(std::span<const line> lines, std::string_view name) {
    std::vector<std::string_view> values;
    for (const line& l : lines) {
        if (l.is_attribute(name)) {
            values.push_back(l.attribute_value());
        }
    }
    return values;
}

bool has_attribute(std::span<const line> lines, std::string_view name) {
    return find_attribute(lines, name).has_value();
}

std::optional<connection_field> effective_connection(const session_description& description,
                                                     std::size_t media_index) {
    if (media_index < description.media.size() && description.media[media_index].connection) {
        return description.media[media_index].connection;
    }
    return description.connection;
}

std::optional<rtcp_attribute> rtcp(const media_description& media) {
    const auto value = find_attribute(media.lines, "rtcp");
    if (!value) {
        return std::nullopt;
    }
    auto parsed = parse_rtcp(*value);
    if (!parsed) {
        return std::nullopt;
    }
    return std::move(parsed.value());
}

bool rtcp_mux(const media_description& media) {
    return has_attribute(media.lines, "rtcp-mux");
}

std::optional<std::uint32_t> ptime_ms(const media_description& media) {
    const auto value = find_attribute(media.lines, "ptime");
    if (!value) {
        return std::nullopt;
    }
    const std::string_view text = trim(*value);
    const std::size_t dot = text.find('.');
    if (dot != std::string_view::npos &&
        !std::all_of(text.begin() + static_cast<std::ptrdiff_t>(dot) + 1, text.end(),
                     [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    return parse_uint(text.substr(0, dot), 1000000);
}

std::optional<media_direction> direction_attribute(std::span<const line> lines) {
    for (const line& l : lines) {
        if (!is_direction_attribute(l)) {
            continue;
        }
        const std::string_view name = l.attribute_name();
        if (name == "sendonly") {
            return media_direction::sendonly;
        }
        if (name == "recvonly") {
            return media_direction::recvonly;
        }
        if (name == "inactive") {
            return media_direction::inactive;
        }
        return media_direction::sendrecv;
    }
    return std::nullopt;
}

media_direction direction(const session_description& description, std::size_t media_index) {
    if (media_index < description.media.size()) {
        if (auto own = direction_attribute(description.media[media_index].lines)) {
            return *own;
        }
    }
    return direction_attribute(description.lines).value_or(media_direction::sendrecv);
}

std::string_view to_string(media_direction value) {
    switch (value) {
        case media_direction::sendonly:
            return "sendonly";
        case media_direction::recvonly:
            return "recvonly";
        case media_direction::inactive:
            return "inactive";
        case media_direction::sendrecv:
            break;
    }
    return "sendrecv";
}

bool is_on_hold(const session_description& description, std::size_t media_index) {
    const media_direction effective = direction(description, media_index);
    if (effective == media_direction::sendonly || effective == media_direction::inactive) {
        return true;
    }
    const auto connection = effective_connection(description, media_index);
    return connection && connection->family == address_family::ip4 && connection->address == "0.0.0.0";
}

std::optional<codec> static_payload_type(std::uint8_t payload_type) {
    for (const static_entry& entry : static_table) {
        if (entry.payload_type == payload_type) {
            return codec{payload_type, std::string(entry.name), entry.clock_rate_hz, entry.channels, {}};
        }
    }
    return std::nullopt;
}

std::vector<codec> codecs(const media_description& media) {
    // One pass over the attributes, so the cost is lines + formats, not their product.
    std::array<std::string_view, 128> rtpmaps{};
    std::array<std::string_view, 128> fmtps{};
    std::array<bool, 128> has_rtpmap{};
    std::array<bool, 128> has_fmtp{};
    for (const line& l : media.lines) {
        if (l.type != 'a') {
            continue;
        }
        const std::string_view name = l.attribute_name();
        const bool is_rtpmap = name == "rtpmap";
        if (!is_rtpmap && name != "fmtp") {
            continue;
        }
        const auto [pt_text, rest] = split_first(l.attribute_value());
        const auto pt = parse_uint(pt_text, 127);
        if (!pt) {
            continue;
        }
        auto& seen = is_rtpmap ? has_rtpmap : has_fmtp;
        if (!seen[*pt]) {
            seen[*pt] = true;
            (is_rtpmap ? rtpmaps : fmtps)[*pt] = rest;
        }
    }
    std::vector<codec> list;
    for (const std::string& format : media.formats) {
        const auto pt = parse_uint(format, 127);
        if (!pt) {
            continue;
        }
        codec entry;
        entry.payload_type = static_cast<std::uint8_t>(*pt);
        if (!(has_rtpmap[*pt] && parse_encoding(rtpmaps[*pt], entry))) {
            if (auto known = static_payload_type(entry.payload_type)) {
                entry = std::move(*known);
            }
        }
        entry.fmtp = std::string(fmtps[*pt]);
        list.push_back(std::move(entry));
    }
    return list;
}

std::vector<crypto_attribute> crypto(const media_description& media) {
    std::vector<crypto_attribute> list;
    for (const std::string_view value : find_attributes(media.lines, "crypto")) {
        const std::vector<std::string_view> tokens = split_tokens(value);
        if (tokens.size() < 3) {
            continue;
        }
        const auto tag = parse_uint(tokens[0], 999999999);
        if (!tag) {
            continue;
        }
        crypto_attribute attribute;
        attribute.tag = *tag;
        attribute.suite = std::string(tokens[1]);
        attribute.key_params = std::string(tokens[2]);
        const std::size_t key_end =
            static_cast<std::size_t>(tokens[2].data() - value.data()) + tokens[2].size();
        attribute.session_params = std::string(trim(value.substr(key_end)));
        list.push_back(std::move(attribute));
    }
    return list;
}

std::vector<ice_candidate> candidates(const media_description& media) {
    std::vector<ice_candidate> list;
    for (const std::string_view value : find_attributes(media.lines, "candidate")) {
        const std::vector<std::string_view> tokens = split_tokens(value);
        if (tokens.size() < 8 || tokens[6] != "typ") {
            continue;
        }
        const auto component = parse_uint(tokens[1], 256);
        const auto priority = parse_uint(tokens[3], 0xffffffffu);
        const auto port = parse_uint(tokens[5], 65535);
        if (!component || !priority || !port) {
            continue;
        }
        ice_candidate candidate;
        candidate.foundation = std::string(tokens[0]);
        candidate.component = *component;
        candidate.transport = std::string(tokens[2]);
        candidate.priority = *priority;
        candidate.address = std::string(tokens[4]);
        candidate.port = static_cast<std::uint16_t>(*port);
        candidate.type = std::string(tokens[7]);
        const std::size_t type_end =
            static_cast<std::size_t>(tokens[7].data() - value.data()) + tokens[7].size();
        candidate.extensions = std::string(trim(value.substr(type_end)));
        list.push_back(std::move(candidate));
    }
    return list;
}

namespace {
std::optional<std::string_view> effective_attribute(const session_description& description,
                                                    std::size_t media_index, std::string_view name) {
    if (media_index < description.media.size()) {
        if (auto own = find_attribute(description.media[media_index].lines, name)) {
            return own;
        }
    }
    return find_attribute(description.lines, name);
}
}  // namespace

std::optional<std::string_view> ice_ufrag(const session_description& description, std::size_t media_index) {
    return effective_attribute(description, media_index, "ice-ufrag");
}

std::optional<std::string_view> ice_pwd(const session_description& description, std::size_t media_index) {
    return effective_attribute(description, media_index, "ice-pwd");
}

// ---- rewriting -------------------------------------------------------------------

bool is_ip_literal(address_family family, std::string_view text) {
    char buffer[INET6_ADDRSTRLEN + 1];
    if (text.empty() || text.size() >= sizeof(buffer)) {
        return false;
    }
    std::memcpy(buffer, text.data(), text.size());
    buffer[text.size()] = '\0';
    if (family == address_family::ip4) {
        in_addr address4{};
        return inet_pton(AF_INET, buffer, &address4) == 1;
    }
    in6_addr address6{};
    return inet_pton(AF_INET6, buffer, &address6) == 1;
}

status set_connection(session_description& description, std::size_t media_index, address_family family,
                      std::string_view address) {
    if (auto checked = check_address(family, address); !checked) {
        return checked;
    }
    const connection_field connection{family, std::string(address), {}};
    const auto set_media = [&](media_description& media) {
        media.connection = connection;
        sync_connection_slot(media.lines, media.connection, media_connection_position(media.lines));
    };
    if (media_index != all_media) {
        if (media_index >= description.media.size()) {
            return media_index_error(description, media_index);
        }
        set_media(description.media[media_index]);
        return {};
    }
    if (description.connection) {
        description.connection = connection;
        sync_connection_slot(description.lines, description.connection,
                             session_connection_position(description.lines));
    }
    for (media_description& media : description.media) {
        if (media.connection || !description.connection) {
            set_media(media);
        }
    }
    return {};
}

void set_media_port(media_description& media, std::uint16_t port) {
    media.port = port;
    sync_media_slot(media);
}

status set_rtcp(media_description& media, const std::optional<rtcp_attribute>& attribute) {
    if (attribute && attribute->connection) {
        if (auto checked = check_address(attribute->connection->family, attribute->connection->address);
            !checked) {
            return checked;
        }
    }
    std::optional<std::string> text;
    if (attribute) {
        rtcp_attribute clean = *attribute;
        if (clean.connection) {
            clean.connection->multicast_suffix.clear();
        }
        text = render_rtcp(clean);
    }
    replace_attributes(
        media.lines, [](const line& l) { return l.is_attribute("rtcp"); }, std::move(text));
    return {};
}

void set_rtcp_mux(media_description& media, bool enabled) {
    if (enabled) {
        if (!rtcp_mux(media)) {
            media.lines.push_back(line{'a', "rtcp-mux"});
        }
        return;
    }
    std::erase_if(media.lines, [](const line& l) { return l.is_attribute("rtcp-mux"); });
}

void remove_ice(session_description& description) {
    const auto is_ice = [](const line& l) {
        if (l.type != 'a') {
            return false;
        }
        constexpr std::array<std::string_view, 9> names{
            "candidate",    "ice-ufrag",  "ice-pwd",           "ice-options",      "ice-lite",
            "ice-mismatch", "ice-pacing", "remote-candidates", "end-of-candidates"};
        const std::string_view name = l.attribute_name();
        return std::find(names.begin(), names.end(), name) != names.end();
    };
    std::erase_if(description.lines, is_ice);
    for (media_description& media : description.media) {
        std::erase_if(media.lines, is_ice);
    }
}

status set_origin_address(session_description& description, address_family family, std::string_view address) {
    if (auto checked = check_address(family, address); !checked) {
        return checked;
    }
    description.origin.address_type = std::string(family_name(family));
    description.origin.address = std::string(address);
    sync_origin_slot(description);
    return {};
}

void bump_origin_version(session_description& description) {
    std::string& version = description.origin.session_version;
    if (!all_digits(version)) {
        return;
    }
    std::size_t i = version.size();
    while (i > 0) {
        --i;
        if (version[i] != '9') {
            ++version[i];
            sync_origin_slot(description);
            return;
        }
        version[i] = '0';
    }
    version.insert(version.begin(), '1');
    sync_origin_slot(description);
}

status set_direction(session_description& description, std::size_t media_index, media_direction wanted) {
    const auto set_media = [&](media_description& media) {
        replace_attributes(media.lines, is_direction_attribute, std::string(to_string(wanted)));
    };
    if (media_index != all_media) {
        if (media_index >= description.media.size()) {
            return media_index_error(description, media_index);
        }
        set_media(description.media[media_index]);
        return {};
    }
    std::erase_if(description.lines, is_direction_attribute);
    for (media_description& media : description.media) {
        set_media(media);
    }
    return {};
}

}  // namespace tandem::sdp
