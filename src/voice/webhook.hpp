// One webhook request about a call, as Twilio makes it: the call's parameters by GET (query) or
// POST (form), signed with X-Twilio-Signature, the call's cookies, and the URL's connection
// overrides (#ct, #rt, #tt, #rc, #rp) applied by the client and never sent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/client.hpp"
#include "store/models.hpp"
#include "twiml/call_control.hpp"
#include "voice/cookie_jar.hpp"

namespace sb::voice {

struct WebhookRequest {
  std::string url;  // absolute, may carry an overrides fragment
  std::string method = "POST";
  twiml::Params params;
  std::string auth_token;   // the account's: signs the request
  std::string account_sid;  // whose request; empty: the AccountSid parameter names it
  std::string accept = "text/xml, application/xml, text/html, text/plain, audio/*;q=0.9";
};

// Builds the HTTP request: for GET the parameters join the query, for POST they form the body;
// the signature covers the URL as requested (fragment stripped) and the POST parameters.
http::ClientRequest build_webhook_request(const WebhookRequest& request, CookieJar* cookies);

// "a=1&b=2" from parameters, in order.
std::string encode_params(const twiml::Params& params);

// `ref` resolved against `base` (RFC 3986), e.g. an action "/next" against the document's URL;
// "" when either is not a valid URL. An empty `ref` gives `base` itself.
std::string resolve_url(std::string_view base, std::string_view ref);

// A Notification (the debugger log) about a webhook exchange: code and text, the request's
// method, URL and parameters, and an excerpt of the response when there was one. SID and
// date_created are set; `call_sid` may be empty (a message's).
store::Notification webhook_notification(std::string account_sid, std::string call_sid, int log,
                                         int code, std::string text, const std::string& method,
                                         const std::string& url, const twiml::Params& params,
                                         const http::ClientResponse* response, std::int64_t now);

// What one exchange with an application was (the Call Events resource's row): the request as
// sent, the response when one came (body up to 64 KiB), or the error that ended it. `type` is
// webhook, fallback, action or status_callback; times are Unix milliseconds.
struct Exchange {
  std::string account_sid, call_sid, type;
  const std::string& method;
  const std::string& url;
  const twiml::Params& params;
  const http::ClientResponse* response = nullptr;
  int error_code = 0;
  std::string error_message;
  std::int64_t started_ms = 0;
  std::int64_t ended_ms = 0;
};
store::CallEvent exchange_event(Exchange exchange);

// The host of an absolute URL, lower-case ("" when it has none).
std::string url_host(std::string_view url);

}  // namespace sb::voice
