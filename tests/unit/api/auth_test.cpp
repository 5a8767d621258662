// The hot reads behind the daemon's store cache: authenticating a request (account or API key),
// scoping it to a subaccount, and routing a call read no SQLite, and each REST write that changes
// them is seen by the very next request or call.
#include <gtest/gtest.h>

#include "api/auth.hpp"
#include "unit/api/api_fixture.hpp"
#include "voice/routing.hpp"

namespace sb::api::test {
namespace {

class HotReadsTest : public ApiTest {
 protected:
  struct Key {
    std::string sid, secret;
  };

  Key create_key(const Account& owner) {
    auto res = call(bhttp::verb::post, "/2010-04-01/Accounts/" + owner.sid + "/Keys.json", &owner);
    EXPECT_EQ(res.result_int(), 201) << res.body();
    auto o = json(res);
    return {std::string(o["sid"].as_string()), std::string(o["secret"].as_string())};
  }

  http::Response get_with(const std::string& target, const std::string& user,
                          const std::string& password) {
    http::Request req{bhttp::verb::get, target, 11};
    req.set(bhttp::field::authorization, "Basic " + http::base64_encode(user + ":" + password));
    return send(req);
  }

  std::string create_application(const Account& owner, const std::string& voice_url) {
    auto res = call(bhttp::verb::post, "/2010-04-01/Accounts/" + owner.sid + "/Applications.json",
                    &owner, "VoiceUrl=" + http::form_encode(voice_url));
    EXPECT_EQ(res.result_int(), 201) << res.body();
    return std::string(json(res)["sid"].as_string());
  }

  // The voice URL a call to `dialed` would fetch, or why it is refused.
  std::string route(const std::string& dialed) {
    auto routed = voice::route_call(*store_, dialed);
    if (!routed) return "error: " + routed.error().message;
    if (routed->route) return routed->route->application.url;
    switch (routed->failure) {
      case voice::RouteFailure::kUnknownNumber:
        return "unknown";
      case voice::RouteFailure::kInactiveAccount:
        return "inactive";
      case voice::RouteFailure::kNoApplication:
        return "no application";
    }
    return "?";
  }
};

TEST_F(HotReadsTest, AuthenticationScopingAndRoutingReadNoSqlite) {
  const Key key = create_key(sub_);
  const std::string sid = create_number(sub_, "+14155550100");
  reads_->reset();

  EXPECT_EQ(call(bhttp::verb::get, account(main_), &main_).result_int(), 200);
  EXPECT_EQ(call(bhttp::verb::get, account(sub_), &main_).result_int(), 200);  // subaccount
  EXPECT_EQ(call(bhttp::verb::get, account(other_), &main_).result_int(), 404);
  EXPECT_EQ(get_with(number(sub_, sid), key.sid, key.secret).result_int(), 200);
  EXPECT_EQ(get_with(number(sub_, sid), key.sid, "0123456789abcdef0123456789abcdef").result_int(),
            401);
  EXPECT_EQ(get_with(account(main_), main_.sid, "wrong").result_int(), 401);
  EXPECT_EQ(get_with(account(main_), make_sid("AC"), "whatever").result_int(), 401);
  EXPECT_EQ(route("+14155550100"), "https://app.example/voice");
  EXPECT_EQ(route("14155550100"), "https://app.example/voice");
  EXPECT_EQ(route("+14155550199"), "unknown");

  EXPECT_EQ(reads_->reads(), 0);
}

TEST_F(HotReadsTest, RestWritesAreSeenByTheNextRequest) {
  const Key key = create_key(sub_);
  const std::string sid = create_number(sub_, "+14155550100");
  ASSERT_EQ(get_with(number(sub_, sid), key.sid, key.secret).result_int(), 200);
  ASSERT_EQ(call(bhttp::verb::delete_,
                 "/2010-04-01/Accounts/" + sub_.sid + "/Keys/" + key.sid + ".json", &sub_)
                .result_int(),
            204);
  EXPECT_EQ(get_with(number(sub_, sid), key.sid, key.secret).result_int(), 401);

  // A new subaccount authenticates at once; closed, it stops at once.
  auto created = call(bhttp::verb::post, "/2010-04-01/Accounts.json", &main_, "FriendlyName=new");
  ASSERT_EQ(created.result_int(), 201) << created.body();
  auto o = json(created);
  Account fresh;
  fresh.sid = std::string(o["sid"].as_string());
  fresh.auth_token = std::string(o["auth_token"].as_string());
  EXPECT_EQ(call(bhttp::verb::get, account(fresh), &fresh).result_int(), 200);
  ASSERT_EQ(call(bhttp::verb::post, account(fresh), &main_, "Status=closed").result_int(), 200);
  EXPECT_EQ(call(bhttp::verb::get, account(fresh), &fresh).result_int(), 401);
}

TEST_F(HotReadsTest, NumberAndApplicationWritesAreSeenByTheNextCall) {
  const std::string sid = create_number(sub_, "2000");
  EXPECT_EQ(route("2000"), "https://app.example/voice");

  ASSERT_EQ(
      call(bhttp::verb::post, number(sub_, sid), &sub_, "VoiceUrl=https%3A%2F%2Fapp.example%2Fv2")
          .result_int(),
      200);
  EXPECT_EQ(route("2000"), "https://app.example/v2");

  const std::string app = create_application(sub_, "https://app.example/app");
  ASSERT_EQ(
      call(bhttp::verb::post, number(sub_, sid), &sub_, "VoiceApplicationSid=" + app).result_int(),
      200);
  EXPECT_EQ(route("2000"), "https://app.example/app");
  ASSERT_EQ(call(bhttp::verb::delete_,
                 "/2010-04-01/Accounts/" + sub_.sid + "/Applications/" + app + ".json", &sub_)
                .result_int(),
            204);
  EXPECT_EQ(route("2000"), "https://app.example/v2");  // the number's own URL again

  ASSERT_EQ(call(bhttp::verb::post, account(sub_), &main_, "Status=suspended").result_int(), 200);
  EXPECT_EQ(route("2000"), "inactive");
  ASSERT_EQ(call(bhttp::verb::post, account(sub_), &main_, "Status=active").result_int(), 200);
  EXPECT_EQ(route("2000"), "https://app.example/v2");

  ASSERT_EQ(call(bhttp::verb::delete_, number(sub_, sid), &sub_).result_int(), 204);
  EXPECT_EQ(route("2000"), "unknown");
}

}  // namespace
}  // namespace sb::api::test
