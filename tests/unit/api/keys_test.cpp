// API keys: the Keys resource, Basic auth with SKxxx:secret, the secret hash, and the scopes a
// key needs on the REST API (rest) and on the /v1 events API (publish, subscribe).
#include <gtest/gtest.h>

#include <boost/asio/use_future.hpp>

#include "api/auth.hpp"
#include "api/events_api.hpp"
#include "events/service.hpp"
#include "unit/api/api_fixture.hpp"

namespace sb::api::test {
namespace {

struct Key {
  std::string sid, secret;
};

class KeysTest : public ApiTest {
 protected:
  static std::string keys(const Account& a) {
    return "/2010-04-01/Accounts/" + a.sid + "/Keys.json";
  }
  static std::string key(const Account& a, std::string_view sid) {
    return "/2010-04-01/Accounts/" + a.sid + "/Keys/" + std::string(sid) + ".json";
  }

  // A request with HTTP Basic `user:password`.
  static http::Request basic_request(bhttp::verb verb, const std::string& target,
                                     const std::string& user, const std::string& password,
                                     const std::string& body, const std::string& type) {
    http::Request req{verb, target, 11};
    req.set(bhttp::field::authorization, "Basic " + http::base64_encode(user + ":" + password));
    if (!body.empty()) req.set(bhttp::field::content_type, type);
    req.body() = body;
    req.prepare_payload();
    return req;
  }
  http::Response call_as(bhttp::verb verb, const std::string& target, const std::string& user,
                         const std::string& password, const std::string& body = "",
                         const std::string& type = "application/x-www-form-urlencoded") {
    http::Request req = basic_request(verb, target, user, password, body, type);
    return send(req);
  }
  http::Response call_key(bhttp::verb verb, const std::string& target, const Key& k,
                          const std::string& body = "",
                          const std::string& type = "application/x-www-form-urlencoded") {
    return call_as(verb, target, k.sid, k.secret, body, type);
  }

  Key create_key(const Account& owner, const std::string& params = "") {
    auto res = call(bhttp::verb::post, keys(owner), &owner, params);
    EXPECT_EQ(res.result_int(), 201) << res.body();
    auto o = json(res);
    return {std::string(o["sid"].as_string()), std::string(o["secret"].as_string())};
  }

  static void expect_refused(const http::Response& res) {
    EXPECT_EQ(res.result_int(), 403) << res.body();
    auto o = json(res);
    EXPECT_EQ(o["code"].as_int64(), kAuthorizationFailed);
    EXPECT_EQ(o["status"].as_int64(), 403);
    EXPECT_EQ(o["more_info"].as_string(), "https://www.twilio.com/docs/errors/70051");
  }
};

TEST(KeySecret, HashIsSaltedAndVerifiesOnlyTheSecret) {
  const std::string secret = make_key_secret();
  EXPECT_TRUE(is_hex32(secret));
  const std::string hash = hash_key_secret(secret);
  EXPECT_EQ(hash.find(secret), std::string::npos);
  EXPECT_EQ(hash.substr(0, 3), "s1$");
  EXPECT_NE(hash, hash_key_secret(secret));  // a fresh salt each time
  EXPECT_TRUE(verify_key_secret(secret, hash));
  EXPECT_TRUE(verify_key_secret(secret, hash_key_secret(secret)));
  EXPECT_FALSE(verify_key_secret(secret + "0", hash));
  EXPECT_FALSE(verify_key_secret("", hash));
  std::string tampered = hash;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_FALSE(verify_key_secret(secret, tampered));
  for (const char* bad :
       {"", "s1$", "s1$zz$00", "s2$00112233445566778899aabbccddeeff$00", "s1$0011$00"}) {
    EXPECT_FALSE(verify_key_secret(secret, bad)) << bad;
  }
}

TEST_F(KeysTest, CrudWithTwilioShapesAndTheSecretOnlyOnCreate) {
  auto created = call(bhttp::verb::post, keys(main_), &main_, "FriendlyName=ci+runner");
  ASSERT_EQ(created.result_int(), 201) << created.body();
  auto c = json(created);
  const std::string sid(c["sid"].as_string());
  EXPECT_TRUE(is_sid(sid, "SK"));
  EXPECT_TRUE(is_hex32(c["secret"].as_string()));
  EXPECT_EQ(c["friendly_name"].as_string(), "ci runner");
  EXPECT_EQ(c["date_created"].as_string(), "Tue, 01 Dec 2026 17:00:00 +0000");
  EXPECT_EQ(c["date_updated"].as_string(), "Tue, 01 Dec 2026 17:00:00 +0000");
  EXPECT_EQ(boost::json::serialize(c["scopes"]), R"(["publish","rest","subscribe"])");

  // Only a salted hash is stored.
  auto stored = store_->find_api_key(main_.sid, sid);
  ASSERT_TRUE(stored && stored->has_value());
  EXPECT_EQ((*stored)->secret_hash.find(c["secret"].as_string()), std::string::npos);
  EXPECT_TRUE(verify_key_secret(c["secret"].as_string(), (*stored)->secret_hash));

  auto fetched = json(call(bhttp::verb::get, key(main_, sid), &main_));
  EXPECT_EQ(fetched["sid"].as_string(), sid);
  EXPECT_FALSE(fetched.contains("secret"));

  create_key(main_);
  auto listed = json(call(bhttp::verb::get, keys(main_) + "?PageSize=1", &main_));
  ASSERT_EQ(listed["keys"].as_array().size(), 1u);
  EXPECT_EQ(listed["keys"].as_array()[0].as_object().at("sid").as_string(), sid);
  EXPECT_FALSE(listed["keys"].as_array()[0].as_object().contains("secret"));
  EXPECT_EQ(listed["page_size"].as_int64(), 1);
  EXPECT_TRUE(listed["next_page_uri"].is_string());

  clock_.advance(60);
  auto updated = call(bhttp::verb::post, key(main_, sid), &main_, "FriendlyName=renamed");
  ASSERT_EQ(updated.result_int(), 200) << updated.body();
  EXPECT_EQ(json(updated)["friendly_name"].as_string(), "renamed");
  EXPECT_EQ(json(updated)["date_updated"].as_string(), "Tue, 01 Dec 2026 17:01:00 +0000");
  EXPECT_EQ(boost::json::serialize(json(updated)["scopes"]), R"(["publish","rest","subscribe"])");
  auto narrowed = call(bhttp::verb::post, key(main_, sid), &main_, "Scopes=publish");
  EXPECT_EQ(boost::json::serialize(json(narrowed)["scopes"]), R"(["publish"])");

  // Another account, even the parent, does not see the key through its own path.
  EXPECT_EQ(call(bhttp::verb::get, key(other_, sid), &other_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::get, key(main_, sid), &other_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::delete_, key(main_, sid), &main_).result_int(), 204);
  EXPECT_EQ(call(bhttp::verb::get, key(main_, sid), &main_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::delete_, key(main_, sid), &main_).result_int(), 404);
}

TEST_F(KeysTest, ScopesParameterIsValidated) {
  auto repeated = call(bhttp::verb::post, keys(main_), &main_, "Scopes=publish&Scopes=subscribe");
  ASSERT_EQ(repeated.result_int(), 201);
  EXPECT_EQ(boost::json::serialize(json(repeated)["scopes"]), R"(["publish","subscribe"])");
  auto commas = call(bhttp::verb::post, keys(main_), &main_, "Scopes=rest%2C+subscribe");
  ASSERT_EQ(commas.result_int(), 201);
  EXPECT_EQ(boost::json::serialize(json(commas)["scopes"]), R"(["rest","subscribe"])");
  for (const char* bad : {"Scopes=", "Scopes=admin", "Scopes=publish%2Cadmin", "Scopes=%2C"}) {
    auto res = call(bhttp::verb::post, keys(main_), &main_, bad);
    EXPECT_EQ(res.result_int(), 400) << bad;
    EXPECT_EQ(json(res)["code"].as_int64(), 20001) << bad;
  }
  auto long_name =
      call(bhttp::verb::post, keys(main_), &main_, "FriendlyName=" + std::string(65, 'x'));
  EXPECT_EQ(long_name.result_int(), 400);
  EXPECT_EQ(json(call(bhttp::verb::get, keys(main_), &main_))["keys"].as_array().size(), 2u);
}

TEST_F(KeysTest, AKeyAuthenticatesAsItsAccount) {
  const Key k = create_key(main_);
  const std::string number_sid = create_number(main_, "+14155550100");
  auto listed = call_key(bhttp::verb::get, numbers(main_), k);
  ASSERT_EQ(listed.result_int(), 200) << listed.body();
  EXPECT_EQ(json(listed)["incoming_phone_numbers"].as_array().size(), 1u);
  auto created = call_key(bhttp::verb::post, numbers(main_), k, "PhoneNumber=1000");
  EXPECT_EQ(created.result_int(), 201) << created.body();
  EXPECT_EQ(call_key(bhttp::verb::get, number(main_, number_sid), k).result_int(), 200);
  // Only its own account: not the subaccount, not another account.
  EXPECT_EQ(call_key(bhttp::verb::get, numbers(sub_), k).result_int(), 404);
  EXPECT_EQ(call_key(bhttp::verb::get, numbers(other_), k).result_int(), 404);
}

TEST_F(KeysTest, WrongSecretDeletedOrUnknownKeyGets401) {
  const Key k = create_key(main_);
  for (const std::string& secret : {k.secret.substr(0, 31) + "x", std::string(), k.secret + "0"}) {
    auto res = call_as(bhttp::verb::get, numbers(main_), k.sid, secret);
    EXPECT_EQ(res.result_int(), 401) << secret;
    EXPECT_EQ(json(res)["code"].as_int64(), 20003);
    EXPECT_FALSE(res[bhttp::field::www_authenticate].empty());
  }
  EXPECT_EQ(call_as(bhttp::verb::get, numbers(main_), make_sid("SK"), k.secret).result_int(), 401);
  // The account's auth token is not the key's secret, nor the reverse.
  EXPECT_EQ(call_as(bhttp::verb::get, numbers(main_), k.sid, main_.auth_token).result_int(), 401);
  EXPECT_EQ(call_as(bhttp::verb::get, numbers(main_), main_.sid, k.secret).result_int(), 401);

  EXPECT_EQ(call(bhttp::verb::delete_, key(main_, k.sid), &main_).result_int(), 204);
  auto deleted = call_key(bhttp::verb::get, numbers(main_), k);
  EXPECT_EQ(deleted.result_int(), 401);
  EXPECT_EQ(json(deleted)["code"].as_int64(), 20003);
}

TEST_F(KeysTest, AClosedAccountsKeysStopWorking) {
  const Key k = create_key(sub_);
  EXPECT_EQ(call_key(bhttp::verb::get, numbers(sub_), k).result_int(), 200);
  ASSERT_EQ(call(bhttp::verb::post, account(sub_), &main_, "Status=closed").result_int(), 200);
  EXPECT_EQ(call_key(bhttp::verb::get, numbers(sub_), k).result_int(), 401);
}

TEST_F(KeysTest, AKeyCannotManageKeysOrAccounts) {
  const Key k = create_key(main_);
  expect_refused(call_key(bhttp::verb::post, keys(main_), k, "FriendlyName=mine"));
  expect_refused(call_key(bhttp::verb::get, keys(main_), k));
  expect_refused(call_key(bhttp::verb::get, key(main_, k.sid), k));
  expect_refused(call_key(bhttp::verb::delete_, key(main_, k.sid), k));
  expect_refused(call_key(bhttp::verb::get, account(main_), k));  // it holds the auth token
  expect_refused(call_key(bhttp::verb::post, account(main_), k, "FriendlyName=x"));
  expect_refused(call_key(bhttp::verb::get, "/2010-04-01/Accounts.json", k));
  expect_refused(call_key(bhttp::verb::post, "/2010-04-01/Accounts.json", k));
  EXPECT_EQ(json(call(bhttp::verb::get, keys(main_), &main_))["keys"].as_array().size(), 1u);
  EXPECT_EQ(json(call(bhttp::verb::get, "/2010-04-01/Accounts.json", &main_))["accounts"]
                .as_array()
                .size(),
            2u);
}

TEST_F(KeysTest, AKeyWithoutRestScopeIsRefusedOnTheRestApi) {
  const Key k = create_key(main_, "Scopes=publish%2Csubscribe");
  auto res = call_key(bhttp::verb::get, numbers(main_), k);
  expect_refused(res);
  EXPECT_NE(json(res)["message"].as_string().find("'rest'"), std::string::npos);
  expect_refused(call_key(bhttp::verb::post, numbers(main_), k, "PhoneNumber=1000"));
  EXPECT_TRUE(json(call(bhttp::verb::get, numbers(main_), &main_))["incoming_phone_numbers"]
                  .as_array()
                  .empty());
}

// The /v1 events API with an EventService on its own thread, as the daemon runs it.
class KeysEventsTest : public KeysTest {
 protected:
  void SetUp() override {
    KeysTest::SetUp();
    auto svc = events::EventService::open(dir_.file("events.db"), {}, ms_clock_);
    ASSERT_TRUE(svc) << svc.error().message;
    service_ = std::move(*svc);
    service_->start();
    events_api_ = std::make_unique<EventsApi>(*service_, *store_, "http://sb.test");
    api_->set_v1_handler([this](http::Request& req, http::RequestInfo& info) {
      return events_api_->handle(req, info);
    });
    auto channel = call(bhttp::verb::post, "/v1/Channels", &main_, "UniqueName=orders");
    ASSERT_EQ(channel.result_int(), 201) << channel.body();
  }
  void TearDown() override {
    if (service_) service_->stop();
  }

  // Runs the request on the events thread's executor and waits for its response.
  http::Response send_v1(http::Request& req) {
    auto f = asio::co_spawn(
        service_->executor(),
        [](Api& api, http::Request& r) -> asio::awaitable<http::Response> {
          http::RequestInfo info;
          http::Response res = co_await api.handle(r, info);
          co_return res;
        }(*api_, req),
        asio::use_future);
    return f.get();
  }
  http::Response v1(bhttp::verb verb, const std::string& target, const std::string& user,
                    const std::string& password, const std::string& body = "",
                    const std::string& type = "application/json") {
    http::Request req = basic_request(verb, target, user, password, body, type);
    return send_v1(req);
  }
  http::Response v1(bhttp::verb verb, const std::string& target, const Key& k,
                    const std::string& body = "", const std::string& type = "application/json") {
    return v1(verb, target, k.sid, k.secret, body, type);
  }
  http::Response v1(bhttp::verb verb, const std::string& target, const Account& a,
                    const std::string& body = "", const std::string& type = "application/json") {
    return v1(verb, target, a.sid, a.auth_token, body, type);
  }

  http::Response call(bhttp::verb verb, const std::string& target, const Account* who,
                      const std::string& body = "",
                      const std::string& type = "application/x-www-form-urlencoded") {
    if (target.rfind("/v1/", 0) == 0) return v1(verb, target, *who, body, type);
    return KeysTest::call(verb, target, who, body, type);
  }

  static constexpr const char* kEvents = "/v1/Channels/orders/Events";
  static constexpr const char* kEvent = R"({"type":"order.paid","data":{"n":1}})";

  SystemClock ms_clock_;
  std::unique_ptr<events::EventService> service_;
  std::unique_ptr<EventsApi> events_api_;
};

TEST_F(KeysEventsTest, APublishOnlyKeyPublishesButCannotRead) {
  const Key k = create_key(main_, "Scopes=publish");
  auto published = v1(bhttp::verb::post, kEvents, k, kEvent);
  EXPECT_EQ(published.result_int(), 201) << published.body();

  auto read = v1(bhttp::verb::get, kEvents, k);
  expect_refused(read);
  EXPECT_NE(json(read)["message"].as_string().find("'subscribe'"), std::string::npos);
  expect_refused(v1(bhttp::verb::get, "/v1/Channels/orders/Stream", k));
  expect_refused(v1(bhttp::verb::post, "/v1/Tokens", k, R"({"Channels":["orders"]})"));
  auto publish_token = v1(bhttp::verb::post, "/v1/Tokens", k,
                          R"({"Channels":["orders"],"Permissions":["publish"]})");
  EXPECT_EQ(publish_token.result_int(), 201) << publish_token.body();
  // Channel metadata is readable; managing channels and subscribers takes the rest scope.
  EXPECT_EQ(v1(bhttp::verb::get, "/v1/Channels", k).result_int(), 200);
  EXPECT_EQ(v1(bhttp::verb::get, "/v1/Channels/orders", k).result_int(), 200);
  expect_refused(v1(bhttp::verb::post, "/v1/Channels", k, R"({"UniqueName":"audit"})"));
  expect_refused(v1(bhttp::verb::delete_, "/v1/Channels/orders", k));
  expect_refused(v1(bhttp::verb::get, "/v1/Channels/orders/Subscribers", k));

  // The account's own credentials read what the key published.
  auto history = v1(bhttp::verb::get, kEvents, main_);
  ASSERT_EQ(history.result_int(), 200) << history.body();
  ASSERT_EQ(json(history)["events"].as_array().size(), 1u);
}

TEST_F(KeysEventsTest, ASubscribeOnlyKeyReadsButCannotPublish) {
  ASSERT_EQ(v1(bhttp::verb::post, kEvents, main_, kEvent).result_int(), 201);
  const Key k = create_key(main_, "Scopes=subscribe");
  auto refused = v1(bhttp::verb::post, kEvents, k, kEvent);
  expect_refused(refused);
  EXPECT_NE(json(refused)["message"].as_string().find("'publish'"), std::string::npos);

  auto history = v1(bhttp::verb::get, kEvents, k);
  ASSERT_EQ(history.result_int(), 200) << history.body();
  EXPECT_EQ(json(history)["events"].as_array().size(), 1u);  // the refused event is not there
  auto token = v1(bhttp::verb::post, "/v1/Tokens", k, R"({"Channels":["orders"]})");
  ASSERT_EQ(token.result_int(), 201) << token.body();
  EXPECT_EQ(boost::json::serialize(json(token)["permissions"]), R"(["subscribe"])");
  expect_refused(v1(bhttp::verb::post, "/v1/Tokens", k,
                    R"({"Channels":["orders"],"Permissions":["subscribe","publish"]})"));
}

TEST_F(KeysEventsTest, BadKeyCredentialsGet401AndAStandardKeyDoesEverything) {
  const Key k = create_key(main_);
  auto wrong = v1(bhttp::verb::post, kEvents, k.sid, k.secret + "0", kEvent);
  EXPECT_EQ(wrong.result_int(), 401);
  EXPECT_EQ(json(wrong)["code"].as_int64(), 20003);
  EXPECT_EQ(v1(bhttp::verb::post, kEvents, k, kEvent).result_int(), 201);
  EXPECT_EQ(v1(bhttp::verb::get, kEvents, k).result_int(), 200);
  EXPECT_EQ(v1(bhttp::verb::post, "/v1/Channels", k, R"({"UniqueName":"audit"})").result_int(),
            201);
  ASSERT_EQ(call(bhttp::verb::delete_, key(main_, k.sid), &main_).result_int(), 204);
  EXPECT_EQ(v1(bhttp::verb::get, kEvents, k).result_int(), 401);
}

}  // namespace
}  // namespace sb::api::test
