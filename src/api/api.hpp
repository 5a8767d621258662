// The REST API front: routes a request to its resource handler after authentication and
// scoping, and serves /healthz, /metrics and the demo application's TwiML.
#pragma once

#include <boost/asio.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "api/admin.hpp"
#include "api/context.hpp"
#include "api/rate_limit.hpp"
#include "api/sessions.hpp"
#include "http/server.hpp"
#include "metrics/registry.hpp"

namespace sb::api {

class Api {
 public:
  // `metrics` is what /metrics serves.
  Api(store::Store& store, const Clock& clock, const metrics::Registry& metrics);

  // Serves /v1/* (the eventing API) through `handler`; without one those paths are 404.
  void set_v1_handler(http::Handler handler) { v1_ = std::move(handler); }
  // Serves /console and /console/* (the web console) through `handler`.
  void set_console_handler(http::Handler handler) { console_ = std::move(handler); }
  // The console's sign-in sessions, whose cookie the REST API accepts in place of Basic auth.
  ConsoleSessions& sessions() { return *sessions_; }
  void set_session_limits(SessionLimits limits);
  // Lets Calls/{Sid}.json updates reach live calls.
  void set_call_registry(voice::CallRegistry* calls) { ctx_.calls = calls; }
  // Lets Calls.json create place outbound calls (without one, creating a call is a 503).
  void set_dialer(voice::Dialer* dialer) { ctx_.dialer = dialer; }
  // Lets Conferences and Participants reach live rooms.
  void set_conferences(voice::ConferenceRegistry* rooms) { ctx_.conferences = rooms; }
  // Lets Queues and Members see and dequeue waiting callers.
  void set_queues(voice::QueueRegistry* queues) { ctx_.queues = queues; }
  // Where Messages.json creates are sent from (the SIP side's messaging service).
  void set_message_dispatcher(messaging::MessageDispatcher* messages) { ctx_.messages = messages; }
  // Each account's request budget on /2010-04-01 (api.account_rate; rate 0: no limit).
  void set_rate_limit(double rate, double burst) {
    rate_limit_ = std::make_unique<AccountRateLimit>(rate, burst);
  }
  // Lets /admin/v1/SipBans list and lift the SIP side's bans.
  void set_sip_bans(SipBanList* bans) { sip_bans_ = bans; }
  // SIP/Trunks.json changes reach the call router through this table.
  void set_trunks(voice::TrunkTable* trunks) { ctx_.trunks = trunks; }
  // The digest realm SIP/CredentialLists passwords are hashed under (sip.realm).
  void set_sip_realm(std::string realm) { ctx_.sip_realm = std::move(realm); }
  // Where the recorder writes WAV files: a Recording whose media_path is relative is read from
  // (and deleted in) this directory. Unset, only absolute media paths are served.
  void set_recordings_dir(std::filesystem::path dir) { ctx_.recordings_dir = std::move(dir); }
  // The public base URL (the config's effective public URL, or the bound address) that
  // absolute URLs in responses start with, such as a Recording's media_url; a trailing slash
  // is dropped. Unset, the request's Host header stands in.
  void set_public_url(std::string url);

  asio::awaitable<http::Response> handle(http::Request& req, http::RequestInfo& info);

 private:
  asio::awaitable<http::Response> handle_rest(http::Request& req, http::RequestInfo& info,
                                              std::string_view path, std::string_view query);

  Context ctx_;
  const metrics::Registry& metrics_;
  std::unique_ptr<ConsoleSessions> sessions_;
  http::Handler v1_;
  http::Handler console_;
  SipBanList* sip_bans_ = nullptr;
  std::unique_ptr<AccountRateLimit> rate_limit_;
};

}  // namespace sb::api
