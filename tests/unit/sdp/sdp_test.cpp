#include "gateway/sdp/sdp.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace tandem::sdp {
namespace {

// The descriptions below are written with LF for readability; crlf() turns
// them into what goes on the wire.
std::string crlf(std::string_view lf_text) {
    std::string out;
    out.reserve(lf_text.size() + lf_text.size() / 16);
    for (const char c : lf_text) {
        if (c == '\n') {
            out += '\r';
        }
        out += c;
    }
    return out;
}

session_description parse_ok(std::string_view text) {
    auto parsed = parse(text);
    EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.message());
    return parsed.ok() ? parsed.value() : session_description{};
}

std::string parse_error(std::string_view text, const parse_limits& limits = {}) {
    auto parsed = parse(text, limits);
    EXPECT_FALSE(parsed.ok());
    return parsed.ok() ? std::string() : parsed.message();
}

// A Yealink desk phone's INVITE offer as Kamailio forwards it.
constexpr std::string_view yealink_offer = R"(v=0
o=- 20041 20041 IN IP4 192.0.2.105
s=SDP data
c=IN IP4 192.0.2.105
t=0 0
m=audio 11800 RTP/AVP 0 8 18 9 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=rtpmap:9 G722/8000
a=fmtp:101 0-15
a=rtpmap:101 telephone-event/8000
a=ptime:20
a=sendrecv
)";

// Polycom style: session-level direction, no rtpmap for static types.
constexpr std::string_view polycom_offer = R"(v=0
o=- 1706262043 1706262043 IN IP4 192.0.2.45
s=Polycom IP Phone
c=IN IP4 192.0.2.45
t=0 0
a=sendrecv
m=audio 2226 RTP/AVP 9 0 8 18 127
a=rtpmap:127 telephone-event/8000
a=ptime:20
)";

constexpr std::string_view asterisk_offer = R"(v=0
o=- 1528839410 1528839410 IN IP4 198.51.100.10
s=Asterisk
c=IN IP4 198.51.100.10
t=0 0
m=audio 14914 RTP/AVP 0 8 3 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:3 GSM/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=maxptime:150
a=sendrecv
)";

constexpr std::string_view freeswitch_offer = R"(v=0
o=FreeSWITCH 1706254000 1706254001 IN IP4 203.0.113.5
s=FreeSWITCH
c=IN IP4 203.0.113.5
t=0 0
m=audio 16384 RTP/AVP 102 9 0 8 3 104 103 101 13
a=rtpmap:102 opus/48000/2
a=fmtp:102 useinbandfec=1; maxaveragebitrate=30000; maxplaybackrate=48000; ptime=20; minptime=10; maxptime=40
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:3 GSM/8000
a=rtpmap:104 iLBC/8000
a=fmtp:104 mode=30
a=rtpmap:103 AMR-WB/16000
a=fmtp:103 octet-align=1
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=rtpmap:13 CN/8000
a=ptime:20
a=sendrecv
a=rtcp:16385 IN IP4 203.0.113.5
)";

constexpr std::string_view webrtc_offer = R"(v=0
o=- 4611731400430051336 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
a=extmap-allow-mixed
a=msid-semantic: WMS stream1
a=ice-options:trickle
m=audio 50472 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
c=IN IP4 203.0.113.77
a=rtcp:9 IN IP4 0.0.0.0
a=candidate:1467250027 1 udp 2122260223 192.168.0.196 50472 typ host generation 0 network-id 1
a=candidate:2799855683 1 udp 1686052607 203.0.113.77 50472 typ srflx raddr 192.168.0.196 rport 50472 generation 0
a=candidate:435653019 1 tcp 1518280447 192.168.0.196 9 typ host tcptype active generation 0
a=ice-ufrag:Fz7q
a=ice-pwd:Nw2xVbGqv9yz1JxXoSdKq3zr
a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3B:9D:70:17:B8:CC:54:E2:2F:8C:9A:3B
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=sendrecv
a=msid:stream1 track-audio
a=rtcp-mux
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=rtpmap:63 red/48000/2
a=fmtp:63 111/111
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:13 CN/8000
a=rtpmap:110 telephone-event/48000
a=rtpmap:126 telephone-event/8000
a=ssrc:3735928559 cname:c2lWbmQ5MFBtdWlz
a=end-of-candidates
m=video 50474 UDP/TLS/RTP/SAVPF 96 97
c=IN IP4 203.0.113.77
a=rtcp:9 IN IP4 0.0.0.0
a=candidate:1467250027 1 udp 2122260223 192.168.0.196 50474 typ host generation 0 network-id 1
a=ice-ufrag:Fz7q
a=ice-pwd:Nw2xVbGqv9yz1JxXoSdKq3zr
a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3B:9D:70:17:B8:CC:54:E2:2F:8C:9A:3B
a=setup:actpass
a=mid:1
a=sendrecv
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
)";

// SDES-SRTP from a desk phone on TLS: two crypto suites per stream, video too.
constexpr std::string_view sdes_offer = R"(v=0
o=snom 1706270000 1706270000 IN IP4 192.0.2.60
s=call
c=IN IP4 192.0.2.60
t=0 0
m=audio 50010 RTP/SAVP 8 0 101
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:32
a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=sendrecv
m=video 50012 RTP/SAVP 99
b=AS:512
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^31 KDR=1 UNENCRYPTED_SRTCP
a=rtpmap:99 H264/90000
a=fmtp:99 profile-level-id=42801F; packetization-mode=1
a=sendrecv
)";

constexpr std::string_view ipv6_offer = R"(v=0
o=- 3912345678 3912345678 IN IP6 2001:db8::1
s=-
c=IN IP6 2001:db8::1
t=0 0
m=audio 40000 RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
)";

constexpr std::string_view hold_sendonly = R"(v=0
o=- 20041 20042 IN IP4 192.0.2.105
s=SDP data
c=IN IP4 192.0.2.105
t=0 0
m=audio 11800 RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=sendonly
)";

// RFC 2543 hold, still sent by old gateways.
constexpr std::string_view hold_zero_address = R"(v=0
o=Cisco-SIPUA 12 13 IN IP4 192.0.2.200
s=SIP Call
c=IN IP4 0.0.0.0
t=0 0
m=audio 18000 RTP/AVP 18 101
a=rtpmap:18 G729/8000
a=rtpmap:101 telephone-event/8000
)";

// An answer that accepts audio and declines video with port 0.
constexpr std::string_view declined_video = R"(v=0
o=- 991 992 IN IP4 198.51.100.10
s=-
c=IN IP4 198.51.100.10
t=0 0
m=audio 30000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 0 RTP/AVP 96
)";

constexpr std::string_view port_count_offer = R"(v=0
o=alice 2890844526 2890844526 IN IP4 192.0.2.1
s=layered
c=IN IP4 192.0.2.1
t=0 0
m=audio 49170/2 RTP/AVP 0
)";

constexpr std::string_view t38_reinvite = R"(v=0
o=- 55 56 IN IP4 192.0.2.7
s=-
c=IN IP4 192.0.2.7
t=0 0
m=image 4000 udptl t38
a=T38FaxVersion:0
a=T38MaxBitRate:14400
a=T38FaxRateManagement:transferredTCF
a=T38FaxMaxDatagram:400
a=T38FaxUdpEC:t38UDPRedundancy
)";

// ---- parsing real descriptions ---------------------------------------------------

TEST(sdp_parse, yealink_offer_fields) {
    const auto sdp = parse_ok(crlf(yealink_offer));
    EXPECT_EQ(sdp.origin.username, "-");
    EXPECT_EQ(sdp.origin.session_id, "20041");
    EXPECT_EQ(sdp.origin.session_version, "20041");
    EXPECT_EQ(sdp.origin.network_type, "IN");
    EXPECT_EQ(sdp.origin.address_type, "IP4");
    EXPECT_EQ(sdp.origin.address, "192.0.2.105");
    ASSERT_TRUE(sdp.connection.has_value());
    EXPECT_EQ(sdp.connection->family, address_family::ip4);
    EXPECT_EQ(sdp.connection->address, "192.0.2.105");
    ASSERT_EQ(sdp.media.size(), 1u);
    const auto& audio = sdp.media[0];
    EXPECT_EQ(audio.media_type, "audio");
    EXPECT_EQ(audio.port, 11800);
    EXPECT_FALSE(audio.port_count.has_value());
    EXPECT_EQ(audio.protocol, "RTP/AVP");
    EXPECT_EQ(classify_protocol(audio.protocol), transport_protocol::rtp_avp);
    EXPECT_EQ(audio.formats, (std::vector<std::string>{"0", "8", "18", "9", "101"}));
    EXPECT_FALSE(audio.connection.has_value());
    EXPECT_EQ(effective_connection(sdp, 0)->address, "192.0.2.105");
    EXPECT_EQ(ptime_ms(audio), 20u);
    EXPECT_EQ(direction(sdp, 0), media_direction::sendrecv);
    EXPECT_FALSE(rtcp(audio).has_value());
    EXPECT_FALSE(rtcp_mux(audio));

    const auto list = codecs(audio);
    ASSERT_EQ(list.size(), 5u);
    EXPECT_EQ(list[0], (codec{0, "PCMU", 8000, 1, ""}));
    EXPECT_EQ(list[2], (codec{18, "G729", 8000, 1, "annexb=no"}));
    EXPECT_EQ(list[3], (codec{9, "G722", 8000, 1, ""}));
    EXPECT_EQ(list[4], (codec{101, "telephone-event", 8000, 1, "0-15"}));
}

TEST(sdp_parse, polycom_static_types_and_session_direction) {
    const auto sdp = parse_ok(crlf(polycom_offer));
    ASSERT_EQ(sdp.media.size(), 1u);
    const auto list = codecs(sdp.media[0]);
    ASSERT_EQ(list.size(), 5u);
    EXPECT_EQ(list[0].encoding_name, "G722");
    EXPECT_EQ(list[1].encoding_name, "PCMU");
    EXPECT_EQ(list[2].encoding_name, "PCMA");
    EXPECT_EQ(list[3].encoding_name, "G729");
    EXPECT_EQ(list[4].encoding_name, "telephone-event");
    EXPECT_EQ(direction_attribute(sdp.lines), media_direction::sendrecv);
    EXPECT_FALSE(direction_attribute(sdp.media[0].lines).has_value());
    EXPECT_EQ(direction(sdp, 0), media_direction::sendrecv);
}

TEST(sdp_parse, asterisk_offer) {
    const auto sdp = parse_ok(crlf(asterisk_offer));
    ASSERT_EQ(sdp.media.size(), 1u);
    EXPECT_EQ(find_attribute(sdp.media[0].lines, "maxptime"), "150");
    const auto list = codecs(sdp.media[0]);
    ASSERT_EQ(list.size(), 4u);
    EXPECT_EQ(list[2], (codec{3, "GSM", 8000, 1, ""}));
    EXPECT_EQ(list[3].fmtp, "0-16");
}

TEST(sdp_parse, freeswitch_many_codecs_and_rtcp) {
    const auto sdp = parse_ok(crlf(freeswitch_offer));
    EXPECT_EQ(sdp.origin.username, "FreeSWITCH");
    EXPECT_EQ(sdp.origin.session_version, "1706254001");
    const auto& audio = sdp.media[0];
    const auto list = codecs(audio);
    ASSERT_EQ(list.size(), 9u);
    EXPECT_EQ(list[0].encoding_name, "opus");
    EXPECT_EQ(list[0].clock_rate_hz, 48000u);
    EXPECT_EQ(list[0].channels, 2);
    EXPECT_EQ(
        list[0].fmtp,
        "useinbandfec=1; maxaveragebitrate=30000; maxplaybackrate=48000; ptime=20; minptime=10; maxptime=40");
    EXPECT_EQ(list[5], (codec{104, "iLBC", 8000, 1, "mode=30"}));
    EXPECT_EQ(list[6], (codec{103, "AMR-WB", 16000, 1, "octet-align=1"}));
    EXPECT_EQ(list[8], (codec{13, "CN", 8000, 1, ""}));
    const auto control = rtcp(audio);
    ASSERT_TRUE(control.has_value());
    EXPECT_EQ(control->port, 16385);
    ASSERT_TRUE(control->connection.has_value());
    EXPECT_EQ(control->connection->address, "203.0.113.5");
}

TEST(sdp_parse, webrtc_offer_ice_bundle_dtls) {
    const auto sdp = parse_ok(crlf(webrtc_offer));
    EXPECT_FALSE(sdp.connection.has_value());
    EXPECT_EQ(find_attribute(sdp.lines, "group"), "BUNDLE 0 1");
    EXPECT_EQ(find_attribute(sdp.lines, "ice-options"), "trickle");
    ASSERT_EQ(sdp.media.size(), 2u);
    const auto& audio = sdp.media[0];
    const auto& video = sdp.media[1];
    EXPECT_EQ(classify_protocol(audio.protocol), transport_protocol::udp_tls_rtp_savpf);
    EXPECT_TRUE(is_rtp(classify_protocol(audio.protocol)));
    EXPECT_TRUE(is_srtp(classify_protocol(audio.protocol)));
    EXPECT_EQ(video.media_type, "video");
    EXPECT_EQ(video.port, 50474);
    EXPECT_TRUE(rtcp_mux(audio));
    EXPECT_TRUE(rtcp_mux(video));
    EXPECT_EQ(rtcp(audio)->port, 9);
    EXPECT_EQ(rtcp(audio)->connection->address, "0.0.0.0");
    EXPECT_EQ(ice_ufrag(sdp, 0), "Fz7q");
    EXPECT_EQ(ice_pwd(sdp, 1), "Nw2xVbGqv9yz1JxXoSdKq3zr");
    EXPECT_EQ(effective_connection(sdp, 1)->address, "203.0.113.77");
    EXPECT_TRUE(has_attribute(audio.lines, "end-of-candidates"));
    EXPECT_EQ(find_attribute(audio.lines, "setup"), "actpass");
    EXPECT_EQ(find_attribute(audio.lines, "fingerprint")->substr(0, 8), "sha-256 ");

    const auto found = candidates(audio);
    ASSERT_EQ(found.size(), 3u);
    EXPECT_EQ(found[0].foundation, "1467250027");
    EXPECT_EQ(found[0].component, 1u);
    EXPECT_EQ(found[0].transport, "udp");
    EXPECT_EQ(found[0].priority, 2122260223u);
    EXPECT_EQ(found[0].address, "192.168.0.196");
    EXPECT_EQ(found[0].port, 50472);
    EXPECT_EQ(found[0].type, "host");
    EXPECT_EQ(found[0].extensions, "generation 0 network-id 1");
    EXPECT_EQ(found[1].type, "srflx");
    EXPECT_EQ(found[1].extensions, "raddr 192.168.0.196 rport 50472 generation 0");
    EXPECT_EQ(found[2].transport, "tcp");

    const auto list = codecs(audio);
    ASSERT_EQ(list.size(), 8u);
    EXPECT_EQ(list[0], (codec{111, "opus", 48000, 2, "minptime=10;useinbandfec=1"}));
    EXPECT_EQ(list[6], (codec{110, "telephone-event", 48000, 1, ""}));
    EXPECT_EQ(find_attributes(video.lines, "rtcp-fb"),
              (std::vector<std::string_view>{"96 nack", "96 nack pli"}));
}

TEST(sdp_parse, sdes_crypto_lines) {
    const auto sdp = parse_ok(crlf(sdes_offer));
    ASSERT_EQ(sdp.media.size(), 2u);
    EXPECT_EQ(classify_protocol(sdp.media[0].protocol), transport_protocol::rtp_savp);
    const auto audio_keys = crypto(sdp.media[0]);
    ASSERT_EQ(audio_keys.size(), 2u);
    EXPECT_EQ(audio_keys[0].tag, 1u);
    EXPECT_EQ(audio_keys[0].suite, "AES_CM_128_HMAC_SHA1_80");
    EXPECT_EQ(audio_keys[0].key_params, "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:32");
    EXPECT_EQ(audio_keys[0].session_params, "");
    EXPECT_EQ(audio_keys[1].suite, "AES_CM_128_HMAC_SHA1_32");
    const auto video_keys = crypto(sdp.media[1]);
    ASSERT_EQ(video_keys.size(), 1u);
    EXPECT_EQ(video_keys[0].session_params, "KDR=1 UNENCRYPTED_SRTCP");
    EXPECT_EQ(codecs(sdp.media[1])[0],
              (codec{99, "H264", 90000, 1, "profile-level-id=42801F; packetization-mode=1"}));
}

TEST(sdp_parse, ipv6_offer) {
    const auto sdp = parse_ok(crlf(ipv6_offer));
    EXPECT_EQ(sdp.origin.address_type, "IP6");
    EXPECT_EQ(sdp.origin.address, "2001:db8::1");
    ASSERT_TRUE(sdp.connection.has_value());
    EXPECT_EQ(sdp.connection->family, address_family::ip6);
    EXPECT_EQ(sdp.connection->address, "2001:db8::1");
    EXPECT_EQ(sdp.media[0].port, 40000);
}

TEST(sdp_parse, hold_with_sendonly) {
    const auto sdp = parse_ok(crlf(hold_sendonly));
    EXPECT_EQ(direction(sdp, 0), media_direction::sendonly);
    EXPECT_TRUE(is_on_hold(sdp, 0));
    EXPECT_FALSE(is_on_hold(parse_ok(crlf(yealink_offer)), 0));
}

TEST(sdp_parse, hold_with_zero_address) {
    const auto sdp = parse_ok(crlf(hold_zero_address));
    EXPECT_EQ(sdp.connection->address, "0.0.0.0");
    EXPECT_EQ(direction(sdp, 0), media_direction::sendrecv);
    EXPECT_TRUE(is_on_hold(sdp, 0));
}

TEST(sdp_parse, declined_stream_with_port_zero) {
    const auto sdp = parse_ok(crlf(declined_video));
    ASSERT_EQ(sdp.media.size(), 2u);
    EXPECT_EQ(sdp.media[1].port, 0);
    EXPECT_EQ(sdp.media[1].formats, (std::vector<std::string>{"96"}));
    EXPECT_EQ(sdp.media[1].lines.size(), 1u);  // only its m= line
    EXPECT_EQ(codecs(sdp.media[1])[0].encoding_name, "");
}

TEST(sdp_parse, port_count) {
    const auto sdp = parse_ok(crlf(port_count_offer));
    EXPECT_EQ(sdp.media[0].port, 49170);
    EXPECT_EQ(sdp.media[0].port_count, 2);
}

TEST(sdp_parse, t38_image_stream) {
    const auto sdp = parse_ok(crlf(t38_reinvite));
    EXPECT_EQ(sdp.media[0].media_type, "image");
    EXPECT_EQ(classify_protocol(sdp.media[0].protocol), transport_protocol::other);
    EXPECT_FALSE(is_rtp(classify_protocol(sdp.media[0].protocol)));
    EXPECT_TRUE(codecs(sdp.media[0]).empty());
    EXPECT_EQ(find_attribute(sdp.media[0].lines, "T38MaxBitRate"), "14400");
}

TEST(sdp_parse, sloppy_order_and_unknown_lines_are_kept) {
    // t= before c=, b= after t=, a z= and an unknown type letter, media-level
    // i= after c=: all accepted and kept in place.
    const std::string text = crlf(R"(v=0
o=- 1 1 IN IP4 192.0.2.9
s=-
t=0 0
c=IN IP4 192.0.2.9
b=CT:384
z=2882844526 -1h 2898848070 0
y=something-new
a=x-proprietary:keep me exactly   
m=audio 5004 RTP/AVP 0
c=IN IP4 192.0.2.10
i=main audio
a=X-nat:0
)");
    const auto sdp = parse_ok(text);
    EXPECT_EQ(sdp.lines.size(), 9u);
    EXPECT_EQ(sdp.lines[7], (line{'y', "something-new"}));
    EXPECT_EQ(find_attribute(sdp.lines, "x-proprietary"), "keep me exactly   ");
    EXPECT_EQ(effective_connection(sdp, 0)->address, "192.0.2.10");
    EXPECT_EQ(format(sdp), text);
}

TEST(sdp_parse, lf_line_ends_are_accepted_and_normalised) {
    const auto sdp = parse_ok(asterisk_offer);
    EXPECT_EQ(sdp.media[0].port, 14914);
    EXPECT_EQ(format(sdp), crlf(asterisk_offer));
}

TEST(sdp_parse, mixed_line_ends_and_missing_final_newline) {
    const std::string text = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\ns=-\r\nt=0 0\nm=audio 4000 RTP/AVP 0";
    const auto sdp = parse_ok(text);
    ASSERT_EQ(sdp.media.size(), 1u);
    EXPECT_EQ(format(sdp), "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n");
}

TEST(sdp_parse, trailing_empty_lines_are_dropped) {
    const std::string text = crlf(ipv6_offer) + "\r\n\r\n";
    EXPECT_EQ(format(parse_ok(text)), crlf(ipv6_offer));
}

TEST(sdp_parse, sloppy_spacing_keeps_its_spelling) {
    const std::string text = crlf(R"(v=0
o=Polycom  User 7 8 IN IP4 192.0.2.33
s=-
c=IN IP4  192.0.2.33
t=0 0
m=audio  6000 RTP/AVP 0  8 
)");
    const auto sdp = parse_ok(text);
    EXPECT_EQ(sdp.origin.username, "Polycom  User");
    EXPECT_EQ(sdp.origin.session_id, "7");
    EXPECT_EQ(sdp.connection->address, "192.0.2.33");
    EXPECT_EQ(sdp.media[0].port, 6000);
    EXPECT_EQ(sdp.media[0].formats, (std::vector<std::string>{"0", "8"}));
    EXPECT_EQ(format(sdp), text);
}

TEST(sdp_parse, multicast_connection_suffix) {
    const auto sdp = parse_ok(crlf(R"(v=0
o=- 1 1 IN IP4 192.0.2.1
s=-
c=IN IP4 233.252.0.1/127/3
t=0 0
m=audio 5004 RTP/AVP 0
)"));
    EXPECT_EQ(sdp.connection->address, "233.252.0.1");
    EXPECT_EQ(sdp.connection->multicast_suffix, "/127/3");
}

TEST(sdp_parse, ptime_with_fraction) {
    auto sdp = parse_ok(crlf(R"(v=0
o=- 1 1 IN IP4 192.0.2.1
s=-
t=0 0
m=audio 5004 RTP/AVP 0
a=ptime:30.0
)"));
    EXPECT_EQ(ptime_ms(sdp.media[0]), 30u);
    sdp.media[0].lines.back().value = "ptime:abc";
    EXPECT_FALSE(ptime_ms(sdp.media[0]).has_value());
}

// ---- round trip ------------------------------------------------------------------

TEST(sdp_format, round_trip_is_byte_identical) {
    for (const std::string_view text :
         {yealink_offer, polycom_offer, asterisk_offer, freeswitch_offer, webrtc_offer, sdes_offer,
          ipv6_offer, hold_sendonly, hold_zero_address, declined_video, port_count_offer, t38_reinvite}) {
        const std::string wire = crlf(text);
        const auto sdp = parse_ok(wire);
        EXPECT_EQ(format(sdp), wire);
        EXPECT_EQ(parse_ok(format(sdp)), sdp);
    }
}

TEST(sdp_format, direct_field_changes_render_the_line) {
    auto sdp = parse_ok(crlf(port_count_offer));
    sdp.media[0].port = 30000;
    sdp.media[0].port_count.reset();
    sdp.media[0].formats.push_back("101");
    sdp.connection->address = "198.51.100.1";
    sdp.origin.username = "tandem";
    const std::string text = format(sdp);
    EXPECT_NE(text.find("\r\nm=audio 30000 RTP/AVP 0 101\r\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\r\nc=IN IP4 198.51.100.1\r\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\r\no=tandem 2890844526 2890844526 IN IP4 192.0.2.1\r\n"), std::string::npos)
        << text;
    auto again = parse_ok(text);
    EXPECT_EQ(again.media[0].port, 30000);
    EXPECT_EQ(again.connection, sdp.connection);
    EXPECT_EQ(again.origin, sdp.origin);
}

TEST(sdp_format, connection_field_without_a_line_is_placed_in_order) {
    auto sdp = parse_ok(crlf(webrtc_offer));
    sdp.connection = connection_field{address_family::ip4, "192.0.2.50", ""};
    sdp.media[0].connection.reset();
    const std::string text = format(sdp);
    EXPECT_EQ(text.substr(0, text.find("t=0 0")),
              "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\n"
              "c=IN IP4 192.0.2.50\r\n");
    const auto again = parse_ok(text);
    EXPECT_FALSE(again.media[0].connection.has_value());
    EXPECT_EQ(effective_connection(again, 0)->address, "192.0.2.50");
}

TEST(sdp_format, built_from_scratch) {
    session_description sdp;
    sdp.origin = origin_field{"tandem", "1", "1", "IN", "IP4", "192.0.2.1"};
    sdp.connection = connection_field{address_family::ip4, "192.0.2.1", ""};
    sdp.lines = {line{'v', "0"}, line{'s', "-"}, line{'t', "0 0"}};
    media_description audio;
    audio.media_type = "audio";
    audio.port = 4000;
    audio.protocol = "RTP/AVP";
    audio.formats = {"8"};
    audio.lines = {line{'a', "rtpmap:8 PCMA/8000"}};
    sdp.media.push_back(audio);
    EXPECT_EQ(format(sdp),
              "v=0\r\no=tandem 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
              "m=audio 4000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n");
}

// ---- rewrite helpers -------------------------------------------------------------

TEST(sdp_rewrite, set_connection_all_with_session_level) {
    auto sdp = parse_ok(crlf(yealink_offer));
    ASSERT_TRUE(set_connection(sdp, all_media, address_family::ip4, "203.0.113.1").ok());
    EXPECT_EQ(sdp.connection->address, "203.0.113.1");
    EXPECT_FALSE(sdp.media[0].connection.has_value());  // inherits the session c=
    const std::string text = format(sdp);
    EXPECT_NE(text.find("\r\nc=IN IP4 203.0.113.1\r\n"), std::string::npos);
    EXPECT_EQ(text.find("192.0.2.105\r\nt="), std::string::npos);
    EXPECT_EQ(parse_ok(text), sdp);
}

TEST(sdp_rewrite, set_connection_all_media_level_only) {
    auto sdp = parse_ok(crlf(webrtc_offer));
    ASSERT_TRUE(set_connection(sdp, all_media, address_family::ip6, "2001:db8::99").ok());
    EXPECT_FALSE(sdp.connection.has_value());
    for (const auto& media : sdp.media) {
        ASSERT_TRUE(media.connection.has_value());
        EXPECT_EQ(media.connection->family, address_family::ip6);
        EXPECT_EQ(media.connection->address, "2001:db8::99");
    }
    const std::string text = format(sdp);
    EXPECT_EQ(text.find("c=IN IP4 203.0.113.77"), std::string::npos);
    EXPECT_NE(text.find("c=IN IP6 2001:db8::99"), std::string::npos);
    EXPECT_NE(text.find("srflx raddr"), std::string::npos);  // candidates are remove_ice's business
    EXPECT_EQ(parse_ok(text), sdp);
}

TEST(sdp_rewrite, set_connection_adds_media_lines_without_session_level) {
    auto sdp = parse_ok(crlf(R"(v=0
o=- 1 1 IN IP4 192.0.2.1
s=-
t=0 0
m=audio 5004 RTP/AVP 0
i=voice
a=sendrecv
m=audio 5006 RTP/AVP 0
)"));
    ASSERT_TRUE(set_connection(sdp, all_media, address_family::ip4, "198.51.100.7").ok());
    EXPECT_EQ(format(sdp), crlf(R"(v=0
o=- 1 1 IN IP4 192.0.2.1
s=-
t=0 0
m=audio 5004 RTP/AVP 0
i=voice
c=IN IP4 198.51.100.7
a=sendrecv
m=audio 5006 RTP/AVP 0
c=IN IP4 198.51.100.7
)"));
}

TEST(sdp_rewrite, set_connection_one_media) {
    auto sdp = parse_ok(crlf(declined_video));
    ASSERT_TRUE(set_connection(sdp, 0, address_family::ip4, "203.0.113.9").ok());
    EXPECT_EQ(sdp.connection->address, "198.51.100.10");
    EXPECT_EQ(effective_connection(sdp, 0)->address, "203.0.113.9");
    EXPECT_EQ(effective_connection(sdp, 1)->address, "198.51.100.10");
    EXPECT_NE(format(sdp).find("m=audio 30000 RTP/AVP 0\r\nc=IN IP4 203.0.113.9\r\n"), std::string::npos);
    EXPECT_EQ(parse_ok(format(sdp)), sdp);
}

TEST(sdp_rewrite, set_connection_rejects_bad_input) {
    auto sdp = parse_ok(crlf(yealink_offer));
    const auto original = sdp;
    EXPECT_FALSE(set_connection(sdp, 5, address_family::ip4, "203.0.113.1").ok());
    EXPECT_FALSE(set_connection(sdp, all_media, address_family::ip4, "2001:db8::1").ok());
    EXPECT_FALSE(set_connection(sdp, all_media, address_family::ip6, "203.0.113.1").ok());
    EXPECT_FALSE(set_connection(sdp, all_media, address_family::ip4, "203.0.113.1\r\na=evil").ok());
    EXPECT_FALSE(set_connection(sdp, all_media, address_family::ip4, "").ok());
    const auto failed = set_connection(sdp, 7, address_family::ip4, "203.0.113.1");
    EXPECT_EQ(failed.message(), "media index 7 out of range (1 media sections)");
    EXPECT_EQ(sdp, original);
}

TEST(sdp_rewrite, set_media_port) {
    auto sdp = parse_ok(crlf(webrtc_offer));
    set_media_port(sdp.media[1], 40002);
    const std::string text = format(sdp);
    EXPECT_NE(text.find("\r\nm=video 40002 UDP/TLS/RTP/SAVPF 96 97\r\n"), std::string::npos);
    EXPECT_NE(text.find("\r\nm=audio 50472 UDP/TLS/RTP/SAVPF"), std::string::npos);
    EXPECT_EQ(parse_ok(text), sdp);

    auto counted = parse_ok(crlf(port_count_offer));
    set_media_port(counted.media[0], 30000);
    EXPECT_NE(format(counted).find("m=audio 30000/2 RTP/AVP 0"), std::string::npos);
}

TEST(sdp_rewrite, set_rtcp_rewrites_in_place) {
    auto sdp = parse_ok(crlf(freeswitch_offer));
    ASSERT_TRUE(
        set_rtcp(sdp.media[0], rtcp_attribute{40001, connection_field{address_family::ip4, "192.0.2.1", ""}})
            .ok());
    const std::string text = format(sdp);
    EXPECT_NE(text.find("a=sendrecv\r\na=rtcp:40001 IN IP4 192.0.2.1\r\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("16385"), std::string::npos);
    EXPECT_EQ(rtcp(sdp.media[0])->port, 40001);
}

TEST(sdp_rewrite, set_rtcp_inserts_removes_and_validates) {
    auto sdp = parse_ok(crlf(asterisk_offer));
    ASSERT_TRUE(set_rtcp(sdp.media[0], rtcp_attribute{20001, std::nullopt}).ok());
    EXPECT_TRUE(format(sdp).ends_with("a=sendrecv\r\na=rtcp:20001\r\n"));
    ASSERT_TRUE(set_rtcp(sdp.media[0],
                         rtcp_attribute{20001, connection_field{address_family::ip6, "2001:db8::5", ""}})
                    .ok());
    EXPECT_TRUE(format(sdp).ends_with("a=sendrecv\r\na=rtcp:20001 IN IP6 2001:db8::5\r\n"));
    EXPECT_FALSE(
        set_rtcp(sdp.media[0], rtcp_attribute{20001, connection_field{address_family::ip6, "bogus", ""}})
            .ok());
    ASSERT_TRUE(set_rtcp(sdp.media[0], std::nullopt).ok());
    EXPECT_EQ(format(sdp), crlf(asterisk_offer));

    // rtcp-mux, rtcp-fb and rtcp-rsize are other attributes and stay.
    auto webrtc = parse_ok(crlf(webrtc_offer));
    ASSERT_TRUE(set_rtcp(webrtc.media[1], std::nullopt).ok());
    EXPECT_FALSE(rtcp(webrtc.media[1]).has_value());
    EXPECT_TRUE(rtcp_mux(webrtc.media[1]));
    EXPECT_TRUE(has_attribute(webrtc.media[1].lines, "rtcp-rsize"));
    EXPECT_EQ(find_attributes(webrtc.media[1].lines, "rtcp-fb").size(), 2u);
}

TEST(sdp_rewrite, set_rtcp_mux) {
    auto sdp = parse_ok(crlf(asterisk_offer));
    set_rtcp_mux(sdp.media[0], true);
    set_rtcp_mux(sdp.media[0], true);
    EXPECT_EQ(find_attributes(sdp.media[0].lines, "rtcp-mux").size(), 1u);
    EXPECT_TRUE(format(sdp).ends_with("a=sendrecv\r\na=rtcp-mux\r\n"));
    set_rtcp_mux(sdp.media[0], false);
    EXPECT_FALSE(rtcp_mux(sdp.media[0]));
    EXPECT_EQ(format(sdp), crlf(asterisk_offer));
}

TEST(sdp_rewrite, remove_ice) {
    auto sdp = parse_ok(crlf(webrtc_offer));
    sdp.lines.push_back(line{'a', "ice-lite"});
    sdp.media[0].lines.push_back(line{'a', "remote-candidates:1 192.0.2.3 45664"});
    sdp.media[0].lines.push_back(line{'a', "ice-mismatch"});
    remove_ice(sdp);
    const std::string text = format(sdp);
    for (const std::string_view gone :
         {"a=candidate", "a=ice-", "a=end-of-candidates", "a=remote-candidates"}) {
        EXPECT_EQ(text.find(gone), std::string::npos) << gone;
    }
    EXPECT_TRUE(candidates(sdp.media[0]).empty());
    EXPECT_FALSE(ice_ufrag(sdp, 0).has_value());
    // Everything else survives.
    EXPECT_NE(text.find("a=fingerprint:sha-256"), std::string::npos);
    EXPECT_NE(text.find("a=group:BUNDLE 0 1"), std::string::npos);
    EXPECT_TRUE(rtcp_mux(sdp.media[0]));
    EXPECT_EQ(parse_ok(text), sdp);
}

TEST(sdp_rewrite, origin_address_and_version) {
    auto sdp = parse_ok(crlf(yealink_offer));
    ASSERT_TRUE(set_origin_address(sdp, address_family::ip6, "2001:db8::7").ok());
    bump_origin_version(sdp);
    EXPECT_EQ(sdp.origin.session_version, "20042");
    const std::string text = format(sdp);
    EXPECT_NE(text.find("\r\no=- 20041 20042 IN IP6 2001:db8::7\r\n"), std::string::npos) << text;
    EXPECT_EQ(parse_ok(text), sdp);
    EXPECT_FALSE(set_origin_address(sdp, address_family::ip4, "not-an-ip").ok());
}

TEST(sdp_rewrite, bump_origin_version_carries) {
    auto sdp = parse_ok(crlf(webrtc_offer));
    sdp.origin.session_version = "999";
    bump_origin_version(sdp);
    EXPECT_EQ(sdp.origin.session_version, "1000");
    sdp.origin.session_version = "18446744073709551615";  // past 64 bits, still counts
    bump_origin_version(sdp);
    EXPECT_EQ(sdp.origin.session_version, "18446744073709551616");
    sdp.origin.session_version = "v1";
    bump_origin_version(sdp);
    EXPECT_EQ(sdp.origin.session_version, "v1");
}

TEST(sdp_rewrite, direction_media_overrides_session) {
    auto sdp = parse_ok(crlf(polycom_offer));
    ASSERT_TRUE(set_direction(sdp, 0, media_direction::sendonly).ok());
    EXPECT_EQ(direction(sdp, 0), media_direction::sendonly);
    EXPECT_EQ(direction_attribute(sdp.lines), media_direction::sendrecv);
    EXPECT_TRUE(format(sdp).ends_with("a=ptime:20\r\na=sendonly\r\n"));

    auto yealink = parse_ok(crlf(yealink_offer));
    ASSERT_TRUE(set_direction(yealink, 0, media_direction::inactive).ok());
    EXPECT_EQ(find_attributes(yealink.media[0].lines, "sendrecv").size(), 0u);
    EXPECT_TRUE(format(yealink).ends_with("a=ptime:20\r\na=inactive\r\n"));
    EXPECT_FALSE(set_direction(yealink, 3, media_direction::inactive).ok());
}

TEST(sdp_rewrite, direction_all_media) {
    auto sdp = parse_ok(crlf(polycom_offer));
    ASSERT_TRUE(set_direction(sdp, all_media, media_direction::recvonly).ok());
    EXPECT_FALSE(direction_attribute(sdp.lines).has_value());
    EXPECT_EQ(direction(sdp, 0), media_direction::recvonly);
    EXPECT_EQ(to_string(direction(sdp, 0)), "recvonly");
    // Unhold: back to sendrecv.
    auto held = parse_ok(crlf(hold_sendonly));
    ASSERT_TRUE(set_direction(held, all_media, media_direction::sendrecv).ok());
    EXPECT_FALSE(is_on_hold(held, 0));
}

TEST(sdp_rewrite, relay_offer_end_to_end) {
    // What the relay does to an offer: new address and ports, no ICE, RTCP
    // on the next port, bumped version; the unknown attributes survive.
    auto sdp = parse_ok(crlf(webrtc_offer));
    ASSERT_TRUE(set_connection(sdp, all_media, address_family::ip4, "198.51.100.200").ok());
    ASSERT_TRUE(set_origin_address(sdp, address_family::ip4, "198.51.100.200").ok());
    remove_ice(sdp);
    for (std::size_t i = 0; i < sdp.media.size(); ++i) {
        const auto port = static_cast<std::uint16_t>(30000 + 2 * i);
        set_media_port(sdp.media[i], port);
        ASSERT_TRUE(set_rtcp(sdp.media[i],
                             rtcp_attribute{static_cast<std::uint16_t>(port + 1),
                                            connection_field{address_family::ip4, "198.51.100.200", ""}})
                        .ok());
        set_rtcp_mux(sdp.media[i], false);
    }
    bump_origin_version(sdp);
    const std::string text = format(sdp);
    const auto again = parse_ok(text);
    EXPECT_EQ(again, sdp);
    EXPECT_EQ(again.origin.session_version, "3");
    EXPECT_EQ(again.media[1].port, 30002);
    EXPECT_EQ(rtcp(again.media[1])->port, 30003);
    EXPECT_EQ(find_attribute(again.media[0].lines, "ssrc"), "3735928559 cname:c2lWbmQ5MFBtdWlz");
    EXPECT_EQ(text.find("203.0.113.77"), std::string::npos);
}

// ---- bogus input -----------------------------------------------------------------

constexpr std::string_view minimal_head = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n";

TEST(sdp_errors, port_out_of_range) {
    const std::string text = crlf(R"(v=0
o=- 1 1 IN IP4 192.0.2.1
s=-
c=IN IP4 192.0.2.1
t=0 0
a=sendrecv
m=audio 99999 RTP/AVP 0
)");
    EXPECT_EQ(parse_error(text), "line 7: m= port 99999 out of range");
    EXPECT_EQ(parse_error(std::string(minimal_head) + "m=audio 65536 RTP/AVP 0\r\n"),
              "line 5: m= port 65536 out of range");
    EXPECT_EQ(parse_error(std::string(minimal_head) + "m=audio 123456789012345678901234567890 RTP/AVP 0\r\n"),
              "line 5: m= port 123456789012345678901234567890 out of range");
    EXPECT_EQ(parse_error(std::string(minimal_head) + "m=audio -1 RTP/AVP 0\r\n"),
              "line 5: m= port \"-1\" is not a number");
    EXPECT_EQ(parse_error(std::string(minimal_head) + "m=audio 4000/0 RTP/AVP 0\r\n"),
              "line 5: m= port count \"0\" out of range (1..65535)");
    EXPECT_TRUE(parse(std::string(minimal_head) + "m=audio 65535 RTP/AVP 0\r\n").ok());
}

TEST(sdp_errors, short_m_line) {
    EXPECT_EQ(parse_error(std::string(minimal_head) + "m=audio 4000 RTP/AVP\r\n"),
              "line 5: m= needs at least 4 fields (media port proto fmt), found 3");
    EXPECT_FALSE(parse(std::string(minimal_head) + "m=\r\n").ok());
}

TEST(sdp_errors, missing_mandatory_lines) {
    EXPECT_EQ(parse_error("o=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"),
              "line 1: expected v=0 first, got \"o=- 1 1 IN IP4 192.0.2.1\"");
    EXPECT_EQ(parse_error("v=0\r\ns=-\r\nt=0 0\r\n"), "missing o= line");
    EXPECT_EQ(parse_error("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nt=0 0\r\n"), "missing s= line");
    EXPECT_EQ(parse_error("v=1\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"), "line 1: version \"1\" unsupported");
    EXPECT_EQ(parse_error("v=0\r\no=- 1 IN IP4 192.0.2.1\r\ns=-\r\n"),
              "line 2: o= needs 6 fields (username sess-id sess-version nettype addrtype address), found 5");
}

TEST(sdp_errors, structure) {
    EXPECT_EQ(parse_error(std::string(minimal_head) + "c=IN IP4 192.0.2.1\r\nc=IN IP4 192.0.2.2\r\n"),
              "line 6: second session-level c= line");
    EXPECT_EQ(parse_error(std::string(minimal_head) + "m=audio 1 RTP/AVP 0\r\no=- 1 1 IN IP4 192.0.2.1\r\n"),
              "line 6: o= inside a media section");
    EXPECT_EQ(parse_error(std::string(minimal_head) + "c=ATM NSAP 47.0091\r\n"),
              "line 5: c= network type \"ATM\" unsupported (expected IN)");
    EXPECT_EQ(parse_error(std::string(minimal_head) + "c=IN IPX 10.0.0.1\r\n"),
              "line 5: c= address type \"IPX\" unsupported (expected IP4 or IP6)");
    EXPECT_EQ(parse_error(std::string(minimal_head) + "c=IN IP4\r\n"),
              "line 5: c= needs 3 fields (IN IP4|IP6 address), found 2");
    EXPECT_EQ(parse_error(std::string(minimal_head) + "m=audio 1 RTP/AVP 0\r\na=rtcp:70000\r\n"),
              "line 6: a=rtcp port \"70000\" out of range");
    EXPECT_EQ(parse_error(std::string(minimal_head) + "m=audio 1 RTP/AVP 0\r\na=rtcp:5 IN IP4\r\n"),
              "line 6: a=rtcp needs a port and optionally IN IP4|IP6 <address>");
    EXPECT_EQ(parse_error(std::string(minimal_head) + "no equals sign\r\n"),
              "line 5: expected <letter>=<value>, got \"no equals sign\"");
    EXPECT_EQ(parse_error(std::string(minimal_head) + "A=x\r\n"),
              "line 5: expected <letter>=<value>, got \"A=x\"");
    EXPECT_EQ(parse_error(std::string(minimal_head) + "\r\na=x\r\n"),
              "line 5: empty line inside the session description");
    EXPECT_EQ(parse_error(std::string(minimal_head) + "a=x\ry\r\n"),
              "line 5: stray carriage return (lines end in CRLF or LF)");
    EXPECT_EQ(parse_error(std::string(minimal_head) + std::string("a=x\0y\r\n", 7)), "line 5: NUL byte");
}

TEST(sdp_errors, empty_and_garbage) {
    EXPECT_EQ(parse_error(""), "empty session description (no v= line)");
    EXPECT_EQ(parse_error("\r\n\r\n"), "empty session description (no v= line)");
    std::string garbage;
    std::uint32_t state = 0x12345678;
    for (int i = 0; i < 4000; ++i) {
        state = state * 1664525u + 1013904223u;
        garbage += static_cast<char>(state >> 24);
    }
    EXPECT_FALSE(parse(garbage).ok());
    EXPECT_FALSE(parse(std::string(minimal_head) + garbage).ok());
}

TEST(sdp_errors, limits) {
    std::string many_lines(minimal_head);
    for (int i = 0; i < 5000; ++i) {
        many_lines += "a=x\r\n";
    }
    EXPECT_EQ(parse_error(many_lines), "more than 4096 lines");

    std::string lines_under_size(minimal_head);
    for (int i = 0; i < 4200; ++i) {
        lines_under_size += "a=\n";
    }
    EXPECT_EQ(parse_error(lines_under_size), "more than 4096 lines");

    const std::string long_line = std::string(minimal_head) + "a=" + std::string(5000, 'x') + "\r\n";
    EXPECT_EQ(parse_error(long_line), "line 5: 5002 bytes long, limit 4096");

    const std::string huge = std::string(minimal_head) + "a=" + std::string(70000, 'x');
    EXPECT_EQ(parse_error(huge), "SDP is " + std::to_string(huge.size()) + " bytes, limit 65536");

    std::string many_media(minimal_head);
    for (int i = 0; i < 65; ++i) {
        many_media += "m=audio 0 RTP/AVP 0\r\n";
    }
    EXPECT_EQ(parse_error(many_media), "line 69: more than 64 media sections");

    parse_limits tight;
    tight.max_media = 1;
    EXPECT_FALSE(parse(crlf(webrtc_offer), tight).ok());
    EXPECT_TRUE(parse(crlf(yealink_offer), tight).ok());
}

TEST(sdp_errors, hostile_text_in_messages_is_bounded) {
    const std::string text =
        std::string(minimal_head) + "c=IN \x01\x02" + std::string(300, 'Q') + " 1.2.3.4\r\n";
    const std::string message = parse_error(text);
    EXPECT_LT(message.size(), 120u);
    EXPECT_EQ(message.find('\x01'), std::string::npos);
}

TEST(sdp_errors, accessors_survive_hand_edited_lines) {
    auto sdp = parse_ok(crlf(webrtc_offer));
    auto& audio = sdp.media[0];
    audio.lines.push_back(line{'a', "rtpmap:200 x/1"});
    audio.lines.push_back(line{'a', "rtpmap:111"});
    audio.lines.push_back(line{'a', "candidate:"});
    audio.lines.push_back(line{'a', "crypto:x"});
    audio.formats.push_back("webrtc-datachannel");
    audio.formats.push_back("300");
    for (auto& l : audio.lines) {
        if (l.is_attribute("rtcp")) {
            l.value = "rtcp:bogus";
        }
    }
    EXPECT_FALSE(rtcp(audio).has_value());
    EXPECT_EQ(codecs(audio).size(), 8u);
    EXPECT_EQ(candidates(audio).size(), 3u);
    EXPECT_TRUE(crypto(audio).empty());
    EXPECT_EQ(direction(sdp, 99), media_direction::sendrecv);
    EXPECT_FALSE(effective_connection(sdp, 99).has_value());
}

}  // namespace
}  // namespace tandem::sdp
