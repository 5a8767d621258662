// The web console's server side: the embedded app served with its security headers and ETags,
// sign-in (same answer for an unknown user and a wrong password, a limit per address), the
// session's CSRF token, sign-out, switching to a subaccount, lint; and the figures' history.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include "api/api.hpp"
#include "console/assets.hpp"
#include "console/console.hpp"
#include "core/sid.hpp"
#include "store/cached_store.hpp"
#include "store/sqlite_store.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace sb::console {
namespace {

namespace bhttp = boost::beast::http;
namespace asio = boost::asio;

asio::awaitable<void> run(Console& c, http::Request& req, http::RequestInfo& info,
                          http::Response& out) {
  out = co_await c.handle(req, info);
}

class ConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sqlite_ = std::move(store::SqliteStore::open(dir_.file("console.db")).value());
    store_ = std::move(store::CachedStore::open(*sqlite_).value());
    api_ = std::make_unique<api::Api>(*store_, clock_, metrics_);
    api_->set_session_limits({.ttl_s = 600, .max_failures = 3});
    main_ = add_account("");
    sub_ = add_account(main_.sid);
    other_ = add_account("");
    console_ = std::make_unique<Console>(
        ConsoleDeps{.store = *store_, .clock = clock_, .sessions = api_->sessions()});
  }

  store::Account add_account(const std::string& owner) {
    store::Account a;
    a.sid = make_sid("AC");
    a.owner_sid = owner;
    a.friendly_name = "<b>" + a.sid + "</b>";
    a.auth_token = make_sid("XX").substr(2);
    a.date_created = a.date_updated = clock_.now_unix();
    EXPECT_TRUE(store_->write_sync(store::InsertAccount{a}));
    return a;
  }

  http::Response send(bhttp::verb verb, const std::string& target, const std::string& body = "",
                      const std::string& csrf = "", const std::string& if_none_match = "") {
    http::Request req{verb, target, 11};
    if (!cookie_.empty()) req.set(bhttp::field::cookie, "sb_console=" + cookie_);
    if (!csrf.empty()) req.set("X-CSRF-Token", csrf);
    if (!if_none_match.empty()) req.set(bhttp::field::if_none_match, if_none_match);
    if (!body.empty()) req.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
    req.body() = body;
    req.prepare_payload();
    http::RequestInfo info;
    info.remote = asio::ip::tcp::endpoint(asio::ip::make_address(remote_), 40000);
    asio::io_context io;
    http::Response res;
    asio::co_spawn(io, run(*console_, req, info, res), asio::detached);
    io.run();
    return res;
  }

  static boost::json::object json(const http::Response& res) {
    return boost::json::parse(res.body()).as_object();
  }

  // Signs in; keeps the cookie; returns the CSRF token.
  std::string sign_in(const store::Account& a) {
    auto res = send(bhttp::verb::post, "/console/api/session",
                    "username=" + a.sid + "&password=" + a.auth_token);
    EXPECT_EQ(res.result_int(), 200) << res.body();
    const std::string set_cookie(res[bhttp::field::set_cookie]);
    const auto eq = set_cookie.find('=');
    cookie_ = set_cookie.substr(eq + 1, set_cookie.find(';') - eq - 1);
    return std::string(json(res)["csrf_token"].as_string());
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  metrics::Registry metrics_;
  std::unique_ptr<store::SqliteStore> sqlite_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<api::Api> api_;
  std::unique_ptr<Console> console_;
  store::Account main_, sub_, other_;
  std::string cookie_;
  std::string remote_ = "192.0.2.10";
};

TEST_F(ConsoleTest, ServesTheEmbeddedAppWithItsSecurityHeaders) {
  ASSERT_TRUE(find_asset("index.html"));
  ASSERT_TRUE(find_asset("app.js"));
  ASSERT_TRUE(find_asset("app.css"));
  auto index = send(bhttp::verb::get, "/console/");
  ASSERT_EQ(index.result_int(), 200);
  EXPECT_EQ(index[bhttp::field::content_type], "text/html; charset=utf-8");
  EXPECT_NE(index.body().find("/console/assets/app.js"), std::string::npos);
  const std::string csp(index["Content-Security-Policy"]);
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(index["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(index["X-Frame-Options"], "DENY");
  // No inline script in the page itself: every <script> names a source.
  for (auto at = index.body().find("<script"); at != std::string::npos;
       at = index.body().find("<script", at + 1)) {
    const auto end = index.body().find('>', at);
    EXPECT_NE(index.body().substr(at, end - at).find("src="), std::string::npos);
  }
  const std::string etag(index[bhttp::field::etag]);
  EXPECT_EQ(send(bhttp::verb::get, "/console/", "", "", etag).result_int(), 304);

  auto js = send(bhttp::verb::get, "/console/assets/app.js");
  EXPECT_EQ(js.result_int(), 200);
  EXPECT_EQ(js[bhttp::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ(send(bhttp::verb::get, "/console/assets/nope.js").result_int(), 404);
  EXPECT_EQ(send(bhttp::verb::get, "/console/assets/../index.html").result_int(), 404);
  EXPECT_EQ(send(bhttp::verb::post, "/console/").result_int(), 405);
  auto redirect = send(bhttp::verb::get, "/console");
  EXPECT_EQ(redirect.result_int(), 301);
  EXPECT_EQ(redirect[bhttp::field::location], "/console/");
}

TEST_F(ConsoleTest, SignInSetsAStrictHttpOnlyCookieAndGivesTheCsrfToken) {
  auto res = send(bhttp::verb::post, "/console/api/session",
                  "username=" + main_.sid + "&password=" + main_.auth_token);
  ASSERT_EQ(res.result_int(), 200) << res.body();
  const std::string set_cookie(res[bhttp::field::set_cookie]);
  EXPECT_EQ(set_cookie.rfind("sb_console=", 0), 0u);
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(set_cookie.find("Max-Age=600"), std::string::npos);
  auto o = json(res);
  EXPECT_EQ(o["account_sid"].as_string(), main_.sid);
  EXPECT_EQ(o["csrf_token"].as_string().size(), 64u);
  EXPECT_EQ(o["accounts"].as_array().size(), 2u);  // itself and its subaccount, not other_
  // Neither the token signed in with nor the session's own name is in the body.
  const std::string session = set_cookie.substr(11, set_cookie.find(';') - 11);
  ASSERT_EQ(session.size(), 64u);
  EXPECT_EQ(res.body().find(main_.auth_token), std::string::npos);
  EXPECT_EQ(res.body().find(session), std::string::npos);
}

TEST_F(ConsoleTest, UnknownUserAndWrongPasswordGetTheSameAnswerAndTheAddressIsLimited) {
  auto wrong = send(bhttp::verb::post, "/console/api/session",
                    "username=" + main_.sid + "&password=" + std::string(32, '0'));
  auto unknown = send(bhttp::verb::post, "/console/api/session",
                      "username=" + make_sid("AC") + "&password=" + std::string(32, '0'));
  EXPECT_EQ(wrong.result_int(), 401);
  EXPECT_EQ(unknown.result_int(), 401);
  EXPECT_EQ(wrong.body(), unknown.body());
  EXPECT_TRUE(wrong[bhttp::field::set_cookie].empty());
  // The third failure (max_failures = 3) blocks the address, right credentials included.
  send(bhttp::verb::post, "/console/api/session", "username=SK00&password=x");
  auto blocked = send(bhttp::verb::post, "/console/api/session",
                      "username=" + main_.sid + "&password=" + main_.auth_token);
  EXPECT_EQ(blocked.result_int(), 429);
  EXPECT_EQ(json(blocked)["code"].as_int64(), 20429);
  EXPECT_EQ(blocked[bhttp::field::retry_after], "300");
  remote_ = "192.0.2.11";  // another address is not
  EXPECT_EQ(send(bhttp::verb::post, "/console/api/session",
                 "username=" + main_.sid + "&password=" + main_.auth_token)
                .result_int(),
            200);
}

TEST_F(ConsoleTest, SignOutNeedsTheTokenAndEndsTheSession) {
  const std::string csrf = sign_in(main_);
  EXPECT_EQ(send(bhttp::verb::get, "/console/api/session").result_int(), 200);
  EXPECT_EQ(send(bhttp::verb::delete_, "/console/api/session").result_int(), 403);
  auto out = send(bhttp::verb::delete_, "/console/api/session", "", csrf);
  EXPECT_EQ(out.result_int(), 204);
  EXPECT_NE(std::string(out[bhttp::field::set_cookie]).find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(send(bhttp::verb::get, "/console/api/session").result_int(), 401);
  EXPECT_EQ(send(bhttp::verb::get, "/console/api/live").result_int(), 401);
}

TEST_F(ConsoleTest, SwitchingAccountsStaysWithinTheSignedInAccounts) {
  const std::string csrf = sign_in(main_);
  auto sub =
      send(bhttp::verb::post, "/console/api/session/account", "AccountSid=" + sub_.sid, csrf);
  ASSERT_EQ(sub.result_int(), 200) << sub.body();
  EXPECT_EQ(json(sub)["acting_account_sid"].as_string(), sub_.sid);
  // Back to the main account: the signed-in account decides, not the one acted as.
  EXPECT_EQ(send(bhttp::verb::post, "/console/api/session/account", "AccountSid=" + main_.sid, csrf)
                .result_int(),
            200);
  EXPECT_EQ(
      send(bhttp::verb::post, "/console/api/session/account", "AccountSid=" + other_.sid, csrf)
          .result_int(),
      404);
  EXPECT_EQ(send(bhttp::verb::post, "/console/api/session/account", "AccountSid=" + sub_.sid)
                .result_int(),
            403);
}

TEST_F(ConsoleTest, LintReportsTwimlDiagnosticsWithTheirPosition) {
  const std::string csrf = sign_in(main_);
  auto res = send(bhttp::verb::post, "/console/api/lint",
                  "twiml=" + http::form_encode("<Response>\n  <Say>hi</Sai>\n</Response>"), csrf);
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto o = json(res);
  EXPECT_FALSE(o["ok"].as_bool());
  const auto& d = o["diagnostics"].as_array().at(0).as_object();
  EXPECT_EQ(d.at("code").as_int64(), 12100);
  EXPECT_EQ(d.at("line").as_int64(), 2);
  EXPECT_EQ(d.at("level").as_string(), "error");
  auto messaging = json(send(
      bhttp::verb::post, "/console/api/lint",
      "dialect=messaging&twiml=" + http::form_encode("<Response><Message>hi</Message></Response>"),
      csrf));
  EXPECT_TRUE(messaging["ok"].as_bool());
  EXPECT_EQ(send(bhttp::verb::post, "/console/api/lint", "twiml=x").result_int(), 403);
  EXPECT_EQ(send(bhttp::verb::post, "/console/api/lint", "dialect=fax&twiml=x", csrf).result_int(),
            400);
}

TEST_F(ConsoleTest, UnknownEndpointsAreNotFound) {
  sign_in(main_);
  EXPECT_EQ(send(bhttp::verb::get, "/console/api/nope").result_int(), 404);
  EXPECT_EQ(send(bhttp::verb::get, "/console/other").result_int(), 404);
}

TEST(MetricsHistory, EachSampleHoldsItsSecond) {
  Totals totals;
  std::array<std::int64_t, Totals::kBuckets - 1> bounds = {1,   2,   5,    10,   20,   50,   100,
                                                           200, 500, 1000, 2000, 5000, 10000};
  MetricsHistory history([&totals] { return totals; }, bounds, 3);
  history.tick(1000);  // the baseline
  EXPECT_TRUE(history.samples().empty());
  totals.calls_started = 5;
  totals.concurrent_calls = 4;
  totals.webhook_requests = 100;
  totals.webhook_errors = 2;
  totals.latency[3] = 98;  // (5, 10] ms
  totals.latency[8] = 2;   // (200, 500] ms
  history.tick(2000);
  auto s = history.latest().value();
  EXPECT_EQ(s.t_ms, 2000);
  EXPECT_EQ(s.calls_started, 5u);
  EXPECT_EQ(s.concurrent_calls, 4u);
  EXPECT_EQ(s.webhook_requests, 100u);
  EXPECT_EQ(s.webhook_errors, 2u);
  EXPECT_GT(s.webhook_p50_ms, 5.0);
  EXPECT_LE(s.webhook_p50_ms, 10.0);
  EXPECT_GT(s.webhook_p99_ms, 200.0);
  EXPECT_LE(s.webhook_p99_ms, 500.0);
  history.tick(3000);  // a quiet second
  EXPECT_EQ(history.latest()->calls_started, 0u);
  EXPECT_EQ(history.latest()->concurrent_calls, 4u);
  EXPECT_EQ(history.latest()->webhook_p50_ms, 0.0);
  history.tick(4000);
  history.tick(5000);
  ASSERT_EQ(history.samples().size(), 3u);  // keeps the last `keep`
  EXPECT_EQ(history.samples().front().t_ms, 3000);
}

TEST(MetricsHistory, QuantileOfTheOpenBucketIsItsLowerBound) {
  std::array<std::int64_t, Totals::kBuckets - 1> bounds = {1,   2,   5,    10,   20,   50,   100,
                                                           200, 500, 1000, 2000, 5000, 10000};
  std::array<std::uint64_t, Totals::kBuckets> counts{};
  counts.back() = 10;
  EXPECT_EQ(MetricsHistory::quantile(counts, bounds, 0.5), 10000.0);
  counts = {};
  counts[0] = 4;
  EXPECT_DOUBLE_EQ(MetricsHistory::quantile(counts, bounds, 0.5), 0.5);
  counts = {};
  EXPECT_EQ(MetricsHistory::quantile(counts, bounds, 0.99), 0.0);
}

}  // namespace
}  // namespace sb::console
