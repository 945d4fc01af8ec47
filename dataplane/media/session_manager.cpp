#include "dataplane/media/session_manager.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <string_view>
#include <utility>

namespace tandem::media {

namespace {

constexpr std::int64_t ns_per_s = 1'000'000'000;

// rtpengine treats "media address", "media-address" and "media_address" as
// one key, and flags likewise; compare in one spelling.
std::string normalise(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        out.push_back(c == '-' || c == '_' ? ' '
                                           : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return out;
}

// Read access to one ng request that forgives the spelling of keys.
class request_view {
  public:
    explicit request_view(const ng::value& request) {
        if (request.is_dict()) {
            for (const auto& [key, entry] : request.entries()) {
                entries_.emplace_back(normalise(key), &entry);
            }
        }
    }

    [[nodiscard]] const ng::value* find(std::string_view key) const {
        const auto wanted = normalise(key);
        for (const auto& [name, entry] : entries_) {
            if (name == wanted) {
                return entry;
            }
        }
        return nullptr;
    }

    [[nodiscard]] std::optional<std::string_view> text(std::string_view key) const {
        const auto* entry = find(key);
        if (entry == nullptr || !entry->is_string()) {
            return std::nullopt;
        }
        return std::string_view(entry->string());
    }

    [[nodiscard]] std::optional<std::int64_t> integer(std::string_view key) const {
        const auto* entry = find(key);
        if (entry == nullptr) {
            return std::nullopt;
        }
        if (entry->is_integer()) {
            return entry->integer();
        }
        if (entry->is_string()) {  // Kamailio sends some numbers as strings
            std::int64_t number = 0;
            const auto& digits = entry->string();
            if (digits.empty() || digits.size() > 18) {
                return std::nullopt;
            }
            for (const char c : digits) {
                if (c < '0' || c > '9') {
                    return std::nullopt;
                }
                number = number * 10 + (c - '0');
            }
            return number;
        }
        return std::nullopt;
    }

    // A list of strings, or one string taken as a one-element list.
    [[nodiscard]] std::vector<std::string> words(std::string_view key) const {
        std::vector<std::string> out;
        const auto* entry = find(key);
        if (entry == nullptr) {
            return out;
        }
        if (entry->is_string()) {
            out.push_back(normalise(entry->string()));
        } else if (entry->is_list()) {
            for (const auto& item : entry->items()) {
                if (item.is_string()) {
                    out.push_back(normalise(item.string()));
                }
            }
        }
        return out;
    }

    [[nodiscard]] bool has_word(std::string_view key, std::string_view word) const {
        const auto list = words(key);
        const auto wanted = normalise(word);
        return std::find(list.begin(), list.end(), wanted) != list.end();
    }

    [[nodiscard]] bool flag(std::string_view name) const { return has_word("flags", name); }

  private:
    std::vector<std::pair<std::string, const ng::value*>> entries_;
};

relay_command removal(std::uint32_t stream_id, std::uint16_t local_port) {
    relay_command command;
    command.what = relay_command::kind::remove;
    command.rule.stream_id = stream_id;
    command.rule.local_port = local_port;
    return command;
}

ng::value error_reply(std::string_view reason) {
    return ng::value(ng::dict{{"result", ng::value("error")}, {"error-reason", ng::value(reason)}});
}

std::int64_t unix_now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

ng::value endpoint_value(const media_endpoint& endpoint) {
    ng::dict out;
    if (!endpoint.known()) {
        return ng::value(out);
    }
    auto text = to_string(endpoint);
    // to_string gives "a.b.c.d:port" or "[v6]:port"; report the address alone.
    auto colon = text.rfind(':');
    std::string address = text.substr(0, colon);
    if (!address.empty() && address.front() == '[') {
        address = address.substr(1, address.size() - 2);
    }
    out.emplace("family", ng::value(endpoint.family == 6 ? "IPv6" : "IPv4"));
    out.emplace("address", ng::value(address));
    out.emplace("port", ng::value(static_cast<std::int64_t>(endpoint.port)));
    return ng::value(std::move(out));
}

// RTCP from the side that sends on a media side's ports arrives on its RTP
// port when it muxes, else on its RTCP port: the report numbers are those
// of whichever stream took the reports.
stream_stats_snapshot rtcp_reports(const stream_stats_snapshot& rtp, const stream_stats_snapshot& rtcp) {
    stream_stats_snapshot out = rtp.rtcp_packets > rtcp.rtcp_packets ? rtp : rtcp;
    out.rtcp_packets = rtp.rtcp_packets + rtcp.rtcp_packets;
    return out;
}

std::int64_t to_ms(std::uint32_t timestamp_units, std::uint32_t clock_rate_hz) {
    return static_cast<std::int64_t>(timestamp_units) * 1000 / (clock_rate_hz == 0 ? 8000 : clock_rate_hz);
}

// Tandem's addition to an RTP stream of query/delete: what the peer sending
// here reports in RTCP. "rtt ms" only once measured.
ng::value rtcp_value(const stream_stats_snapshot& reports, std::uint32_t clock_rate_hz) {
    ng::dict out{
        {"packets", ng::value(static_cast<std::int64_t>(reports.rtcp_packets))},
        {"fraction lost", ng::value(static_cast<std::int64_t>(reports.remote_fraction_lost))},
        {"packets lost", ng::value(static_cast<std::int64_t>(reports.remote_packets_lost))},
        {"jitter", ng::value(to_ms(reports.remote_jitter_ts, clock_rate_hz))},
    };
    if (reports.rtt_us != 0) {
        out.emplace("rtt ms", ng::value(static_cast<std::int64_t>(reports.rtt_us / 1000)));
    }
    return ng::value(std::move(out));
}

}  // namespace

// One side of one m= line.
struct media_side {
    bool active = false;    // holds a port pair
    bool disabled = false;  // m= port 0
    std::uint16_t local_port = 0;
    media_endpoint rtp_peer;  // from SDP (or the address flags)
    media_endpoint rtcp_peer;
    media_endpoint learned_rtp;
    media_endpoint learned_rtcp;
    bool offers_mux = false;  // its SDP carried a=rtcp-mux
    bool rtcp_mux = false;    // negotiated: RTCP on the RTP port toward this side
    bool on_hold = false;
    std::string type = "audio";
    std::string protocol = "RTP/AVP";
    sdp::media_direction direction = sdp::media_direction::sendrecv;
    std::uint32_t rtp_stream = 0;
    std::uint32_t rtcp_stream = 0;
    std::uint32_t clock_rate_hz = 8000;
    std::uint32_t generation = 0;  // bumped when the SDP moves this side (see stream_rule)

    [[nodiscard]] media_endpoint rtp_destination() const {
        return learned_rtp.known() ? learned_rtp : rtp_peer;
    }
    [[nodiscard]] media_endpoint rtcp_destination() const {
        if (rtcp_mux) {
            return rtp_destination();
        }
        return learned_rtcp.known() ? learned_rtcp : rtcp_peer;
    }
};

struct monologue {
    std::string tag;
    std::int64_t created_us = 0;
    std::vector<media_side> media;
};

struct session_manager::call {
    std::string call_id;
    std::array<monologue, 2> sides;
    std::int64_t created_us = 0;
    std::int64_t created_ns = 0;
    std::int64_t last_signal_ns = 0;
    std::int64_t last_signal_us = 0;
    std::int64_t delete_at_ns = 0;  // 0: not scheduled
    std::uint16_t flags = flag_learn | flag_ssrc_continuity;
    bool answered = false;
};

session_manager::session_manager(media_settings settings, relay_workers& workers, const clock& time)
    : settings_(std::move(settings)),
      workers_(workers),
      time_(time),
      ports_(settings_.port_min, settings_.port_max) {}

session_manager::~session_manager() = default;

std::size_t session_manager::sessions() const {
    return calls_.size();
}

std::uint32_t session_manager::next_stream_id() {
    ++last_stream_id_;
    if (last_stream_id_ == 0) {
        ++last_stream_id_;
    }
    return last_stream_id_;
}

ng::value session_manager::handle(const ng::value& request, const std::string& source_address) {
    const request_view view(request);
    const auto command = view.text("command");
    if (!command) {
        ++totals_.requests_errors;
        return error_reply("No command in message");
    }
    const auto name = normalise(*command);
    ng::value reply;
    if (name == "ping") {
        return ng::value(ng::dict{{"result", ng::value("pong")}});
    }
    if (name == "offer") {
        reply = offer_or_answer(request, true, source_address);
    } else if (name == "answer") {
        reply = offer_or_answer(request, false, source_address);
    } else if (name == "delete") {
        reply = delete_call(request);
    } else if (name == "query") {
        reply = query(request);
    } else if (name == "list") {
        reply = list(request);
    } else if (name == "statistics") {
        reply = statistics();
    } else {
        reply = error_reply("Unrecognized command");
    }
    if (const auto result = reply.find_string("result"); result && *result == "error") {
        ++totals_.requests_errors;
    }
    return reply;
}

ng::value session_manager::offer_or_answer(const ng::value& request, bool is_offer,
                                           const std::string& source_address) {
    const request_view view(request);
    const auto call_id = view.text("call-id");
    if (!call_id || call_id->empty()) {
        return error_reply("No call-id in message");
    }
    const auto from_tag = view.text("from-tag");
    if (!from_tag || from_tag->empty()) {
        return error_reply("No from-tag in message");
    }
    const auto to_tag = view.text("to-tag").value_or("");
    if (!is_offer && to_tag.empty()) {
        return error_reply("No to-tag in message");
    }
    const auto sdp_text = view.text("sdp");
    if (!sdp_text) {
        return error_reply("No SDP body in message");
    }
    auto parsed = sdp::parse(*sdp_text);
    if (!parsed) {
        return error_reply("Failed to parse SDP: " + parsed.message());
    }
    sdp::session_description description = std::move(parsed.value());

    auto found = calls_.find(*call_id);
    if (found == calls_.end()) {
        if (!is_offer) {
            return error_reply("Unknown call-id");
        }
        if (draining_) {
            ++totals_.offers_rejected_drain;
            return ng::value(ng::dict{{"result", ng::value("load limit")},
                                      {"message", ng::value("Node is draining: no new sessions")}});
        }
        if (calls_.size() >= settings_.max_sessions) {
            ++totals_.offers_rejected_load;
            return ng::value(
                ng::dict{{"result", ng::value("load limit")}, {"message", ng::value("Load limit exceeded")}});
        }
        auto fresh = std::make_unique<call>();
        fresh->call_id = std::string(*call_id);
        fresh->created_us = unix_now_us();
        fresh->created_ns = time_.now_ns();
        fresh->sides[0].tag = std::string(*from_tag);
        fresh->sides[0].created_us = fresh->created_us;
        found = calls_.emplace(fresh->call_id, std::move(fresh)).first;
        ++totals_.sessions_created;
    }
    call& session = *found->second;

    // Which side is speaking: the offerer of an offer is from-tag; the
    // answerer of an answer is to-tag, answering the from-tag side.
    auto side_with_tag = [&session](std::string_view tag) -> int {
        for (int index = 0; index < 2; ++index) {
            if (!tag.empty() && session.sides[static_cast<std::size_t>(index)].tag == tag) {
                return index;
            }
        }
        return -1;
    };
    int speaker = -1;
    if (is_offer) {
        speaker = side_with_tag(*from_tag);
        if (speaker < 0) {
            const int other = side_with_tag(to_tag);
            speaker = other >= 0 ? 1 - other : 0;
            session.sides[static_cast<std::size_t>(speaker)].tag = std::string(*from_tag);
            session.sides[static_cast<std::size_t>(speaker)].created_us = unix_now_us();
        }
    } else {
        const int offerer = side_with_tag(*from_tag);
        if (offerer < 0) {
            return error_reply("Unknown from-tag for this call-id");
        }
        speaker = 1 - offerer;
        auto& answerer = session.sides[static_cast<std::size_t>(speaker)];
        if (answerer.tag != to_tag) {
            // A first answer names the answerer; a different to-tag (a later
            // fork answering) takes the side over: the last answer wins.
            answerer.tag = std::string(to_tag);
            answerer.created_us = unix_now_us();
        }
        session.answered = true;
    }
    auto& own = session.sides[static_cast<std::size_t>(speaker)];
    auto& peer = session.sides[static_cast<std::size_t>(1 - speaker)];
    if (peer.created_us == 0) {
        peer.created_us = unix_now_us();
    }

    // Call-wide handling flags, as the latest signal says.
    if (view.flag("asymmetric")) {
        session.flags &= static_cast<std::uint16_t>(~flag_learn);
    } else if (view.flag("symmetric")) {
        session.flags |= flag_learn;
    }
    if (view.flag("strict-source")) {
        session.flags |= flag_strict_source;
    }
    // Tandem's own spelling: rtpengine has no switch for this, it is on.
    if (view.flag("no-SSRC-continuity")) {
        session.flags &= static_cast<std::uint16_t>(~flag_ssrc_continuity);
    } else if (view.flag("SSRC-continuity")) {
        session.flags |= flag_ssrc_continuity;
    }

    // Where the speaker really is: the SDP, unless told otherwise.
    std::optional<std::string> override_address;
    if (const auto media_address = view.text("media address")) {
        override_address = std::string(*media_address);
    } else if (view.flag("SIP-source-address") && !view.flag("trust-address")) {
        if (const auto* entry = view.find("received-from"); entry != nullptr && entry->is_list() &&
                                                            entry->items().size() == 2 &&
                                                            entry->items()[1].is_string()) {
            override_address = entry->items()[1].string();
        } else if (!source_address.empty()) {
            override_address = source_address;
        }
    }

    const bool mux_demux = view.has_word("rtcp-mux", "demux");
    const bool mux_offer = view.has_word("rtcp-mux", "offer");
    const bool mux_accept = view.has_word("rtcp-mux", "accept");
    const bool mux_reject = view.has_word("rtcp-mux", "reject");

    // Allocate and describe every media section first, so running out of
    // ports rolls back this request alone.
    std::vector<std::uint16_t> allocated;
    auto allocate = [&](media_side& side) -> bool {
        if (side.active) {
            return true;
        }
        const auto port = ports_.allocate();
        if (!port) {
            return false;
        }
        side.active = true;
        side.local_port = *port;
        side.rtp_stream = next_stream_id();
        side.rtcp_stream = next_stream_id();
        allocated.push_back(*port);
        return true;
    };

    const std::size_t media_count = description.media.size();
    if (own.media.size() < media_count) {
        own.media.resize(media_count);
    }
    if (peer.media.size() < media_count) {
        peer.media.resize(media_count);
    }
    for (std::size_t index = 0; index < media_count; ++index) {
        const auto& section = description.media[index];
        if (section.port == 0) {
            continue;
        }
        if (!allocate(own.media[index]) || !allocate(peer.media[index])) {
            for (const auto port : allocated) {
                ports_.release(port);
            }
            for (auto* side_list : {&own.media, &peer.media}) {
                for (auto& side : *side_list) {
                    if (side.active &&
                        std::find(allocated.begin(), allocated.end(), side.local_port) != allocated.end()) {
                        side = media_side{};
                    }
                }
            }
            ++totals_.offers_rejected_ports;
            return error_reply("Ran out of ports");
        }
    }

    for (std::size_t index = 0; index < media_count; ++index) {
        auto& section = description.media[index];
        auto& mine = own.media[index];
        auto& theirs = peer.media[index];
        if (section.port == 0) {
            // Rejected or disabled stream: give the ports back.
            for (auto* side : {&mine, &theirs}) {
                if (side->active) {
                    ports_.release(side->local_port);
                    by_port_.erase(side->local_port);
                    by_port_.erase(static_cast<std::uint16_t>(side->local_port + 1));
                    if (!workers_.send(removal(side->rtp_stream, side->local_port)) ||
                        !workers_.send(
                            removal(side->rtcp_stream, static_cast<std::uint16_t>(side->local_port + 1)))) {
                        ++totals_.commands_dropped;
                    }
                }
                *side = media_side{};
                side->disabled = true;
            }
            continue;
        }
        mine.disabled = false;
        theirs.disabled = false;
        mine.type = section.media_type;
        theirs.type = section.media_type;
        mine.protocol = section.protocol;
        theirs.protocol = section.protocol;
        mine.direction = sdp::direction(description, index);
        mine.on_hold = sdp::is_on_hold(description, index);
        const auto codecs = sdp::codecs(section);
        if (!codecs.empty() && codecs.front().clock_rate_hz != 0) {
            mine.clock_rate_hz = codecs.front().clock_rate_hz;
            theirs.clock_rate_hz = codecs.front().clock_rate_hz;
        }

        // The speaker's addresses.
        const auto connection = sdp::effective_connection(description, index);
        std::string address = connection ? connection->address : std::string();
        if (override_address) {
            address = *override_address;
        }
        const auto previous_rtp = mine.rtp_peer;
        mine.rtp_peer = make_endpoint(address, section.port).value_or(media_endpoint{});
        const auto rtcp_attribute = sdp::rtcp(section);
        std::string rtcp_address = address;
        if (rtcp_attribute && rtcp_attribute->connection && !override_address) {
            rtcp_address = rtcp_attribute->connection->address;
        }
        const std::uint16_t rtcp_port =
            rtcp_attribute ? rtcp_attribute->port : static_cast<std::uint16_t>(section.port + 1);
        mine.rtcp_peer = make_endpoint(rtcp_address, rtcp_port).value_or(media_endpoint{});
        if (previous_rtp != mine.rtp_peer) {
            // A new address in the SDP (re-INVITE moving the media): learn
            // again, and disown what workers learned before the move.
            mine.learned_rtp = {};
            mine.learned_rtcp = {};
            ++mine.generation;
        }
        mine.offers_mux = sdp::rtcp_mux(section);

        // rtcp-mux negotiation: passed through unless the flags say otherwise.
        bool mux_toward_peer = false;
        if (is_offer) {
            mux_toward_peer = (mine.offers_mux && !mux_demux) || mux_offer;
            // Until the answer, the speaker muxes only if it asked to.
            mine.rtcp_mux = mine.offers_mux && !mux_reject;
        } else {
            mine.rtcp_mux = mine.offers_mux;
            // Toward the offerer: it asked for mux, and the answerer took it
            // (or we accept it on the answerer's behalf).
            mux_toward_peer = theirs.offers_mux && !mux_reject && (mine.rtcp_mux || mux_accept);
            theirs.rtcp_mux = mux_toward_peer;
        }

        // Rewrite the section as the other side will see it: our address,
        // the other side's local port.
        const bool peer_v6 = connection && connection->family == sdp::address_family::ip6;
        const bool want_v6 = view.text("address family").value_or(peer_v6 ? "IP6" : "IP4") == "IP6" &&
                             !settings_.ipv6_address.empty();
        const auto family = want_v6 ? sdp::address_family::ip6 : sdp::address_family::ip4;
        const auto& our_address = want_v6 ? settings_.ipv6_address : settings_.ipv4_address;
        (void)sdp::set_connection(description, index, family, our_address);
        sdp::set_media_port(section, theirs.local_port);
        sdp::set_rtcp_mux(section, mux_toward_peer);
        if (!view.flag("no-rtcp-attribute")) {
            const auto advertised_rtcp =
                mux_toward_peer ? theirs.local_port : static_cast<std::uint16_t>(theirs.local_port + 1);
            std::optional<sdp::rtcp_attribute> attribute = sdp::rtcp_attribute{advertised_rtcp, std::nullopt};
            if (view.flag("full-rtcp-attribute")) {
                attribute->connection = sdp::connection_field{family, our_address, {}};
            }
            (void)sdp::set_rtcp(section, attribute);
        } else {
            (void)sdp::set_rtcp(section, std::nullopt);
        }
    }
    // Session-level c= and the origin.
    if (!settings_.ipv4_address.empty() && description.connection) {
        const bool v6 =
            description.connection->family == sdp::address_family::ip6 && !settings_.ipv6_address.empty();
        (void)sdp::set_connection(description, sdp::all_media,
                                  v6 ? sdp::address_family::ip6 : sdp::address_family::ip4,
                                  v6 ? settings_.ipv6_address : settings_.ipv4_address);
        // Disabled sections keep whatever c= they had; harmless.
    }
    sdp::remove_ice(description);
    if (view.has_word("replace", "origin")) {
        const bool v6 = description.origin.address_type == "IP6" && !settings_.ipv6_address.empty();
        (void)sdp::set_origin_address(description, v6 ? sdp::address_family::ip6 : sdp::address_family::ip4,
                                      v6 ? settings_.ipv6_address : settings_.ipv4_address);
    }

    session.last_signal_ns = time_.now_ns();
    session.last_signal_us = unix_now_us();
    session.delete_at_ns = 0;  // a new signal cancels a pending delayed delete
    publish(session);
    return ng::value(ng::dict{{"result", ng::value("ok")}, {"sdp", ng::value(sdp::format(description))}});
}

// Pushes every stream of the call to the workers (upsert with the same
// stream ids keeps their learned state and statistics).
void session_manager::publish(call& session) {
    const auto media_count = std::min(session.sides[0].media.size(), session.sides[1].media.size());
    for (std::size_t index = 0; index < media_count; ++index) {
        for (std::size_t speaker = 0; speaker < 2; ++speaker) {
            auto& from = session.sides[speaker].media[index];
            auto& to = session.sides[1 - speaker].media[index];
            if (!from.active || !to.active) {
                continue;
            }
            const auto rtcp_port = static_cast<std::uint16_t>(from.local_port + 1);
            stream_rule rtp;
            rtp.stream_id = from.rtp_stream;
            rtp.local_port = from.local_port;
            rtp.egress_port = to.local_port;
            rtp.expected_source = from.rtp_peer;
            rtp.destination = to.rtp_destination();
            rtp.flags = session.flags;
            if (from.rtcp_mux) {
                rtp.flags |= flag_rtcp_mux;
            }
            rtp.learning_window_ms = settings_.learning_window_ms;
            rtp.clock_rate_hz = from.clock_rate_hz;
            rtp.generation = from.generation;
            stream_rule rtcp = rtp;
            if (from.rtcp_mux && !to.rtcp_mux) {
                // Asymmetric rtcp-mux: RTCP the speaker muxes goes to the
                // other side's RTCP address from the other side's RTCP port.
                rtp.rtcp_egress_port = static_cast<std::uint16_t>(to.local_port + 1);
                rtp.rtcp_destination = to.rtcp_destination();
            }
            rtcp.stream_id = from.rtcp_stream;
            rtcp.local_port = rtcp_port;
            rtcp.egress_port = to.rtcp_mux ? to.local_port : static_cast<std::uint16_t>(to.local_port + 1);
            rtcp.expected_source = from.rtcp_peer;
            rtcp.destination = to.rtcp_destination();
            rtcp.flags = static_cast<std::uint16_t>((session.flags | flag_rtcp) & ~flag_rtcp_mux);
            for (const auto& rule : {rtp, rtcp}) {
                if (!workers_.send({relay_command::kind::upsert, rule})) {
                    ++totals_.commands_dropped;
                }
            }
            by_port_[from.local_port] = {&session, from.rtp_stream};
            by_port_[rtcp_port] = {&session, from.rtcp_stream};
        }
    }
}

void session_manager::destroy(std::map<std::string, std::unique_ptr<call>, std::less<>>::iterator found) {
    call& session = *found->second;
    for (auto& side : session.sides) {
        for (std::size_t index = 0; index < side.media.size(); ++index) {
            auto& media = side.media[index];
            if (!media.active) {
                continue;
            }
            const auto rtcp_port = static_cast<std::uint16_t>(media.local_port + 1);
            const auto stats = workers_.stats(media.local_port, media.rtp_stream);
            if (stats) {
                totals_.packets_total += stats->packets;
                totals_.bytes_total += stats->bytes;
            }
            if (settings_.on_stream_ended) {
                const auto rtp = stats.value_or(stream_stats_snapshot{});
                const auto reports = rtcp_reports(
                    rtp, workers_.stats(rtcp_port, media.rtcp_stream).value_or(stream_stats_snapshot{}));
                const double rate = media.clock_rate_hz == 0 ? 8000.0 : media.clock_rate_hz;
                stream_quality quality;
                quality.call_id = session.call_id;
                quality.tag = side.tag;
                quality.media_index = index + 1;
                quality.media_type = media.type;
                quality.local_port = media.local_port;
                quality.ssrc = rtp.ssrc;
                quality.packets = rtp.packets;
                quality.bytes = rtp.bytes;
                quality.packets_expected = rtp.rtp_expected;
                quality.packets_lost = rtp.rtp_lost;
                quality.loss_percent = rtp.rtp_expected == 0 ? 0.0
                                                             : 100.0 * static_cast<double>(rtp.rtp_lost) /
                                                                   static_cast<double>(rtp.rtp_expected);
                quality.jitter_ms = 1000.0 * rtp.jitter_ts / rate;
                quality.ssrc_changes = rtp.ssrc_changes;
                quality.duration_s = static_cast<double>(time_.now_ns() - session.created_ns) / ns_per_s;
                quality.rtcp_packets = reports.rtcp_packets;
                quality.rtcp_fraction_lost_percent = 100.0 * reports.remote_fraction_lost / 256.0;
                quality.rtcp_packets_lost = reports.remote_packets_lost;
                quality.rtcp_jitter_ms = 1000.0 * reports.remote_jitter_ts / rate;
                if (reports.rtt_us != 0) {
                    quality.rtt_ms = reports.rtt_us / 1000.0;
                }
                settings_.on_stream_ended(quality);
            }
            if (!workers_.send(removal(media.rtp_stream, media.local_port)) ||
                !workers_.send(removal(media.rtcp_stream, rtcp_port))) {
                ++totals_.commands_dropped;
            }
            by_port_.erase(media.local_port);
            by_port_.erase(rtcp_port);
            ports_.release(media.local_port);
            media.active = false;
        }
    }
    ++totals_.sessions_deleted;
    calls_.erase(found);
}

ng::value session_manager::delete_call(const ng::value& request) {
    const request_view view(request);
    const auto call_id = view.text("call-id");
    if (!call_id || call_id->empty()) {
        return error_reply("No call-id in message");
    }
    auto found = calls_.find(*call_id);
    if (found == calls_.end()) {
        return error_reply("Call-ID not found or tags didn't match");
    }
    const call& session = *found->second;
    const auto from_tag = view.text("from-tag").value_or("");
    if (!from_tag.empty() && session.sides[0].tag != from_tag && session.sides[1].tag != from_tag) {
        return error_reply("Call-ID not found or tags didn't match");
    }
    auto reply = describe(session);
    reply.entries()["result"] = ng::value("ok");
    auto delay_s = view.integer("delete delay").value_or(settings_.delete_delay_s);
    if (delay_s < 0) {
        delay_s = 0;
    }
    if (delay_s > 0) {
        found->second->delete_at_ns = time_.now_ns() + delay_s * ns_per_s;
    } else {
        destroy(found);
    }
    return reply;
}

ng::value session_manager::query(const ng::value& request) const {
    const request_view view(request);
    const auto call_id = view.text("call-id");
    if (!call_id || call_id->empty()) {
        return error_reply("No call-id in message");
    }
    const auto found = calls_.find(*call_id);
    if (found == calls_.end()) {
        return error_reply("Unknown call-id");
    }
    auto reply = describe(*found->second);
    reply.entries()["result"] = ng::value("ok");
    return reply;
}

ng::value session_manager::list(const ng::value& request) const {
    const request_view view(request);
    auto limit = view.integer("limit").value_or(32);
    ng::list ids;
    for (const auto& [id, session] : calls_) {
        if (limit-- <= 0) {
            break;
        }
        ids.emplace_back(id);
    }
    return ng::value(ng::dict{{"result", ng::value("ok")}, {"calls", ng::value(std::move(ids))}});
}

ng::value session_manager::statistics() const {
    auto count = [](std::uint64_t value) { return ng::value(static_cast<std::int64_t>(value)); };
    ng::dict current{
        {"sessionsown", count(calls_.size())},         {"sessionsforeign", count(0)},
        {"sessionstotal", count(calls_.size())},       {"transcodedmedia", count(0)},
        {"portsfree", count(ports_.free_pairs() * 2)}, {"portstotal", count(ports_.total_pairs() * 2)},
    };
    ng::dict total{
        {"managedsessions", count(totals_.sessions_created)},
        {"rejectedsessions",
         count(totals_.offers_rejected_load + totals_.offers_rejected_drain + totals_.offers_rejected_ports)},
        {"timeoutsessions", count(totals_.sessions_timed_out)},
        {"silenttimeoutsessions", count(totals_.sessions_silent_timed_out)},
        {"finaltimeoutsessions", count(totals_.sessions_final_timed_out)},
        {"regularterminatedsessions",
         count(totals_.sessions_deleted - totals_.sessions_timed_out - totals_.sessions_silent_timed_out -
               totals_.sessions_final_timed_out)},
        {"forcedterminatedsessions", count(0)},
        {"relayedpackets", count(totals_.packets_total)},
        {"relayedbytes", count(totals_.bytes_total)},
    };
    return ng::value(
        ng::dict{{"result", ng::value("ok")},
                 {"statistics", ng::value(ng::dict{{"currentstatistics", ng::value(std::move(current))},
                                                   {"totalstatistics", ng::value(std::move(total))}})}});
}

ng::value session_manager::describe(const call& session) const {
    const auto now_ns = time_.now_ns();
    const auto now_us = unix_now_us();
    auto to_unix_s = [&](std::int64_t steady_ns) -> std::int64_t {
        if (steady_ns == 0) {
            return 0;
        }
        return (now_us - (now_ns - steady_ns) / 1000) / 1'000'000;
    };
    struct sums {
        std::uint64_t packets = 0, bytes = 0, errors = 0;
    } rtp_total, rtcp_total;

    ng::dict tags;
    for (std::size_t index = 0; index < 2; ++index) {
        const auto& side = session.sides[index];
        if (side.tag.empty() && side.media.empty()) {
            continue;
        }
        const auto& other = session.sides[1 - index];
        ng::list medias;
        for (std::size_t m = 0; m < side.media.size(); ++m) {
            const auto& media = side.media[m];
            ng::list streams;
            if (media.active) {
                for (int which = 0; which < 2; ++which) {
                    const bool is_rtcp = which == 1;
                    const auto port = static_cast<std::uint16_t>(media.local_port + (is_rtcp ? 1 : 0));
                    const auto stream_id = is_rtcp ? media.rtcp_stream : media.rtp_stream;
                    const auto stats = workers_.stats(port, stream_id).value_or(stream_stats_snapshot{});
                    auto& total = is_rtcp ? rtcp_total : rtp_total;
                    total.packets += stats.packets;
                    total.bytes += stats.bytes;
                    total.errors += stats.errors;
                    const auto learned = is_rtcp ? media.learned_rtcp : media.learned_rtp;
                    const auto advertised = is_rtcp ? media.rtcp_peer : media.rtp_peer;
                    ng::dict stream{
                        {"local port", ng::value(static_cast<std::int64_t>(port))},
                        {"endpoint", endpoint_value(learned.known() ? learned : advertised)},
                        {"advertised endpoint", endpoint_value(advertised)},
                        {"last packet", ng::value(to_unix_s(stats.last_packet_ns))},
                        {"flags", ng::value(ng::list{ng::value(is_rtcp ? "RTCP" : "RTP")})},
                        {"stats", ng::value(ng::dict{
                                      {"packets", ng::value(static_cast<std::int64_t>(stats.packets))},
                                      {"bytes", ng::value(static_cast<std::int64_t>(stats.bytes))},
                                      {"errors", ng::value(static_cast<std::int64_t>(stats.errors))},
                                  })},
                    };
                    if (!is_rtcp) {
                        stream.emplace("SSRC", ng::value(static_cast<std::int64_t>(stats.ssrc)));
                        stream.emplace("packets lost", ng::value(static_cast<std::int64_t>(stats.rtp_lost)));
                        stream.emplace("packets expected",
                                       ng::value(static_cast<std::int64_t>(stats.rtp_expected)));
                        const auto rate = media.clock_rate_hz == 0 ? 8000U : media.clock_rate_hz;
                        stream.emplace("jitter",
                                       ng::value(static_cast<std::int64_t>(stats.jitter_ts) * 1000 / rate));
                        const auto rtcp_stats =
                            workers_
                                .stats(static_cast<std::uint16_t>(media.local_port + 1), media.rtcp_stream)
                                .value_or(stream_stats_snapshot{});
                        stream.emplace("rtcp", rtcp_value(rtcp_reports(stats, rtcp_stats), rate));
                    }
                    streams.emplace_back(std::move(stream));
                }
            }
            ng::list flags;
            if (media.active) {
                flags.emplace_back("initialized");
            }
            if (media.rtcp_mux) {
                flags.emplace_back("RTCP-mux");
            }
            flags.emplace_back(std::string(sdp::to_string(media.direction)));
            medias.emplace_back(ng::dict{
                {"index", ng::value(static_cast<std::int64_t>(m + 1))},
                {"type", ng::value(media.type)},
                {"protocol", ng::value(media.protocol)},
                {"streams", ng::value(std::move(streams))},
                {"flags", ng::value(std::move(flags))},
            });
        }
        ng::dict entry{
            {"tag", ng::value(side.tag)},
            {"created", ng::value(side.created_us / 1'000'000)},
            {"in dialogue with", ng::value(other.tag)},
            {"medias", ng::value(std::move(medias))},
        };
        tags.emplace(side.tag, ng::value(std::move(entry)));
    }
    auto total_value = [](const sums& s) {
        return ng::value(ng::dict{{"packets", ng::value(static_cast<std::int64_t>(s.packets))},
                                  {"bytes", ng::value(static_cast<std::int64_t>(s.bytes))},
                                  {"errors", ng::value(static_cast<std::int64_t>(s.errors))}});
    };
    return ng::value(ng::dict{
        {"created", ng::value(session.created_us / 1'000'000)},
        {"created_us", ng::value(session.created_us)},
        {"last signal", ng::value(session.last_signal_us / 1'000'000)},
        {"tags", ng::value(std::move(tags))},
        {"totals", ng::value(ng::dict{{"RTP", total_value(rtp_total)}, {"RTCP", total_value(rtcp_total)}})},
    });
}

void session_manager::poll() {
    // Learned peers: record them and steer the other direction there on
    // every worker (the worker that learned already did so for itself).
    while (const auto event = workers_.next_event()) {
        const auto owner = by_port_.find(event->local_port);
        if (owner == by_port_.end() || owner->second.second != event->stream_id) {
            continue;  // the stream went away meanwhile
        }
        call& session = *owner->second.first;
        for (std::size_t speaker = 0; speaker < 2; ++speaker) {
            auto& media_list = session.sides[speaker].media;
            auto& other_list = session.sides[1 - speaker].media;
            for (std::size_t index = 0; index < media_list.size() && index < other_list.size(); ++index) {
                auto& media = media_list[index];
                auto& other = other_list[index];
                if (!media.active || !other.active) {
                    continue;
                }
                const bool is_rtp = media.rtp_stream == event->stream_id;
                const bool is_rtcp = media.rtcp_stream == event->stream_id;
                if (!is_rtp && !is_rtcp) {
                    continue;
                }
                if (event->generation != media.generation) {
                    continue;  // learned before a re-INVITE moved this side
                }
                (is_rtp ? media.learned_rtp : media.learned_rtcp) = event->source;
                // The stream toward this side: RTP from the other side's RTP
                // port; RTCP from its RTCP port (or its RTP port when muxed).
                stream_rule update;
                update.destination = event->source;
                if (is_rtp) {
                    update.stream_id = other.rtp_stream;
                    update.local_port = other.local_port;
                } else {
                    update.stream_id = other.rtcp_stream;
                    update.local_port = static_cast<std::uint16_t>(other.local_port + 1);
                }
                std::vector<relay_command> updates{{relay_command::kind::set_destination, update}};
                if (is_rtp && media.rtcp_mux) {
                    // This side muxes: RTCP toward it (from the other side's
                    // RTCP port, when that side does not mux) follows its RTP.
                    stream_rule rtcp = update;
                    rtcp.stream_id = other.rtcp_stream;
                    rtcp.local_port = static_cast<std::uint16_t>(other.local_port + 1);
                    updates.push_back({relay_command::kind::set_destination, rtcp});
                }
                if (is_rtcp && other.rtcp_mux && !media.rtcp_mux) {
                    // Asymmetric rtcp-mux: the other side's muxed RTCP comes
                    // to this side through its RTP rule's RTCP destination.
                    stream_rule rtcp;
                    rtcp.stream_id = other.rtp_stream;
                    rtcp.local_port = other.local_port;
                    rtcp.rtcp_destination = event->source;
                    updates.push_back({relay_command::kind::set_rtcp_destination, rtcp});
                }
                for (const auto& command : updates) {
                    if (!workers_.send(command)) {
                        ++totals_.commands_dropped;
                    }
                }
            }
        }
    }

    // Timeouts and delayed deletes: whole seconds, so one scan of every
    // call (and its streams' statistics) a second is enough, however often
    // the control thread ticks.
    const auto now_ns = time_.now_ns();
    if (last_timeout_scan_ns_ != 0 && now_ns - last_timeout_scan_ns_ < ns_per_s) {
        return;
    }
    last_timeout_scan_ns_ = now_ns;
    for (auto found = calls_.begin(); found != calls_.end();) {
        call& session = *found->second;
        auto current = found++;
        if (session.delete_at_ns != 0 && now_ns >= session.delete_at_ns) {
            destroy(current);
            continue;
        }
        if (settings_.final_timeout_s != 0 &&
            now_ns - session.created_ns >= static_cast<std::int64_t>(settings_.final_timeout_s) * ns_per_s) {
            ++totals_.sessions_final_timed_out;
            destroy(current);
            continue;
        }
        std::int64_t last_activity = session.last_signal_ns;
        bool on_hold = false;
        for (const auto& side : session.sides) {
            for (const auto& media : side.media) {
                if (!media.active) {
                    continue;
                }
                on_hold = on_hold || media.on_hold;
                for (const auto& [port, id] :
                     {std::pair{media.local_port, media.rtp_stream},
                      std::pair{static_cast<std::uint16_t>(media.local_port + 1), media.rtcp_stream}}) {
                    if (const auto stats = workers_.stats(port, id)) {
                        last_activity = std::max(last_activity, stats->last_packet_ns);
                    }
                }
            }
        }
        const auto limit_s = on_hold ? settings_.silent_timeout_s : settings_.timeout_s;
        if (limit_s != 0 && now_ns - last_activity >= static_cast<std::int64_t>(limit_s) * ns_per_s) {
            ++(on_hold ? totals_.sessions_silent_timed_out : totals_.sessions_timed_out);
            destroy(current);
        }
    }
}

}  // namespace tandem::media
