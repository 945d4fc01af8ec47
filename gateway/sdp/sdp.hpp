#pragma once
// SDP (RFC 8866, formerly 4566): a session description as a value, a total
// parser and a formatter that preserves what it does not change.
//
// parse() never throws and never crashes: it bounds the size, the line count,
// the line length and the number of media sections, and rejects malformed
// input with "line N: what is wrong". It keeps every line, in order, so
// attributes it does not understand come out of format() byte for byte; a
// CRLF input formats back to the identical bytes, an LF input comes back with
// CRLF. The o=, c= and m= lines are parsed into fields (the relay rewrites
// them); format() renders such a line from its fields only when the fields no
// longer match the line's original text, so an untouched line keeps its
// spelling. Attributes stay text in `lines` and are read through the accessor
// functions below; the rewrite helpers edit that text. Fields written
// directly must hold valid SDP tokens (no spaces, no line ends); the helpers
// validate what they write.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/result.hpp"

namespace tandem::sdp {

enum class address_family { ip4, ip6 };

// One "<type>=<value>" line; value excludes the line end.
struct line {
    char type = 0;
    std::string value;

    // For a= lines: "rtpmap" in "a=rtpmap:0 PCMU/8000", "sendonly" in "a=sendonly".
    [[nodiscard]] std::string_view attribute_name() const;
    // Text after the first ':'; empty for a flag attribute.
    [[nodiscard]] std::string_view attribute_value() const;
    [[nodiscard]] bool is_attribute(std::string_view name) const;

    friend bool operator==(const line&, const line&) = default;
};

// o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>
struct origin_field {
    std::string username;
    std::string session_id;
    std::string session_version;
    std::string network_type = "IN";
    std::string address_type = "IP4";  // kept as text: o= is informational, phones put odd things here
    std::string address;

    friend bool operator==(const origin_field&, const origin_field&) = default;
};

// c=IN <IP4|IP6> <address>[/ttl[/count]]
struct connection_field {
    address_family family = address_family::ip4;
    std::string address;           // an IP literal or, as RFC 8866 allows, a host name
    std::string multicast_suffix;  // "/127/3" of a multicast address, usually empty

    friend bool operator==(const connection_field&, const connection_field&) = default;
};

enum class media_direction { sendrecv, sendonly, recvonly, inactive };

// One m= section. lines[0] is the m= line itself; its text is rendered from
// the fields below when they change. A line of type 'c' in `lines` stands for
// `connection`.
struct media_description {
    std::string media_type;                   // audio, video, image, application, ...
    std::uint16_t port = 0;                   // 0: the stream is disabled / rejected
    std::optional<std::uint16_t> port_count;  // "49170/2" -> 2; absent when not written
    std::string protocol;                     // RTP/AVP, RTP/SAVPF, UDP/TLS/RTP/SAVPF, udptl, ...
    std::vector<std::string> formats;         // payload types for RTP, tokens otherwise
    std::optional<connection_field> connection;
    std::vector<line> lines;

    friend bool operator==(const media_description&, const media_description&) = default;
};

// Session-level lines in `lines` (v=, o=, s=, ..., a=); the o= and c= lines
// there stand for `origin` and `connection`.
struct session_description {
    origin_field origin;
    std::optional<connection_field> connection;
    std::vector<line> lines;
    std::vector<media_description> media;

    friend bool operator==(const session_description&, const session_description&) = default;
};

struct parse_limits {
    std::size_t max_size_bytes = 64 * 1024;
    std::size_t max_lines = 4096;
    std::size_t max_line_length = 4096;  // bytes, without the line end
    std::size_t max_media = 64;
};

// Accepts CRLF or LF line ends (mixed too) and trailing empty lines (dropped).
// Requires v=0 first, exactly one o= and one s= at session level, at most one
// c= per level, m= lines of at least 4 fields with ports 0..65535, and a
// well-formed a=rtcp in media sections. Order among the other session lines
// is not checked: real phones are sloppy about it.
result<session_description> parse(std::string_view text, const parse_limits& limits = {});

// CRLF line ends; the unmodified result of parse() of a CRLF input formats to
// that input exactly.
std::string format(const session_description& description);

// ---- transport protocol ------------------------------------------------

enum class transport_protocol {
    rtp_avp,
    rtp_avpf,
    rtp_savp,
    rtp_savpf,
    udp_tls_rtp_savp,
    udp_tls_rtp_savpf,
    udp,
    other,  // udptl, UDP/DTLS/SCTP, TCP/MRCPv2, ...
};

// Case-insensitive, as RFC 8866 says protocol names are.
transport_protocol classify_protocol(std::string_view protocol);
[[nodiscard]] bool is_rtp(transport_protocol protocol);
[[nodiscard]] bool is_srtp(transport_protocol protocol);  // SAVP/SAVPF in any transport

// ---- attributes ----------------------------------------------------------

// Value of the first a=<name>[:value] among `lines` (empty for a flag). The
// views returned here and below point into the description: they live until
// it is next modified.
std::optional<std::string_view> find_attribute(std::span<const line> lines, std::string_view name);
std::vector<std::string_view> find_attributes(std::span<const line> lines, std::string_view name);
[[nodiscard]] bool has_attribute(std::span<const line> lines, std::string_view name);

// The address of media `media_index`: its own c=, else the session c=.
std::optional<connection_field> effective_connection(const session_description& description,
                                                     std::size_t media_index);

// a=rtcp:<port> [IN <IP4|IP6> <address>] (RFC 3605).
struct rtcp_attribute {
    std::uint16_t port = 0;
    std::optional<connection_field> connection;

    friend bool operator==(const rtcp_attribute&, const rtcp_attribute&) = default;
};
std::optional<rtcp_attribute> rtcp(const media_description& media);
[[nodiscard]] bool rtcp_mux(const media_description& media);

// a=ptime in whole milliseconds ("20", also the sloppy "20.0").
std::optional<std::uint32_t> ptime_ms(const media_description& media);

// Direction attribute written at one level; nullopt when none is.
std::optional<media_direction> direction_attribute(std::span<const line> lines);
// Effective direction: the media's own attribute, else the session's, else
// sendrecv. An out-of-range index gives the session-level direction.
media_direction direction(const session_description& description, std::size_t media_index);
std::string_view to_string(media_direction value);
// On hold as phones signal it: sendonly/inactive, or the RFC 2543 style
// connection address 0.0.0.0.
[[nodiscard]] bool is_on_hold(const session_description& description, std::size_t media_index);

// A payload type of the m= line: from its a=rtpmap, else from the static
// table of RFC 3551 (0 PCMU, 3 GSM, 8 PCMA, 9 G722, 13 CN, 18 G729, ...).
// An unknown dynamic type has an empty encoding_name and clock_rate_hz 0.
struct codec {
    std::uint8_t payload_type = 0;
    std::string encoding_name;
    std::uint32_t clock_rate_hz = 0;
    std::uint16_t channels = 1;
    std::string fmtp;  // a=fmtp parameters, empty when none

    friend bool operator==(const codec&, const codec&) = default;
};
// One entry per numeric format (0..127) in m= order; other formats skipped.
std::vector<codec> codecs(const media_description& media);
std::optional<codec> static_payload_type(std::uint8_t payload_type);

// a=crypto:<tag> <suite> <key-params> [<session-params>] (RFC 4568).
struct crypto_attribute {
    std::uint32_t tag = 0;
    std::string suite;
    std::string key_params;
    std::string session_params;

    friend bool operator==(const crypto_attribute&, const crypto_attribute&) = default;
};
std::vector<crypto_attribute> crypto(const media_description& media);  // malformed ones skipped

// a=candidate (RFC 8839); malformed candidates are skipped.
struct ice_candidate {
    std::string foundation;
    std::uint32_t component = 0;
    std::string transport;
    std::uint32_t priority = 0;
    std::string address;
    std::uint16_t port = 0;
    std::string type;        // host, srflx, prflx, relay
    std::string extensions;  // "raddr ... rport ... generation 0", unparsed

    friend bool operator==(const ice_candidate&, const ice_candidate&) = default;
};
std::vector<ice_candidate> candidates(const media_description& media);
// Effective ICE credentials: media level, else session level.
std::optional<std::string_view> ice_ufrag(const session_description& description, std::size_t media_index);
std::optional<std::string_view> ice_pwd(const session_description& description, std::size_t media_index);

// ---- rewriting -----------------------------------------------------------

inline constexpr std::size_t all_media = static_cast<std::size_t>(-1);

// With all_media: rewrites the session c= and every media c= that exists,
// and adds a media c= to each section without one when there is no session
// c=. With an index: rewrites (or adds) that section's c=. The address must
// be an IP literal of the given family.
status set_connection(session_description& description, std::size_t media_index, address_family family,
                      std::string_view address);

void set_media_port(media_description& media, std::uint16_t port);

// Replaces every a=rtcp of the section with the given one, or removes them
// when `attribute` is nullopt. A given address must be an IP literal.
status set_rtcp(media_description& media, const std::optional<rtcp_attribute>& attribute);
void set_rtcp_mux(media_description& media, bool enabled);

// Drops candidate, ice-ufrag, ice-pwd, ice-options, ice-lite, ice-mismatch,
// ice-pacing, remote-candidates and end-of-candidates at both levels.
void remove_ice(session_description& description);

// For ng's replace-origin flag. The address must be an IP literal.
status set_origin_address(session_description& description, address_family family, std::string_view address);
// Increments a decimal sess-version of any length (RFC 8866 wants it bumped
// on every change); a non-numeric version is left as it is.
void bump_origin_version(session_description& description);

// Writes the direction at media level (replacing any there). With all_media,
// writes it into every section and drops the session-level one.
status set_direction(session_description& description, std::size_t media_index, media_direction wanted);

// Whether `text` is a valid IP literal of `family` (no brackets, no zone).
[[nodiscard]] bool is_ip_literal(address_family family, std::string_view text);

}  // namespace tandem::sdp
