#pragma once
// The data plane's ng request handler (rtpengine's control protocol): one
// request dict in, one reply dict out, run on the control thread by
// ng::server. Today it answers `ping` with {result: pong}; offer, answer,
// delete and the rest arrive with the media sessions. Unknown commands get
// rtpengine's error shape, {result: error, error-reason: "unknown command"}.

#include "gateway/ng/bencode.hpp"
#include "gateway/ng/ng_server.hpp"

namespace tandem::dataplane::control {

ng::value handle_request(const ng::value& request, const ng::request_context& context);

// handle_request as the callable ng::server::bind takes.
ng::request_handler make_request_handler();

}  // namespace tandem::dataplane::control
