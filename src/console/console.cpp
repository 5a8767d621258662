#include "console/console.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/json.hpp>

#include "api/auth.hpp"
#include "console/assets.hpp"
#include "core/log.hpp"
#include "core/sid.hpp"
#include "http/client.hpp"
#include "http/form.hpp"
#include "twiml/lint.hpp"
#include "voice/fetch_tool.hpp"
#include "voice/routing.hpp"

namespace sb::console {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

constexpr std::size_t kLiveCallsShown = 5000;
using codes::kTooManyRequests;  // Twilio's "Too Many Requests"
constexpr std::string_view kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'";

http::Response json_reply(unsigned status, const json::value& body) {
  http::Response res = http::json_response(status, body);
  res.set(bhttp::field::cache_control, "no-store");
  add_security_headers(res);
  return res;
}

http::Response error_reply(const Error& e) {
  http::Response res = http::error_response(e);
  res.set(bhttp::field::cache_control, "no-store");
  add_security_headers(res);
  return res;
}

http::Response method_not_allowed(std::string_view allow) {
  http::Response res = error_reply(Error{codes::kInvalidParameter, 405, "Method not allowed"});
  res.set(bhttp::field::allow, allow);
  return res;
}

std::string session_cookie_header(std::string_view value, std::int64_t max_age, bool secure) {
  std::string out(api::kSessionCookie);
  out += '=';
  out += value;
  out += "; Path=/; HttpOnly; SameSite=Strict; Max-Age=";
  out += std::to_string(max_age);
  if (secure) out += "; Secure";
  return out;
}

Result<http::Form> form_of(const http::Request& req) { return http::parse_form(req.body()); }

json::object diagnostic_json(const twiml::Diagnostic& d) {
  json::object o;
  o["level"] = d.level == twiml::Level::kError ? "error" : "warning";
  o["code"] = d.code;
  o["line"] = d.line;
  o["column"] = d.column;
  o["message"] = d.message;
  return o;
}

json::value exchange_json(const store::CallEvent& e) {
  json::object request;
  request["url"] = e.request_url;
  request["method"] = e.request_method;
  json::object params;
  if (auto form = http::parse_form(e.request_variables)) {
    for (const auto& [k, v] : form->fields()) params[k] = v;
  }
  request["parameters"] = std::move(params);
  json::object o;
  o["type"] = e.type;
  o["request"] = std::move(request);
  if (e.response_code == 0) {
    o["response"] = nullptr;
  } else {
    json::object response;
    response["status"] = e.response_code;
    response["content_type"] = e.content_type;
    response["headers"] = e.response_headers;
    response["body"] = e.response_body;
    response["duration_ms"] = e.duration_ms;
    o["response"] = std::move(response);
  }
  o["error_code"] = e.error_code;
  o["error_message"] = e.error_message;
  return o;
}

json::object sample_json(const Sample& s) {
  json::object o;
  o["t"] = s.t_ms;
  o["calls_started"] = s.calls_started;
  o["concurrent_calls"] = s.concurrent_calls;
  o["webhook_requests"] = s.webhook_requests;
  o["webhook_errors"] = s.webhook_errors;
  o["webhook_p50_ms"] = s.webhook_p50_ms;
  o["webhook_p99_ms"] = s.webhook_p99_ms;
  return o;
}

// One Server-Sent Events stream of the figures: a sample each second until the client goes,
// the session ends or the daemon drains.
asio::awaitable<void> metrics_stream(http::Stream& stream, MetricsHistory* history,
                                     std::function<bool()> stopping, std::int64_t until_unix,
                                     const Clock* clock) {
  std::string out =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
      "X-Content-Type-Options: nosniff\r\nConnection: keep-alive\r\n\r\nretry: 2000\n\n";
  stream.expires_never();
  boost::system::error_code ec;
  co_await asio::async_write(stream, asio::buffer(out),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::int64_t last_t = history->latest() ? history->latest()->t_ms : 0;
  while (!(stopping && stopping()) && clock->now_unix() < until_unix) {
    timer.expires_after(std::chrono::milliseconds(250));
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    auto latest = history->latest();
    if (!latest || latest->t_ms == last_t) continue;
    last_t = latest->t_ms;
    out = "data: " + json::serialize(sample_json(*latest)) + "\n\n";
    co_await asio::async_write(stream, asio::buffer(out),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

}  // namespace

void add_security_headers(http::Response& res) {
  res.set("Content-Security-Policy", kCsp);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Frame-Options", "DENY");
}

http::Response Console::asset(const http::Request& req, std::string_view name,
                              http::RequestInfo& info) {
  info.route = "/console/assets";
  const Asset* a = find_asset(name);
  if (!a) return error_reply(Error::not_found("No console asset " + std::string(name)));
  http::Response res;
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  if (req[bhttp::field::if_none_match] == a->etag) {
    res.result(bhttp::status::not_modified);
  } else {
    res.result(bhttp::status::ok);
    res.set(bhttp::field::content_type, a->content_type);
    if (req.method() != bhttp::verb::head) res.body() = std::string(a->body);
  }
  res.set(bhttp::field::etag, a->etag);
  // Revalidated each time (a 304 costs a round trip and no bytes): an upgraded daemon serves
  // its own console at once.
  res.set(bhttp::field::cache_control, "no-cache");
  add_security_headers(res);
  res.prepare_payload();
  if (req.method() == bhttp::verb::head) res.content_length(a->body.size());
  return res;
}

http::Response Console::session_info(const api::ConsoleSession& session) {
  json::object o;
  o["account_sid"] = session.account_sid;
  o["acting_account_sid"] = session.acting_sid;
  o["key_sid"] = session.key_sid.empty() ? json::value(nullptr) : json::value(session.key_sid);
  o["csrf_token"] = session.csrf_token;
  o["expires_at"] = session.expires_at;
  json::array accounts;
  auto add = [&accounts](const store::Account& a) {
    json::object row;
    row["sid"] = a.sid;
    row["friendly_name"] = a.friendly_name;
    row["status"] = a.status;
    accounts.push_back(std::move(row));
  };
  if (auto me = deps_.store.find_account(session.account_sid); me && me->has_value()) {
    o["friendly_name"] = (*me)->friendly_name;
    add(**me);
  }
  if (session.key_sid.empty()) {  // an API key acts only as its own account
    store::AccountFilter filter;
    filter.visible_to = session.account_sid;
    store::PageRequest page;
    page.limit = 1000;
    if (auto rows = deps_.store.list_accounts(filter, page)) {
      for (const auto& a : rows->items) {
        if (a.sid != session.account_sid) add(a);
      }
    }
  }
  o["accounts"] = std::move(accounts);
  return json_reply(200, o);
}

asio::awaitable<http::Response> Console::sign_in(const http::Request& req,
                                                 http::RequestInfo& info) {
  const std::string address = info.remote.address().to_string();
  if (const std::int64_t wait = deps_.sessions.blocked_for(address); wait > 0) {
    http::Response res = error_reply(Error{
        kTooManyRequests, 429,
        "Too many failed sign-ins from this address; try again in " + std::to_string(wait) + " s"});
    res.set(bhttp::field::retry_after, std::to_string(wait));
    co_return res;
  }
  auto form = form_of(req);
  if (!form) co_return error_reply(form.error());
  const std::string_view username = form->get("username").value_or("");
  const std::string_view password = form->get("password").value_or("");
  auto principal = api::authenticate_credentials(deps_.store, username, password);
  if (!principal) {
    if (principal.error().status == 401) deps_.sessions.failed(address);
    spdlog::info("console: failed sign-in from {}", address);
    co_return error_reply(principal.error());
  }
  deps_.sessions.succeeded(address);
  api::ConsoleSession session;
  session.account_sid = principal->account.sid;
  session.acting_sid = principal->account.sid;
  if (principal->key) session.key_sid = principal->key->sid;
  const std::string token = deps_.sessions.create(session);
  auto created = deps_.sessions.find(token);
  if (!created) co_return error_reply(Error::internal("session lost"));
  http::Response res = session_info(*created);
  res.set(bhttp::field::set_cookie,
          session_cookie_header(token, deps_.sessions.ttl_s(), deps_.secure_cookie));
  spdlog::info("console: {} signed in from {}", session.account_sid, address);
  co_return res;
}

asio::awaitable<http::Response> Console::handle(http::Request& req, http::RequestInfo& info) {
  const std::string_view target = req.target();
  const auto qmark = target.find('?');
  const std::string_view path = target.substr(0, qmark);
  const std::string_view query =
      qmark == std::string_view::npos ? std::string_view() : target.substr(qmark + 1);
  const auto method = req.method();
  const bool read = method == bhttp::verb::get || method == bhttp::verb::head;

  if (path == "/console") {
    info.route = "/console";
    http::Response res(bhttp::status::moved_permanently, req.version());
    res.set(bhttp::field::location, "/console/");
    add_security_headers(res);
    res.prepare_payload();
    co_return res;
  }
  if (path == "/console/" || path == "/console/index.html") {
    if (!read) co_return method_not_allowed("GET, HEAD");
    co_return asset(req, "index.html", info);
  }
  constexpr std::string_view kAssets = "/console/assets/";
  if (path.substr(0, kAssets.size()) == kAssets) {
    if (!read) co_return method_not_allowed("GET, HEAD");
    co_return asset(req, path.substr(kAssets.size()), info);
  }
  constexpr std::string_view kApi = "/console/api/";
  if (path.substr(0, kApi.size()) != kApi) {
    info.route = "/console/unmatched";
    co_return error_reply(Error::not_found("No console page " + std::string(path)));
  }
  co_return co_await api_call(req, info, path.substr(kApi.size()), query);
}

asio::awaitable<http::Response> Console::api_call(http::Request& req, http::RequestInfo& info,
                                                  std::string_view what, std::string_view query) {
  const auto method = req.method();
  info.route = "/console/api/" + std::string(what);
  if (what == "session" && method == bhttp::verb::post) {
    co_return co_await sign_in(req, info);
  }
  if (what != "session" && what != "session/account" && what != "live" && what != "metrics" &&
      what != "metrics/stream" && what != "lint" && what != "test-url") {
    info.route = "/console/api/unmatched";
    co_return error_reply(Error::not_found("No console endpoint " + std::string(what)));
  }

  // Everything else needs the session (or Basic credentials) and, to change anything, the
  // session's CSRF token.
  auto principal = api::authenticate(deps_.store, req, &deps_.sessions);
  if (!principal) co_return error_reply(principal.error());
  const std::string_view cookie = api::session_cookie(req[bhttp::field::cookie]);

  if (what == "session") {
    if (method == bhttp::verb::get) {
      auto session = deps_.sessions.find(cookie);
      if (!session) {
        co_return error_reply(Error{codes::kAuthenticationFailed, 401, "No console session"});
      }
      co_return session_info(*session);
    }
    if (method == bhttp::verb::delete_) {
      deps_.sessions.revoke(cookie);
      http::Response res(bhttp::status::no_content, req.version());
      res.set(bhttp::field::set_cookie, session_cookie_header("", 0, deps_.secure_cookie));
      add_security_headers(res);
      res.prepare_payload();
      co_return res;
    }
    co_return method_not_allowed("GET, POST, DELETE");
  }

  if (what == "session/account") {
    if (method != bhttp::verb::post) co_return method_not_allowed("POST");
    auto session = deps_.sessions.find(cookie);
    if (!session) {
      co_return error_reply(Error{codes::kAuthenticationFailed, 401, "No console session"});
    }
    auto form = form_of(req);
    if (!form) co_return error_reply(form.error());
    const std::string sid(form->get("AccountSid").value_or(""));
    // The signed-in principal decides, not the account acted as now.
    auto signed_in = deps_.store.find_account(session->account_sid);
    if (!signed_in || !signed_in->has_value()) {
      co_return error_reply(Error{codes::kAuthenticationFailed, 401, "No console session"});
    }
    api::Principal who{**signed_in, std::nullopt};
    if (!session->key_sid.empty()) {
      auto key = deps_.store.find_api_key_by_sid(session->key_sid);
      if (key && key->has_value()) who.key = **key;
    }
    auto target = api::resolve_scope(deps_.store, who, sid, "/console/api/session/account");
    if (!target) co_return error_reply(target.error());
    deps_.sessions.set_acting(cookie, target->sid);
    auto updated = deps_.sessions.find(cookie);
    if (!updated) {
      co_return error_reply(Error{codes::kAuthenticationFailed, 401, "No console session"});
    }
    co_return session_info(*updated);
  }

  if (what == "live") {
    if (method != bhttp::verb::get) co_return method_not_allowed("GET");
    auto params = http::parse_form(query);
    if (!params) co_return error_reply(params.error());
    std::string account = principal->account.sid;
    if (auto sid = params->get("AccountSid"); sid && !sid->empty()) {
      auto target = api::resolve_scope(deps_.store, *principal, *sid, "/console/api/live");
      if (!target) co_return error_reply(target.error());
      account = target->sid;
    }
    // The live page streams the account's `calls` channel: the platform makes it at the first
    // call event, and here, so that the stream opens before any call.
    if (deps_.events && !deps_.events->find_channel(account, "calls")) {
      auto made = co_await deps_.events->create_channel(account, "calls", json::value());
      if (!made && !deps_.events->find_channel(account, "calls")) {
        spdlog::warn("console: calls channel for {}: {}", account, made.error().message);
      }
    }
    json::array calls;
    if (deps_.calls) {
      for (const voice::LiveCall& c : deps_.calls->snapshot(account, kLiveCallsShown)) {
        json::object o;
        o["sid"] = c.call_sid;
        o["account_sid"] = c.account_sid;
        o["from"] = c.from;
        o["to"] = c.to;
        o["direction"] = c.direction;
        o["status"] = c.status;
        o["start_time_ms"] = c.start_ms;
        o["answer_time_ms"] = c.answer_ms ? json::value(c.answer_ms) : json::value(nullptr);
        o["current_verb"] = c.verb;
        o["parent_call_sid"] = c.parent_call_sid;
        calls.push_back(std::move(o));
      }
    }
    json::object out;
    out["calls"] = std::move(calls);
    out["now_ms"] = deps_.clock.now_ms();
    co_return json_reply(200, out);
  }

  if (what == "metrics") {
    if (method != bhttp::verb::get) co_return method_not_allowed("GET");
    json::array samples;
    if (deps_.history) {
      for (const Sample& s : deps_.history->samples()) samples.push_back(sample_json(s));
    }
    json::object out;
    out["interval_ms"] = 1000;
    out["samples"] = std::move(samples);
    co_return json_reply(200, out);
  }

  if (what == "metrics/stream") {
    if (method != bhttp::verb::get) co_return method_not_allowed("GET");
    if (!deps_.history) co_return error_reply(Error::not_found("No figures are kept"));
    auto session = deps_.sessions.find(cookie);
    const std::int64_t until =
        session ? session->expires_at : deps_.clock.now_unix() + deps_.sessions.ttl_s();
    info.takeover = [history = deps_.history, stopping = deps_.stopping, until,
                     clock = &deps_.clock](http::Stream& stream, boost::beast::flat_buffer&,
                                           http::Request) {
      return metrics_stream(stream, history, stopping, until, clock);
    };
    co_return http::Response(bhttp::status::ok, req.version());
  }

  if (what == "lint") {
    if (method != bhttp::verb::post) co_return method_not_allowed("POST");
    auto form = form_of(req);
    if (!form) co_return error_reply(form.error());
    const std::string_view dialect = form->get("dialect").value_or("voice");
    if (dialect != "voice" && dialect != "messaging") {
      co_return error_reply(
          Error::bad_request(codes::kInvalidParameter, "dialect must be voice or messaging"));
    }
    const auto diagnostics = twiml::lint_text(
        form->get("twiml").value_or(""),
        dialect == "messaging" ? twiml::Dialect::kMessaging : twiml::Dialect::kVoice);
    json::array list;
    bool ok = true;
    for (const auto& d : diagnostics) {
      ok = ok && d.level != twiml::Level::kError;
      list.push_back(diagnostic_json(d));
    }
    json::object out;
    out["ok"] = ok;
    out["diagnostics"] = std::move(list);
    co_return json_reply(200, out);
  }

  // test-url
  if (method != bhttp::verb::post) co_return method_not_allowed("POST");
  auto form = form_of(req);
  if (!form) co_return error_reply(form.error());
  std::string account_sid(form->get("AccountSid").value_or(principal->account.sid));
  auto target = api::resolve_scope(deps_.store, *principal, account_sid, "/console/api/test-url");
  if (!target) co_return error_reply(target.error());
  voice::FetchToolOptions options;
  options.account_sid = target->sid;
  options.auth_token = target->auth_token;
  if (auto pn = form->get("PhoneNumberSid"); pn && !pn->empty()) {
    auto number = deps_.store.find_number(target->sid, *pn);
    if (!number) co_return error_reply(number.error());
    if (!number->has_value()) {
      co_return error_reply(Error::not_found("No number " + std::string(*pn) + " in this account"));
    }
    auto route = voice::route_call(deps_.store, (*number)->phone_number);
    if (!route) co_return error_reply(route.error());
    if (!route->route || route->route->number.sid != (*number)->sid) {
      co_return error_reply(Error::bad_request(
          codes::kInvalidParameter, "The number has no voice URL and no application to test"));
    }
    const voice::VoiceApplication& app = route->route->application;
    options.url = app.url;
    options.method = app.method;
    options.fallback_url = app.fallback_url;
    options.fallback_method = app.fallback_method;
    options.to = (*number)->phone_number;
  } else {
    options.url = std::string(form->get("Url").value_or(""));
    options.method = std::string(form->get("Method").value_or("POST"));
    if (options.method != "GET" && options.method != "POST") {
      co_return error_reply(
          Error::bad_request(codes::kInvalidParameter, "Method must be GET or POST"));
    }
  }
  if (options.url.empty()) {
    co_return error_reply(
        Error::bad_request(codes::kInvalidParameter, "Give PhoneNumberSid, or Url and Method"));
  }
  // Named locals: GCC 12 mishandles temporaries (a default argument included) in coroutines.
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  http::ClientOptions client_options;
  http::CurlClient client(executor, client_options);
  voice::FetchReport report = co_await voice::fetch_report(client, options);

  json::object out;
  const store::CallEvent* primary = nullptr;
  const store::CallEvent* fallback = nullptr;
  for (const auto& e : report.exchanges) {
    if (e.type == "fallback") {
      fallback = &e;
    } else if (!primary) {
      primary = &e;
    }
  }
  out["primary"] = primary ? exchange_json(*primary) : json::value(nullptr);
  out["fallback"] = fallback ? exchange_json(*fallback) : json::value(nullptr);
  json::array notes;
  for (const auto& n : report.notifications) {
    json::object d;
    d["level"] = n.log == 0 ? "error" : "warning";
    d["code"] = n.error_code;
    d["message"] = n.message_text;
    d["url"] = n.request_url;
    notes.push_back(std::move(d));
  }
  out["diagnostics"] = std::move(notes);
  json::array verbs;
  for (const auto& v : report.verbs) verbs.emplace_back(v);
  out["verbs"] = std::move(verbs);
  out["ok"] = report.ok;
  if (report.ok) {
    out["error"] = nullptr;
  } else {
    json::object err;
    err["code"] = report.error_code;
    err["message"] = report.error_message;
    out["error"] = std::move(err);
  }
  co_return json_reply(200, out);
}

}  // namespace sb::console
