#include "signaling/sip/sip_stack.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <cctype>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string_view>
#include <unordered_set>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/url.h>

#include "signaling/sip/trace_counter.hpp"

namespace tandem::sip {

namespace {

constexpr su_duration_t stop_poll_interval_ms = 100;

std::string url_text(const url_t* url) {
    if (url == nullptr) {
        return {};
    }
    su_home_t home[1] = {SU_HOME_INIT(home)};
    std::string text;
    if (char* encoded = url_as_string(home, url)) {
        text = encoded;
    }
    su_home_deinit(home);
    return text;
}

// "SIP/2.0/UDP" -> "udp".
std::string via_transport(const sip_t* sip) {
    if (sip == nullptr || sip->sip_via == nullptr || sip->sip_via->v_protocol == nullptr) {
        return {};
    }
    std::string_view protocol(sip->sip_via->v_protocol);
    const auto slash = protocol.rfind('/');
    if (slash != std::string_view::npos) {
        protocol.remove_prefix(slash + 1);
    }
    std::string lowered(protocol);
    for (char& c : lowered) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return lowered;
}

std::string source_address(nua_t* nua) {
    msg_t* request = nua_current_request(nua);
    if (request == nullptr) {
        return {};
    }
    const su_addrinfo_t* info = msg_addrinfo(request);
    if (info == nullptr || info->ai_addr == nullptr || info->ai_addrlen == 0) {
        return {};
    }
    char host[NI_MAXHOST];
    char port[NI_MAXSERV];
    if (::getnameinfo(info->ai_addr, static_cast<socklen_t>(info->ai_addrlen), host, sizeof(host), port,
                      sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        return {};
    }
    const std::string_view host_view(host);
    const bool ipv6 = host_view.find(':') != std::string_view::npos;
    return (ipv6 ? "[" + std::string(host_view) + "]" : std::string(host_view)) + ":" + port;
}

incoming_request make_request(nua_t* nua, const sip_t* sip) {
    incoming_request request;
    if (sip == nullptr) {
        return request;
    }
    if (sip->sip_request != nullptr) {
        if (sip->sip_request->rq_method_name != nullptr) {
            request.method = sip->sip_request->rq_method_name;
        }
        request.request_uri = url_text(sip->sip_request->rq_url);
    }
    if (sip->sip_from != nullptr) {
        request.from_uri = url_text(sip->sip_from->a_url);
    }
    if (sip->sip_to != nullptr) {
        request.to_uri = url_text(sip->sip_to->a_url);
    }
    if (sip->sip_call_id != nullptr && sip->sip_call_id->i_id != nullptr) {
        request.call_id = sip->sip_call_id->i_id;
    }
    request.transport = via_transport(sip);
    request.source = source_address(nua);
    return request;
}

// Where su_log output goes. tport's message trace (switched on with
// TPTAG_LOG) feeds the SIP counters and is logged at trace level; the rest is
// Sofia's diagnostics. Sofia logs from its stack thread and, rarely, from the
// root thread, hence the mutex (uncontended: a few lines per message).
struct sofia_log_sink {
    sofia_log_sink(log::logger_ptr log, sip_counters& counters) : logger(std::move(log)), trace(counters) {}

    std::mutex mutex;
    log::logger_ptr logger;
    trace_counter trace;
    // Cleared when nua could not be destroyed: its thread may still log
    // after the counters are gone.
    bool counting = true;
};

// Cost: one vsnprintf into a stack buffer per trace line, about 15 lines per
// SIP message; the trace-level log call is skipped unless that level is on.
void sofia_log_line(void* stream, const char* format, va_list arguments) {
    auto* sink = static_cast<sofia_log_sink*>(stream);
    if (sink == nullptr || format == nullptr) {
        return;
    }
    char line[1024];
    // Used once, so no va_copy: the caller (su_log) owns va_start/va_end.
    const int length = std::vsnprintf(line, sizeof(line), format, arguments);
    if (length < 0) {
        return;
    }
    std::string_view text(line, std::min<std::size_t>(static_cast<std::size_t>(length), sizeof(line) - 1));
    bool traced = false;
    {
        const std::lock_guard<std::mutex> lock(sink->mutex);
        traced = sink->counting && sink->trace.feed(format, text);
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    if (text.empty()) {
        return;
    }
    if (traced) {
        sink->logger->trace("{}", text);
    } else {
        sink->logger->info("{}", text);
    }
}

}  // namespace

struct sip_stack::impl {
    impl(request_handler& request_handler_ref, log::logger_ptr log)
        : handler(request_handler_ref), logger(std::move(log)) {}

    ~impl() { release(); }
    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;

    request_handler& handler;
    log::logger_ptr logger;
    // Heap-allocated so a nua that cannot be destroyed can keep logging into
    // it after the stack is gone (it is leaked with the rest of Sofia then).
    std::unique_ptr<sofia_log_sink> log_sink;
    stack_options options;
    std::vector<listen_group> groups;

    bool su_ready = false;
    su_root_t* root = nullptr;
    nua_t* nua = nullptr;
    const std::atomic<bool>* stop_requested = nullptr;

    bool shutdown_started = false;
    bool shutdown_complete = false;
    // A nua handle that completed its shutdown wait is unsafe to destroy
    // around (nua_destroy refuses); then Sofia's memory is left to the exit.
    bool leaked = false;

    // Handles nua created for incoming INVITEs: ours to destroy once the
    // call state reaches "terminated", after the rejection went out.
    std::unordered_set<nua_handle_t*> invite_handles;

    static void on_event(nua_event_t event, int status, const char* phrase, nua_t* nua, nua_magic_t* magic,
                         nua_handle_t* nh, nua_hmagic_t* /*hmagic*/, const sip_t* sip, tagi_t tags[]) {
        static_cast<impl*>(magic)->dispatch(event, status, phrase, nua, nh, sip, tags);
    }

    static void on_poll_timer(su_root_magic_t* magic, su_timer_t* /*timer*/, su_timer_arg_t* /*arg*/) {
        auto* self = static_cast<impl*>(static_cast<void*>(magic));
        if (self->stop_requested != nullptr && self->stop_requested->load()) {
            su_root_break(self->root);
        }
    }

    void dispatch(nua_event_t event, int status, const char* phrase, nua_t* stack, nua_handle_t* nh,
                  const sip_t* sip, tagi_t tags[]) {
        switch (event) {
            case nua_r_shutdown:
                logger->debug("nua shutdown: {} {}", status, phrase ? phrase : "");
                if (status >= 200) {
                    shutdown_complete = true;
                }
                return;
            case nua_i_invite:
                on_invite(status, stack, nh, sip);
                return;
            case nua_i_state:
            case nua_i_terminated: {
                int call_state = -1;
                tl_gets(tags, NUTAG_CALLSTATE_REF(call_state), TAG_END());
                if (event == nua_i_terminated || call_state == nua_callstate_terminated) {
                    release_invite_handle(nh);
                }
                return;
            }
            case nua_i_error:
                logger->warn("nua error: {} {}", status, phrase ? phrase : "");
                return;
            default:
                break;
        }
        if (nua_event_is_incoming_request(event) != 0) {
            on_other_request(event, status, stack, nh, sip);
            return;
        }
        logger->trace("nua event {} {} {}", nua_event_name(event), status, phrase ? phrase : "");
    }

    void on_invite(int status, nua_t* stack, nua_handle_t* nh, const sip_t* sip) {
        // Counting happens on the wire (trace_counter), including nua's own 100 Trying.
        const incoming_request request = make_request(stack, sip);
        if (status >= 200) {
            // nua rejected it already (bad Require, in-dialog rules...).
            logger->info("INVITE {} from {}: answered {} by the stack", request.call_id, request.source,
                         status);
            nua_handle_destroy(nh);
            return;
        }
        const final_response answer = handler.on_invite(request);
        const int code = answer.status >= 300 && answer.status <= 699 ? answer.status : 500;
        const std::string retry_after = answer.retry_after_s > 0 ? std::to_string(answer.retry_after_s) : "";
        invite_handles.insert(nh);
        nua_respond(nh, code, answer.reason.empty() ? nullptr : answer.reason.c_str(),
                    TAG_IF(!retry_after.empty(), SIPTAG_RETRY_AFTER_STR(retry_after.c_str())), TAG_END());
        logger->info("INVITE {} {} -> {} from {} over {}: {} {}", request.call_id, request.from_uri,
                     request.request_uri, request.source, request.transport, code, answer.reason);
    }

    void on_other_request(nua_event_t event, int status, nua_t* stack, nua_handle_t* nh, const sip_t* sip) {
        const incoming_request request = make_request(stack, sip);
        const std::string method = request.method.empty() ? nua_event_name(event) : request.method;
        int answered = status;
        if (answered < 200) {
            // Should not happen with our Allow list; never leave a client hanging.
            answered = 501;
            nua_respond(nh, 501, "Not Implemented", NUTAG_WITH_THIS(stack), TAG_END());
        }
        handler.on_answered(request, answered);
        logger->debug("{} {} from {} over {}: {}", method, request.call_id, request.source, request.transport,
                      answered);
        // In-dialog requests (CANCEL, ACK, BYE) arrive on an INVITE's handle,
        // which stays ours until its call terminates; out-of-dialog ones get a
        // handle of their own that nobody else will release.
        if (nh != nullptr && nh != nua_default(stack) && invite_handles.count(nh) == 0) {
            nua_handle_destroy(nh);
        }
    }

    void release_invite_handle(nua_handle_t* nh) {
        if (nh != nullptr && invite_handles.erase(nh) > 0) {
            logger->trace("INVITE handle released ({} pending)", invite_handles.size());
            nua_handle_destroy(nh);
        }
    }

    void shutdown() {
        if (nua == nullptr || shutdown_started) {
            return;
        }
        shutdown_started = true;
        nua_shutdown(nua);
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(options.shutdown_timeout_ms);
        while (!shutdown_complete && std::chrono::steady_clock::now() < deadline) {
            su_root_step(root, stop_poll_interval_ms);
        }
        if (!shutdown_complete) {
            logger->error("nua did not finish shutting down within {} ms; leaving it to process exit",
                          options.shutdown_timeout_ms);
            leaked = true;
            return;
        }
        for (nua_handle_t* nh : invite_handles) {
            nua_handle_destroy(nh);
        }
        invite_handles.clear();
        nua_destroy(nua);
        nua = nullptr;
    }

    void release() {
        shutdown();
        if (leaked) {
            if (log_sink) {
                const std::lock_guard<std::mutex> lock(log_sink->mutex);
                log_sink->counting = false;
            }
            static_cast<void>(log_sink.release());
            return;
        }
        if (root != nullptr) {
            su_root_destroy(root);
            root = nullptr;
        }
        if (su_ready) {
            su_log_redirect(nullptr, nullptr, nullptr);
            su_deinit();
            su_ready = false;
        }
    }
};

sip_stack::sip_stack(std::unique_ptr<impl> state) : impl_(std::move(state)) {}

sip_stack::~sip_stack() = default;

const std::vector<listen_group>& sip_stack::listeners() const {
    return impl_->groups;
}

void sip_stack::shutdown() {
    impl_->shutdown();
}

result<std::unique_ptr<sip_stack>> sip_stack::start(const stack_options& options, request_handler& handler,
                                                    sip_counters& counters, log::logger_ptr logger) {
    auto groups = group_listeners(options.listen);
    if (!groups) {
        return groups.failure();
    }
    auto state = std::make_unique<impl>(handler, std::move(logger));
    state->options = options;
    state->groups = std::move(groups.value());

    if (su_init() != 0) {
        return make_error("sip: su_init failed");
    }
    state->su_ready = true;
    state->log_sink = std::make_unique<sofia_log_sink>(
        options.sofia_logger ? options.sofia_logger : state->logger->clone("sofia"), counters);
    // su_log's default log is process-wide: one sip_stack per process.
    su_log_redirect(nullptr, sofia_log_line, state->log_sink.get());

    state->root = su_root_create(static_cast<su_root_magic_t*>(static_cast<void*>(state.get())));
    if (state->root == nullptr) {
        return make_error("sip: su_root_create failed");
    }

    const std::string& first_url = state->groups[0].url;
    const std::string second_url = state->groups.size() > 1 ? state->groups[1].url : std::string();
    // NUTAG_SIPS_URL only names a second bind URL here; its "sip:" scheme keeps
    // it a plain SIP listener. Both must bind or nua_create fails.
    // SIPTAG_ALLOW(SIP_NONE) drops nua's default Allow list (it includes
    // MESSAGE, SUBSCRIBE, REFER...) before NUTAG_ALLOW sets ours.
    // TPTAG_LOG (passed through nua to nta's transports) turns on tport's
    // message trace: the only place Sofia 1.12.11 shows every request it
    // answers by itself (405, 501, 481, 416, 420, nta's 400/482/483), so that
    // is where the SIP counters count. See trace_counter.hpp.
    state->nua =
        nua_create(state->root, &impl::on_event, state.get(), NUTAG_URL(URL_STRING_MAKE(first_url.c_str())),
                   TAG_IF(!second_url.empty(), NUTAG_SIPS_URL(URL_STRING_MAKE(second_url.c_str()))),
                   NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOANSWER(0), NUTAG_AUTOALERT(0), NUTAG_AUTOACK(0),
                   NUTAG_ENABLEMESSAGE(0), SIPTAG_ALLOW(static_cast<const sip_allow_t*>(SIP_NONE)),
                   NUTAG_ALLOW(allowed_methods), SIPTAG_ACCEPT_STR("application/sdp"), TPTAG_LOG(1),
                   SIPTAG_USER_AGENT_STR(options.user_agent.c_str()), TAG_END());
    if (state->nua == nullptr) {
        std::string urls = first_url + (second_url.empty() ? "" : " and " + second_url);
        return make_error("sip: cannot listen on " + urls +
                          " (address not local, port in use, or no permission)");
    }
    return std::unique_ptr<sip_stack>(new sip_stack(std::move(state)));
}

void sip_stack::run(const std::atomic<bool>& stop_requested) {
    impl& state = *impl_;
    if (state.root == nullptr || state.nua == nullptr) {
        return;
    }
    state.stop_requested = &stop_requested;
    su_timer_t* poll_timer = su_timer_create(su_root_task(state.root), stop_poll_interval_ms);
    if (poll_timer == nullptr) {
        state.logger->error("sip: su_timer_create failed; cannot watch for stop requests");
        return;
    }
    su_timer_set_for_ever(poll_timer, &impl::on_poll_timer, nullptr);
    su_root_run(state.root);
    su_timer_destroy(poll_timer);
    state.stop_requested = nullptr;
}

}  // namespace tandem::sip
