// The web console, served by the daemon at /console/: the embedded single-page app and the few
// endpoints only it needs under /console/api/ — sign-in sessions (an HttpOnly SameSite=Strict
// cookie and a CSRF token; the REST API and /v1 then accept the cookie, see api/sessions.hpp),
// the live-calls snapshot, the last hour of the daemon's figures (and a Server-Sent Events
// stream of them), TwiML lint and "test this URL". Everything else the console shows comes
// from the public API, so the console can do nothing a REST client cannot.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>

#include "api/sessions.hpp"
#include "console/history.hpp"
#include "core/time.hpp"
#include "events/service.hpp"
#include "http/server.hpp"
#include "store/store.hpp"
#include "voice/call_registry.hpp"

namespace sb::console {

namespace asio = boost::asio;

struct ConsoleDeps {
  store::Store& store;
  const Clock& clock;
  api::ConsoleSessions& sessions;
  voice::CallRegistry* calls = nullptr;
  MetricsHistory* history = nullptr;
  // The event router, whose `calls` channel the live page streams (made here when missing).
  events::EventService* events = nullptr;
  std::function<bool()> stopping;  // true once the daemon drains: streams end
  bool secure_cookie = false;      // the console is reached over HTTPS
};

class Console {
 public:
  explicit Console(ConsoleDeps deps) : deps_(std::move(deps)) {}

  // Everything under /console.
  asio::awaitable<http::Response> handle(http::Request& req, http::RequestInfo& info);

 private:
  http::Response asset(const http::Request& req, std::string_view name, http::RequestInfo& info);
  asio::awaitable<http::Response> sign_in(const http::Request& req, http::RequestInfo& info);
  http::Response session_info(const api::ConsoleSession& session);
  asio::awaitable<http::Response> api_call(http::Request& req, http::RequestInfo& info,
                                           std::string_view what, std::string_view query);

  ConsoleDeps deps_;
};

// The headers every console response carries: the content security policy (no inline script
// or style, nothing from other origins), no sniffing, no referrer, no framing.
void add_security_headers(http::Response& res);

}  // namespace sb::console
