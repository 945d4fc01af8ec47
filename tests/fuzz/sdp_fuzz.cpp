// SDP harness: any input either fails to parse or parses to a description
// that formats to text which parses back to the same value and formats to
// the same bytes. Then the relay's rewrites run on it, and their output must
// parse too: a rewrite never produces SDP the parser itself would refuse.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/sdp/sdp.hpp"

namespace {

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace sdp = tandem::sdp;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    auto parsed = sdp::parse(input);
    if (!parsed) {
        return 0;
    }
    sdp::session_description description = std::move(parsed.value());
    const std::string text = sdp::format(description);
    auto again = sdp::parse(text);
    require(again.ok());
    require(again.value() == description);
    require(sdp::format(again.value()) == text);

    // Accessors on whatever was accepted.
    for (std::size_t i = 0; i < description.media.size(); ++i) {
        (void)sdp::codecs(description.media[i]);
        (void)sdp::candidates(description.media[i]);
        (void)sdp::crypto(description.media[i]);
        (void)sdp::rtcp(description.media[i]);
        (void)sdp::ptime_ms(description.media[i]);
        (void)sdp::is_on_hold(description, i);
        (void)sdp::ice_ufrag(description, i);
    }

    // The relay's rewrites: the result must still parse (with room for the
    // lines a rewrite adds) and survive another round trip unchanged.
    require(sdp::set_connection(description, sdp::all_media, sdp::address_family::ip4, "192.0.2.1").ok());
    require(sdp::set_origin_address(description, sdp::address_family::ip6, "2001:db8::1").ok());
    sdp::bump_origin_version(description);
    sdp::remove_ice(description);
    require(sdp::set_direction(description, sdp::all_media, sdp::media_direction::sendonly).ok());
    for (std::size_t i = 0; i < description.media.size(); ++i) {
        auto& media = description.media[i];
        sdp::set_media_port(media, static_cast<std::uint16_t>(30000 + 2 * i));
        require(sdp::set_rtcp(media, sdp::rtcp_attribute{static_cast<std::uint16_t>(30001 + 2 * i),
                                                         sdp::connection_field{sdp::address_family::ip4,
                                                                               "192.0.2.1", ""}})
                    .ok());
        sdp::set_rtcp_mux(media, i % 2 == 0);
    }
    sdp::parse_limits roomy;
    roomy.max_size_bytes = 4 * 64 * 1024;
    roomy.max_lines = 4 * 4096;
    roomy.max_line_length = 2 * 4096;
    const std::string rewritten = sdp::format(description);
    auto reparsed = sdp::parse(rewritten, roomy);
    require(reparsed.ok());
    require(reparsed.value() == description);
    require(sdp::format(reparsed.value()) == rewritten);
    for (std::size_t i = 0; i < description.media.size(); ++i) {
        require(sdp::direction(reparsed.value(), i) == sdp::media_direction::sendonly);
        require(sdp::effective_connection(reparsed.value(), i)->address == "192.0.2.1");
    }
    return 0;
}
