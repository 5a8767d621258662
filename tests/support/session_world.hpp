// SessionWorld: what a CallSession runs against in a test, real wherever it can be: an
// application server on loopback, the libcurl client, SQLite in a temp dir, a fake clock, and
// a routed number (account, number, application with a status callback). Notifications are
// kept by a fake sink.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/sid.hpp"
#include "http/client.hpp"
#include "http/form.hpp"
#include "store/sqlite_store.hpp"
#include "support/app_server.hpp"
#include "support/fake_clock.hpp"
#include "support/fake_notification_sink.hpp"
#include "support/temp_dir.hpp"
#include "voice/call_session.hpp"
#include "voice/document_cache.hpp"

namespace sb::testing {

class SessionWorld {
 public:
  explicit SessionWorld(boost::asio::io_context& io) : client(io.get_executor()) {
    store = std::move(store::SqliteStore::open(dir.file("calls.db")).value());
    route.account.sid = make_sid("AC");
    route.account.auth_token = "0123456789abcdef0123456789abcdef";
    route.number.sid = make_sid("PN");
    route.number.phone_number = "+15005550006";
    route.application.url = server.url("/voice");
    route.application.status_callback = server.url("/status");
    route.application.status_callback_events = {"initiated", "ringing", "answered", "completed"};
    call.call_sid = make_sid("CA");
    call.from = "+14155550100";
    call.to = "1000";
  }

  voice::SessionServices services() { return {{client, notifications, cache, clock}, *store}; }

  // The call's record as the store has it once every queued write is committed.
  store::Call stored(const std::string& call_sid) {
    store->flush();
    auto c = store->find_call(route.account.sid, call_sid);
    return c && c->has_value() ? **c : store::Call{};
  }
  store::Call stored() { return stored(call.call_sid); }

  // CallStatus of every status callback the application got, in order.
  std::vector<std::string> callback_statuses() {
    std::vector<std::string> out;
    for (const auto& r : server.requests_to("/status")) {
      auto form = http::parse_form(r.body);
      out.push_back(std::string(form->get("CallStatus").value_or("")));
    }
    return out;
  }

  TempDir dir;
  AppServer server;
  http::CurlClient client;
  FakeNotificationSink notifications;
  voice::DocumentCache cache;
  FakeClock clock;
  std::unique_ptr<store::SqliteStore> store;
  voice::Route route;
  voice::CallInfo call;
};

}  // namespace sb::testing
