// The console's sessions: the cookie stands in for Basic credentials on the REST API, a
// state-changing request needs the session's CSRF token, sessions expire and are revoked,
// failed sign-ins block an address; and Calls/{Sid}/Events.json, the call's webhook exchanges.
#include <gtest/gtest.h>

#include "api/auth.hpp"
#include "api/sessions.hpp"
#include "unit/api/api_fixture.hpp"

namespace sb::api::test {
namespace {

TEST(ConsoleSessions, CreateFindExpireRevoke) {
  testing::FakeClock clock;
  ConsoleSessions sessions(clock, {.ttl_s = 60});
  const std::string token = sessions.create({.account_sid = "AC1", .acting_sid = "AC1"});
  ASSERT_EQ(token.size(), 64u);
  auto found = sessions.find(token);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->account_sid, "AC1");
  EXPECT_EQ(found->csrf_token.size(), 64u);
  EXPECT_EQ(found->expires_at, clock.now_unix() + 60);
  EXPECT_NE(sessions.create({.account_sid = "AC1"}), token);  // each sign-in its own session

  EXPECT_FALSE(sessions.find(token.substr(1)));
  EXPECT_FALSE(sessions.find(std::string(64, '0')));
  clock.advance(59);
  EXPECT_TRUE(sessions.find(token));
  clock.advance(1);
  EXPECT_FALSE(sessions.find(token));  // expired, and dropped

  const std::string other = sessions.create({.account_sid = "AC2", .acting_sid = "AC2"});
  EXPECT_TRUE(sessions.set_acting(other, "AC3"));
  EXPECT_EQ(sessions.find(other)->acting_sid, "AC3");
  sessions.revoke(other);
  EXPECT_FALSE(sessions.find(other));
  EXPECT_FALSE(sessions.set_acting(other, "AC3"));
}

TEST(ConsoleSessions, TheOldestGoesBeyondTheLimit) {
  testing::FakeClock clock;
  ConsoleSessions sessions(clock, {.ttl_s = 100, .max_sessions = 2});
  const std::string first = sessions.create({.account_sid = "AC1"});
  clock.advance(1);
  const std::string second = sessions.create({.account_sid = "AC1"});
  const std::string third = sessions.create({.account_sid = "AC1"});
  EXPECT_FALSE(sessions.find(first));
  EXPECT_TRUE(sessions.find(second));
  EXPECT_TRUE(sessions.find(third));
}

TEST(ConsoleSessions, FailedSignInsBlockAnAddressForTheRestOfTheWindow) {
  testing::FakeClock clock;
  ConsoleSessions sessions(clock, {.max_failures = 3, .failure_window_s = 300});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(sessions.blocked_for("192.0.2.1"), 0);
    sessions.failed("192.0.2.1");
  }
  EXPECT_EQ(sessions.blocked_for("192.0.2.1"), 300);
  EXPECT_EQ(sessions.blocked_for("192.0.2.2"), 0);  // per address
  clock.advance(200);
  EXPECT_EQ(sessions.blocked_for("192.0.2.1"), 100);
  clock.advance(100);
  EXPECT_EQ(sessions.blocked_for("192.0.2.1"), 0);  // the window ended

  sessions.failed("192.0.2.3");
  sessions.failed("192.0.2.3");
  sessions.succeeded("192.0.2.3");  // a success forgets the failures
  sessions.failed("192.0.2.3");
  EXPECT_EQ(sessions.blocked_for("192.0.2.3"), 0);
}

TEST(ConsoleSessions, CookieHeader) {
  EXPECT_EQ(session_cookie("sb_console=abc"), "abc");
  EXPECT_EQ(session_cookie("a=1; sb_console=abc; b=2"), "abc");
  EXPECT_EQ(session_cookie("a=1;sb_console=abc"), "abc");
  EXPECT_EQ(session_cookie("xsb_console=abc"), "");
  EXPECT_EQ(session_cookie(""), "");
}

class SessionAuthTest : public ApiTest {
 protected:
  struct Signed {
    std::string cookie, csrf;
  };
  Signed sign_in(const Account& a, const std::string& acting = "") {
    ConsoleSession s{.account_sid = a.sid, .acting_sid = acting.empty() ? a.sid : acting};
    const std::string token = api_->sessions().create(s);
    return {token, api_->sessions().find(token)->csrf_token};
  }
  http::Response with_cookie(bhttp::verb verb, const std::string& target, const Signed& s,
                             const std::string& csrf, const std::string& body = "") {
    http::Request req{verb, target, 11};
    req.set(bhttp::field::cookie, "theme=dark; sb_console=" + s.cookie);
    if (!csrf.empty()) req.set("X-CSRF-Token", csrf);
    if (!body.empty()) req.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
    req.body() = body;
    req.prepare_payload();
    return send(req);
  }
};

TEST_F(SessionAuthTest, TheCookieActsAsTheSessionsAccount) {
  const Signed s = sign_in(main_);
  const std::string apps = "/2010-04-01/Accounts/" + main_.sid + "/Applications.json";
  EXPECT_EQ(with_cookie(bhttp::verb::get, apps, s, "").result_int(), 200);
  // Its subaccount too, as with Basic credentials; another account stays invisible.
  EXPECT_EQ(with_cookie(bhttp::verb::get, "/2010-04-01/Accounts/" + sub_.sid + "/Calls.json", s, "")
                .result_int(),
            200);
  EXPECT_EQ(
      with_cookie(bhttp::verb::get, "/2010-04-01/Accounts/" + other_.sid + "/Calls.json", s, "")
          .result_int(),
      404);
}

TEST_F(SessionAuthTest, ChangesNeedTheCsrfToken) {
  const Signed s = sign_in(main_);
  const std::string apps = "/2010-04-01/Accounts/" + main_.sid + "/Applications.json";
  auto refused = with_cookie(bhttp::verb::post, apps, s, "", "FriendlyName=x");
  EXPECT_EQ(refused.result_int(), 403);
  EXPECT_EQ(json(refused)["code"].as_int64(), kForbidden);
  EXPECT_EQ(
      with_cookie(bhttp::verb::post, apps, s, std::string(64, 'a'), "FriendlyName=x").result_int(),
      403);
  // Another session's token is no better.
  const Signed other = sign_in(main_);
  EXPECT_EQ(with_cookie(bhttp::verb::post, apps, s, other.csrf, "FriendlyName=x").result_int(),
            403);
  EXPECT_EQ(with_cookie(bhttp::verb::post, apps, s, s.csrf, "FriendlyName=x").result_int(), 201);
}

TEST_F(SessionAuthTest, ExpiredRevokedAndActingSessions) {
  const Signed s = sign_in(main_);
  const std::string calls = "/2010-04-01/Accounts/" + main_.sid + "/Calls.json";
  api_->sessions().revoke(s.cookie);
  auto gone = with_cookie(bhttp::verb::get, calls, s, "");
  EXPECT_EQ(gone.result_int(), 401);
  EXPECT_EQ(json(gone)["code"].as_int64(), 20003);

  const Signed expiring = sign_in(main_);
  clock_.advance(api_->sessions().ttl_s());
  EXPECT_EQ(with_cookie(bhttp::verb::get, calls, expiring, "").result_int(), 401);

  // Acting as the subaccount: the session sees that account (and not its parent).
  const Signed acting = sign_in(main_, sub_.sid);
  EXPECT_EQ(
      with_cookie(bhttp::verb::get, "/2010-04-01/Accounts/" + sub_.sid + "/Calls.json", acting, "")
          .result_int(),
      200);
  EXPECT_EQ(with_cookie(bhttp::verb::get, calls, acting, "").result_int(), 404);
}

TEST_F(SessionAuthTest, BasicCredentialsWinOverACookie) {
  const Signed s = sign_in(main_);
  http::Request req{bhttp::verb::get, "/2010-04-01/Accounts/" + other_.sid + "/Calls.json", 11};
  req.set(bhttp::field::cookie, "sb_console=" + s.cookie);
  req.set(bhttp::field::authorization,
          "Basic " + http::base64_encode(other_.sid + ":" + other_.auth_token));
  EXPECT_EQ(send(req).result_int(), 200);
}

class CallEventsTest : public ApiTest {
 protected:
  http::Response call_api(const std::string& target, const Account* who) {
    return call(bhttp::verb::get, target, who);
  }
  std::string add_call(const Account& a) {
    store::Call c;
    c.sid = make_sid("CA");
    c.account_sid = a.sid;
    c.to = "+14155550101";
    c.from = "+14155550100";
    c.status = "completed";
    c.date_created = c.date_updated = c.start_time = clock_.now_unix();
    EXPECT_TRUE(store_->write_sync(store::InsertCall{c}));
    return c.sid;
  }
  void add_event(const Account& a, const std::string& call, const std::string& type, int code,
                 int error) {
    store::CallEvent e;
    e.account_sid = a.sid;
    e.call_sid = call;
    e.type = type;
    e.request_method = "POST";
    e.request_url = "http://127.0.0.1:9/voice";
    e.request_variables = "CallSid=" + call + "&ApiVersion=2010-04-01&SipHeader_X-Tag=a%26b";
    e.response_code = code;
    e.content_type = code ? "text/xml" : "";
    e.response_headers = code ? "Content-Type: text/xml\nSet-Cookie: a=1\nSet-Cookie: b=2\n" : "";
    e.response_body = code ? "<Response><Say>hi</Say></Response>" : "";
    e.duration_ms = 12;
    e.error_code = error;
    e.error_message = error ? "refused" : "";
    e.date_created_ms = clock_.now_ms();
    ASSERT_TRUE(store_->write_sync(store::InsertCallEvent{e}));
  }
};

TEST_F(CallEventsTest, ListsTheExchangesOldestFirstInTwiliosShape) {
  const std::string sid = add_call(main_);
  add_event(main_, sid, "webhook", 0, 11205);
  add_event(main_, sid, "fallback", 200, 0);
  add_event(main_, sid, "status_callback", 204, 0);
  add_event(main_, add_call(main_), "webhook", 200, 0);  // another call's

  const std::string path = "/2010-04-01/Accounts/" + main_.sid + "/Calls/" + sid + "/Events.json";
  auto res = call_api(path, &main_);
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto o = json(res);
  const auto& events = o["events"].as_array();
  ASSERT_EQ(events.size(), 3u);
  const auto& first = events[0].as_object();
  EXPECT_EQ(first.at("type").as_string(), "webhook");
  EXPECT_TRUE(first.at("response").is_null());
  EXPECT_EQ(first.at("error_code").as_int64(), 11205);
  const auto& params = first.at("request").as_object().at("parameters").as_object();
  EXPECT_EQ(params.at("call_sid").as_string(), sid);  // Twilio's snake_case keys
  EXPECT_EQ(params.at("api_version").as_string(), "2010-04-01");
  EXPECT_EQ(params.at("sip_header_x-tag").as_string(), "a&b");
  const auto& fallback = events[1].as_object();
  EXPECT_EQ(fallback.at("type").as_string(), "fallback");
  const auto& response = fallback.at("response").as_object();
  EXPECT_EQ(response.at("response_code").as_int64(), 200);
  EXPECT_EQ(response.at("request_duration").as_int64(), 12);
  EXPECT_EQ(response.at("content_type").as_string(), "text/xml");
  EXPECT_EQ(response.at("response_body").as_string(), "<Response><Say>hi</Say></Response>");
  EXPECT_EQ(response.at("headers").as_object().at("Set-Cookie").as_string(), "a=1, b=2");
  EXPECT_EQ(events[2].as_object().at("type").as_string(), "status_callback");

  // Paged by the last row's id.
  auto page = json(call_api(path + "?PageSize=2", &main_));
  ASSERT_EQ(page["events"].as_array().size(), 2u);
  const std::string next(page["next_page_uri"].as_string());
  auto rest = json(call_api(next, &main_));
  ASSERT_EQ(rest["events"].as_array().size(), 1u);
  EXPECT_EQ(rest["events"].as_array()[0].as_object().at("type").as_string(), "status_callback");
}

TEST_F(CallEventsTest, AnotherAccountsCallIsNotFound) {
  const std::string sid = add_call(main_);
  add_event(main_, sid, "webhook", 200, 0);
  EXPECT_EQ(
      call_api("/2010-04-01/Accounts/" + other_.sid + "/Calls/" + sid + "/Events.json", &other_)
          .result_int(),
      404);
  EXPECT_EQ(
      call_api("/2010-04-01/Accounts/" + main_.sid + "/Calls/" + make_sid("CA") + "/Events.json",
               &main_)
          .result_int(),
      404);
  EXPECT_EQ(
      call_api("/2010-04-01/Accounts/" + main_.sid + "/Calls/" + sid + "/Events.json", nullptr)
          .result_int(),
      401);
}

}  // namespace
}  // namespace sb::api::test
