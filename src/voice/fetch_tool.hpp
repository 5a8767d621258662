// `switchboard twiml fetch`: requests an application's URL exactly as a call would (signed
// parameters, fallback, overrides) and reports what the call would do, so users can check
// their application and their signature validation without placing a call.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "http/client.hpp"
#include "store/models.hpp"

namespace sb::voice {

struct FetchToolOptions {
  std::string url;
  std::string method = "POST";
  std::string fallback_url;
  std::string fallback_method = "POST";
  std::string account_sid = "AC00000000000000000000000000000000";
  std::string auth_token;  // signs the requests
  std::string call_sid;    // generated when empty
  std::string from = "+15005550006";
  std::string to = "+15005550001";
  std::vector<std::string> params;  // extra "Key=Value" parameters (Digits=1, …)
};

// What a fetch found: every exchange (primary, fallback) with its request and response, the
// notifications a call would have recorded, and the document's verbs or the failure.
struct FetchReport {
  bool ok = false;
  int error_code = 0;
  std::string error_message;
  std::string url;  // where the document came from
  std::vector<std::string> verbs;
  std::vector<store::CallEvent> exchanges;
  std::vector<store::Notification> notifications;
};

// Fetches as a call's first request would, through `client`, on the caller's executor.
// `options.params` must already be valid Key=Value pairs.
boost::asio::awaitable<FetchReport> fetch_report(http::HttpClient& client,
                                                 FetchToolOptions options);

// Prints the verbs and every diagnostic or failure; returns 0 when a document was obtained,
// 1 when the call would hear the application-error message, 2 for bad options.
int fetch_tool(const FetchToolOptions& options, std::ostream& out);

}  // namespace sb::voice
