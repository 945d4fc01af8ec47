#include "dataplane/control/ng_handler.hpp"

#include "gateway/ng/ng_message.hpp"

namespace tandem::dataplane::control {

ng::value handle_request(const ng::value& request, const ng::request_context& /*context*/) {
    const auto command = request.find_string("command");
    if (!command) {
        return ng::make_error_reply("missing command");
    }
    if (*command == "ping") {
        return ng::value(ng::dict{{"result", ng::value("pong")}});
    }
    return ng::make_error_reply("unknown command");
}

ng::request_handler make_request_handler() {
    return handle_request;
}

}  // namespace tandem::dataplane::control
