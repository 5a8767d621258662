// The REST API through Api::handle with a real SQLite store and no sockets.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "unit/api/api_fixture.hpp"

namespace sb::api::test {
namespace {

TEST_F(ApiTest, MissingOrWrongCredentialsGet401WithCode20003) {
  auto none = call(bhttp::verb::get, numbers(main_), nullptr);
  EXPECT_EQ(none.result_int(), 401);
  EXPECT_EQ(json(none)["code"].as_int64(), 20003);
  EXPECT_EQ(json(none)["more_info"].as_string(), "https://www.twilio.com/docs/errors/20003");
  EXPECT_FALSE(none[bhttp::field::www_authenticate].empty());

  Account wrong = main_;
  wrong.auth_token = "ffffffffffffffffffffffffffffffff";
  EXPECT_EQ(call(bhttp::verb::get, numbers(main_), &wrong).result_int(), 401);

  http::Request garbage{bhttp::verb::get, numbers(main_), 11};
  for (const char* header : {"Basic !!!", "Bearer abc", "Basic ", "Basic Zm9v"}) {
    garbage.set(bhttp::field::authorization, header);
    EXPECT_EQ(send(garbage).result_int(), 401) << header;
  }
}

TEST_F(ApiTest, NumberCrudWithTwilioShapes) {
  const std::string sid = create_number(main_, "+14155550100");
  EXPECT_TRUE(is_sid(sid, "PN"));
  auto fetched = json(call(bhttp::verb::get, number(main_, sid), &main_));
  EXPECT_EQ(fetched["phone_number"].as_string(), "+14155550100");
  EXPECT_EQ(fetched["voice_url"].as_string(), "https://app.example/voice");
  EXPECT_EQ(fetched["voice_method"].as_string(), "POST");
  EXPECT_TRUE(fetched["voice_fallback_url"].is_null());
  EXPECT_EQ(fetched["date_created"].as_string(), "Tue, 01 Dec 2026 17:00:00 +0000");
  EXPECT_EQ(fetched["uri"].as_string(), number(main_, sid));

  clock_.advance(60);
  auto updated = call(bhttp::verb::post, number(main_, sid), &main_,
                      "FriendlyName=Front+desk&VoiceMethod=GET");
  ASSERT_EQ(updated.result_int(), 200) << updated.body();
  auto u = json(updated);
  EXPECT_EQ(u["friendly_name"].as_string(), "Front desk");
  EXPECT_EQ(u["voice_method"].as_string(), "GET");
  EXPECT_EQ(u["voice_url"].as_string(), "https://app.example/voice");  // untouched
  EXPECT_EQ(u["date_updated"].as_string(), "Tue, 01 Dec 2026 17:01:00 +0000");

  EXPECT_EQ(call(bhttp::verb::delete_, number(main_, sid), &main_).result_int(), 204);
  EXPECT_EQ(call(bhttp::verb::delete_, number(main_, sid), &main_).result_int(), 404);
  auto gone = call(bhttp::verb::get, number(main_, sid), &main_);
  EXPECT_EQ(gone.result_int(), 404);
  EXPECT_EQ(json(gone)["code"].as_int64(), 20404);
}

TEST_F(ApiTest, ParentManagesSubaccountSubaccountSeesOnlyItself) {
  const std::string main_number = create_number(main_, "+14155550100");
  const std::string sub_number = create_number(sub_, "+14155550101", &main_);  // parent acts

  EXPECT_EQ(call(bhttp::verb::get, number(sub_, sub_number), &main_).result_int(), 200);
  EXPECT_EQ(call(bhttp::verb::get, number(sub_, sub_number), &sub_).result_int(), 200);
  // The subaccount cannot reach its parent, nor the parent's number through its own path.
  EXPECT_EQ(call(bhttp::verb::get, numbers(main_), &sub_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::get, account(main_), &sub_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::get, number(sub_, main_number), &sub_).result_int(), 404);
  // An unrelated account sees neither.
  EXPECT_EQ(call(bhttp::verb::get, numbers(main_), &other_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::get, number(sub_, sub_number), &other_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::delete_, number(main_, main_number), &other_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::get, number(main_, main_number), &main_).result_int(), 200);

  auto listed = json(call(bhttp::verb::get, "/2010-04-01/Accounts.json", &main_));
  EXPECT_EQ(listed["accounts"].as_array().size(), 2u);
  auto sub_listed = json(call(bhttp::verb::get, "/2010-04-01/Accounts.json", &sub_));
  ASSERT_EQ(sub_listed["accounts"].as_array().size(), 1u);
  EXPECT_EQ(sub_listed["accounts"].as_array()[0].as_object().at("sid").as_string(), sub_.sid);
}

TEST_F(ApiTest, SubaccountCreationAndStatusRules) {
  auto created = call(bhttp::verb::post, "/2010-04-01/Accounts.json", &main_, "FriendlyName=team");
  ASSERT_EQ(created.result_int(), 201);
  auto c = json(created);
  EXPECT_EQ(c["owner_account_sid"].as_string(), main_.sid);
  EXPECT_TRUE(is_hex32(c["auth_token"].as_string()));
  EXPECT_EQ(c["status"].as_string(), "active");

  EXPECT_EQ(call(bhttp::verb::post, "/2010-04-01/Accounts.json", &sub_).result_int(), 403);
  EXPECT_EQ(call(bhttp::verb::post, account(sub_), &sub_, "Status=suspended").result_int(), 403);
  EXPECT_EQ(call(bhttp::verb::post, account(main_), &main_, "Status=closed").result_int(), 400);
  EXPECT_EQ(call(bhttp::verb::post, account(sub_), &main_, "Status=frozen").result_int(), 400);
  auto renamed = call(bhttp::verb::post, account(sub_), &sub_, "FriendlyName=mine");
  EXPECT_EQ(renamed.result_int(), 200);

  EXPECT_EQ(call(bhttp::verb::post, account(sub_), &main_, "Status=closed").result_int(), 200);
  EXPECT_EQ(call(bhttp::verb::get, numbers(sub_), &sub_).result_int(), 401);  // closed: no login
  EXPECT_EQ(call(bhttp::verb::post, account(sub_), &main_, "Status=active").result_int(), 400);
  auto still = json(call(bhttp::verb::get, account(sub_), &main_));
  EXPECT_EQ(still["status"].as_string(), "closed");
  EXPECT_EQ(still["friendly_name"].as_string(), "mine");
}

TEST_F(ApiTest, BadInputIsA4xxAndWritesNothing) {
  auto malformed = call(bhttp::verb::post, numbers(main_), &main_, "PhoneNumber=%zz");
  EXPECT_EQ(malformed.result_int(), 400);
  EXPECT_EQ(json(malformed)["code"].as_int64(), 20001);
  auto json_body = call(bhttp::verb::post, numbers(main_), &main_, "{\"PhoneNumber\":\"1\"}",
                        "application/json");
  EXPECT_EQ(json_body.result_int(), 415);
  auto bad_phone = call(bhttp::verb::post, numbers(main_), &main_, "PhoneNumber=sip%3A1%40x");
  EXPECT_EQ(json(bad_phone)["code"].as_int64(), 21401);
  auto no_phone = call(bhttp::verb::post, numbers(main_), &main_, "FriendlyName=x");
  EXPECT_EQ(json(no_phone)["code"].as_int64(), 21401);
  auto bad_url = call(bhttp::verb::post, numbers(main_), &main_, "PhoneNumber=1000&VoiceUrl=x");
  EXPECT_EQ(json(bad_url)["code"].as_int64(), 21402);
  auto fallback_only = call(bhttp::verb::post, numbers(main_), &main_,
                            "PhoneNumber=1000&VoiceFallbackUrl=https%3A%2F%2Fa.example%2Ff");
  EXPECT_EQ(json(fallback_only)["code"].as_int64(), 21405);
  auto list = json(call(bhttp::verb::get, numbers(main_), &main_));
  EXPECT_TRUE(list["incoming_phone_numbers"].as_array().empty());

  EXPECT_EQ(call(bhttp::verb::get, "/2010-04-01/Accounts/" + main_.sid + "/Nope.json", &main_)
                .result_int(),
            404);
  EXPECT_EQ(call(bhttp::verb::get, numbers(main_) + "/", &main_).result_int(), 404);
  EXPECT_EQ(
      call(bhttp::verb::get, "/2010-04-01/Accounts/" + main_.sid + "/IncomingPhoneNumbers", &main_)
          .result_int(),
      404);
  EXPECT_EQ(
      call(bhttp::verb::get, "/2010-04-01/Accounts/ACnothex/IncomingPhoneNumbers.json", &main_)
          .result_int(),
      404);
  EXPECT_EQ(call(bhttp::verb::get, number(main_, "PNshort"), &main_).result_int(), 404);
  auto put = call(bhttp::verb::put, numbers(main_), &main_);
  EXPECT_EQ(put.result_int(), 405);
  EXPECT_EQ(put[bhttp::field::allow], "GET, POST");
  EXPECT_EQ(call(bhttp::verb::get, numbers(main_) + "?PageSize=5000", &main_).result_int(), 400);
}

TEST_F(ApiTest, FailedUpdateLeavesTheRecordAsItWas) {
  const std::string sid = create_number(main_, "+14155550100");
  ASSERT_EQ(call(bhttp::verb::post, number(main_, sid), &main_,
                 "VoiceFallbackUrl=https%3A%2F%2Fapp.example%2Ffallback")
                .result_int(),
            200);
  auto rejected = call(bhttp::verb::post, number(main_, sid), &main_, "FriendlyName=x&VoiceUrl=");
  EXPECT_EQ(json(rejected)["code"].as_int64(), 21405);
  auto after = json(call(bhttp::verb::get, number(main_, sid), &main_));
  EXPECT_EQ(after["voice_url"].as_string(), "https://app.example/voice");
  EXPECT_EQ(after["friendly_name"].as_string(), "+14155550100");
}

TEST_F(ApiTest, PhoneNumberIsUniqueAcrossTheInstallation) {
  create_number(main_, "+14155550100");
  auto dup = call(bhttp::verb::post, numbers(other_), &other_, "PhoneNumber=%2B14155550100");
  EXPECT_EQ(dup.result_int(), 400);
  EXPECT_EQ(json(dup)["code"].as_int64(), 21422);
  EXPECT_NE(json(dup)["message"].as_string().find("already in use"), std::string::npos);
}

TEST_F(ApiTest, ApplicationsAndVoiceApplicationSid) {
  const std::string apps = "/2010-04-01/Accounts/" + main_.sid + "/Applications.json";
  auto created = call(bhttp::verb::post, apps, &main_,
                      "FriendlyName=IVR&VoiceUrl=https%3A%2F%2Fapp.example%2Fivr&VoiceMethod=GET");
  ASSERT_EQ(created.result_int(), 201) << created.body();
  const std::string app_sid(json(created)["sid"].as_string());
  EXPECT_TRUE(is_sid(app_sid, "AP"));

  const std::string number_sid = create_number(main_, "+14155550100");
  auto assigned =
      call(bhttp::verb::post, number(main_, number_sid), &main_, "VoiceApplicationSid=" + app_sid);
  ASSERT_EQ(assigned.result_int(), 200) << assigned.body();
  EXPECT_EQ(json(assigned)["voice_application_sid"].as_string(), app_sid);

  // Another account's application is not assignable.
  const std::string other_apps = "/2010-04-01/Accounts/" + other_.sid + "/Applications.json";
  auto foreign = json(call(bhttp::verb::post, other_apps, &other_, "FriendlyName=theirs"));
  auto refused = call(bhttp::verb::post, number(main_, number_sid), &main_,
                      "VoiceApplicationSid=" + std::string(foreign["sid"].as_string()));
  EXPECT_EQ(json(refused)["code"].as_int64(), 21420);
  EXPECT_EQ(call(bhttp::verb::get,
                 "/2010-04-01/Accounts/" + main_.sid + "/Applications/" +
                     std::string(foreign["sid"].as_string()) + ".json",
                 &main_)
                .result_int(),
            404);

  const std::string app_path =
      "/2010-04-01/Accounts/" + main_.sid + "/Applications/" + app_sid + ".json";
  EXPECT_EQ(json(call(bhttp::verb::get, app_path, &main_))["voice_method"].as_string(), "GET");
  auto listed = json(call(bhttp::verb::get, apps + "?FriendlyName=IVR", &main_));
  EXPECT_EQ(listed["applications"].as_array().size(), 1u);
  EXPECT_EQ(call(bhttp::verb::delete_, app_path, &main_).result_int(), 204);
  auto number_after = json(call(bhttp::verb::get, number(main_, number_sid), &main_));
  EXPECT_TRUE(number_after["voice_application_sid"].is_null());
}

TEST_F(ApiTest, ListsPageThroughEveryRecordOnce) {
  for (int i = 0; i < 7; ++i) create_number(main_, "+1415555010" + std::to_string(i));
  std::set<std::string> seen;
  std::string next = numbers(main_) + "?PageSize=3";
  int pages = 0;
  while (!next.empty() && pages < 10) {
    auto page = json(call(bhttp::verb::get, next, &main_));
    for (const auto& n : page["incoming_phone_numbers"].as_array()) {
      EXPECT_TRUE(seen.insert(std::string(n.as_object().at("sid").as_string())).second);
    }
    next = page["next_page_uri"].is_null() ? "" : std::string(page["next_page_uri"].as_string());
    ++pages;
  }
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(pages, 3);
}

TEST_F(ApiTest, NotificationsListNewestFirstScopedAndFiltered) {
  auto add = [&](const Account& a, int log, int code) {
    store::Notification n;
    n.sid = make_sid("NO");
    n.account_sid = a.sid;
    n.call_sid = "CA0123456789abcdef0123456789abcdef";
    n.log = log;
    n.error_code = code;
    n.message_text = "code " + std::to_string(code);
    n.request_url = "https://app.example/voice";
    n.request_method = "POST";
    n.date_created = clock_.now_unix();
    EXPECT_TRUE(store_->write_sync(store::InsertNotification{n}));
    return n.sid;
  };
  add(main_, 0, 11200);
  add(main_, 1, 12200);
  const std::string newest = add(main_, 0, 12100);
  add(other_, 0, 11205);

  const std::string path = "/2010-04-01/Accounts/" + main_.sid + "/Notifications.json";
  auto all = json(call(bhttp::verb::get, path, &main_));
  const auto& items = all["notifications"].as_array();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].as_object().at("sid").as_string(), newest);
  EXPECT_EQ(items[0].as_object().at("error_code").as_string(), "12100");
  EXPECT_EQ(items[0].as_object().at("more_info").as_string(),
            "https://www.twilio.com/docs/errors/12100");
  auto warnings = json(call(bhttp::verb::get, path + "?Log=1", &main_));
  ASSERT_EQ(warnings["notifications"].as_array().size(), 1u);
  EXPECT_EQ(call(bhttp::verb::get, path + "?Log=7", &main_).result_int(), 400);

  auto paged = json(call(bhttp::verb::get, path + "?PageSize=2", &main_));
  ASSERT_FALSE(paged["next_page_uri"].is_null());
  auto second =
      json(call(bhttp::verb::get, std::string(paged["next_page_uri"].as_string()), &main_));
  ASSERT_EQ(second["notifications"].as_array().size(), 1u);
  EXPECT_EQ(second["notifications"].as_array()[0].as_object().at("error_code").as_string(),
            "11200");

  const std::string one =
      "/2010-04-01/Accounts/" + main_.sid + "/Notifications/" + newest + ".json";
  EXPECT_EQ(call(bhttp::verb::get, one, &main_).result_int(), 200);
  EXPECT_EQ(call(bhttp::verb::get, one, &other_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::delete_, one, &main_).result_int(), 405);
}

// Filtered by StartTime, the log is in start-time order (newest start first), paged by
// (start_time, id) tokens: calls whose ids are not in start order (an outbound call queued
// before an inbound one but started after it), ties within one second, and a token's second
// split across pages all come out once each, in order.
TEST_F(ApiTest, CallsListedByStartTimePageThroughTiesAndOutOfOrderIds) {
  const std::int64_t dec1 = 1796083200;  // 2026-12-01 00:00:00 GMT
  // (start offset within the day) in insertion (id) order.
  const std::vector<std::int64_t> starts = {50, 10, 30, 30, 30, 20, 40, 30, 86399, 86400, 0};
  std::vector<std::pair<std::int64_t, std::string>> expected;  // (start, sid) in list order
  for (const std::int64_t start : starts) {
    store::Call c;
    c.sid = make_sid("CA");
    c.account_sid = main_.sid;
    c.to = "1000";
    c.from = "+14155550100";
    c.status = "completed";
    c.start_time = dec1 + start;
    c.date_created = c.date_updated = dec1;
    ASSERT_TRUE(store_->write_sync(store::InsertCall{c}));
    if (start < 86400) expected.emplace_back(start, c.sid);
  }
  // Newest start first; within a second, newest id first (the later insert).
  std::stable_sort(expected.begin(), expected.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t i = 0; i + 1 < expected.size(); ++i) {
    if (expected[i].first != expected[i + 1].first) continue;
    // stable_sort kept insertion order; ties list the later insert first.
    std::size_t j = i;
    while (j + 1 < expected.size() && expected[j + 1].first == expected[i].first) ++j;
    std::reverse(expected.begin() + static_cast<std::ptrdiff_t>(i),
                 expected.begin() + static_cast<std::ptrdiff_t>(j) + 1);
    i = j;
  }
  const std::string path = "/2010-04-01/Accounts/" + main_.sid + "/Calls.json";
  std::vector<std::string> seen;
  std::string uri = path + "?StartTime=2026-12-01&PageSize=2";
  for (int pages = 0; !uri.empty() && pages < 20; ++pages) {
    auto page = json(call(bhttp::verb::get, uri, &main_));
    for (const auto& c : page["calls"].as_array()) {
      seen.emplace_back(c.as_object().at("sid").as_string());
    }
    uri = page["next_page_uri"].is_null() ? "" : std::string(page["next_page_uri"].as_string());
    if (!uri.empty()) {
      EXPECT_NE(uri.find("PageToken=PT"), std::string::npos) << uri;
    }
  }
  ASSERT_EQ(seen.size(), expected.size());
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], expected[i].second) << i;

  // StartTime< alone: the calls before the day, in start order too (here: none but day-old).
  auto before = json(call(bhttp::verb::get, path + "?StartTime%3C=2026-12-02", &main_));
  EXPECT_EQ(before["calls"].as_array().size(), expected.size());
  // A forged token is refused, as Twilio's are.
  EXPECT_EQ(
      call(bhttp::verb::get, path + "?StartTime=2026-12-01&PageToken=PTx_3", &main_).result_int(),
      400);
  EXPECT_EQ(
      call(bhttp::verb::get, path + "?StartTime=2026-12-01&PageToken=PT5_", &main_).result_int(),
      400);
}

TEST_F(ApiTest, CallsListNewestFirstWithFiltersAndFetch) {
  auto add = [&](const Account& a, const std::string& to, const std::string& status,
                 std::int64_t start) {
    store::Call c;
    c.sid = make_sid("CA");
    c.account_sid = a.sid;
    c.to = to;
    c.from = "+14155550100";
    c.status = status;
    c.start_time = start;
    if (status == "completed") {
      c.end_time = start + 42;
      c.duration = 42;
    }
    c.date_created = c.date_updated = start;
    EXPECT_TRUE(store_->write_sync(store::InsertCall{c}));
    return c.sid;
  };
  const std::int64_t dec1 = 1796083200;  // 2026-12-01 00:00:00 GMT
  add(main_, "1000", "completed", dec1 - 3600);
  const std::string live = add(main_, "1000", "in-progress", dec1 + 60);
  const std::string done = add(main_, "2000", "completed", dec1 + 120);
  add(other_, "1000", "completed", dec1);

  const std::string path = "/2010-04-01/Accounts/" + main_.sid + "/Calls.json";
  auto all = json(call(bhttp::verb::get, path, &main_));
  ASSERT_EQ(all["calls"].as_array().size(), 3u);
  const auto& newest = all["calls"].as_array()[0].as_object();
  EXPECT_EQ(newest.at("sid").as_string(), done);
  EXPECT_EQ(newest.at("duration").as_string(), "42");
  EXPECT_EQ(newest.at("direction").as_string(), "inbound");
  EXPECT_EQ(newest.at("api_version").as_string(), "2010-04-01");

  EXPECT_EQ(json(call(bhttp::verb::get, path + "?To=1000", &main_))["calls"].as_array().size(), 2u);
  auto in_progress = json(call(bhttp::verb::get, path + "?Status=in-progress", &main_));
  ASSERT_EQ(in_progress["calls"].as_array().size(), 1u);
  EXPECT_TRUE(in_progress["calls"].as_array()[0].as_object().at("duration").is_null());
  EXPECT_EQ(json(call(bhttp::verb::get, path + "?StartTime=2026-12-01", &main_))["calls"]
                .as_array()
                .size(),
            2u);
  EXPECT_EQ(json(call(bhttp::verb::get, path + "?StartTime%3C=2026-12-01", &main_))["calls"]
                .as_array()
                .size(),
            1u);
  EXPECT_EQ(call(bhttp::verb::get, path + "?Status=talking", &main_).result_int(), 400);
  EXPECT_EQ(call(bhttp::verb::get, path + "?StartTime=2026-02-30", &main_).result_int(), 400);

  auto paged = json(call(bhttp::verb::get, path + "?PageSize=2", &main_));
  ASSERT_FALSE(paged["next_page_uri"].is_null());
  auto rest = json(call(bhttp::verb::get, std::string(paged["next_page_uri"].as_string()), &main_));
  EXPECT_EQ(rest["calls"].as_array().size(), 1u);

  const std::string one = "/2010-04-01/Accounts/" + main_.sid + "/Calls/" + live + ".json";
  auto fetched = json(call(bhttp::verb::get, one, &main_));
  EXPECT_EQ(fetched["status"].as_string(), "in-progress");
  EXPECT_EQ(fetched["uri"].as_string(), one);
  EXPECT_EQ(call(bhttp::verb::get, one, &other_).result_int(), 404);
}

TEST_F(ApiTest, UpdatingACallThatIsNotLive) {
  store::Call c;
  c.sid = make_sid("CA");
  c.account_sid = main_.sid;
  c.status = "completed";
  c.date_created = c.date_updated = clock_.now_unix();
  ASSERT_TRUE(store_->write_sync(store::InsertCall{c}));
  const std::string path = "/2010-04-01/Accounts/" + main_.sid + "/Calls/" + c.sid + ".json";
  auto redirect = call(bhttp::verb::post, path, &main_, "Url=https%3A%2F%2Fapp.example%2Fnext");
  EXPECT_EQ(redirect.result_int(), 400);
  EXPECT_EQ(json(redirect)["code"].as_int64(), 21220);
  auto hang_up = call(bhttp::verb::post, path, &main_, "Status=completed");
  EXPECT_EQ(hang_up.result_int(), 200);
  EXPECT_EQ(json(hang_up)["status"].as_string(), "completed");
  EXPECT_EQ(call(bhttp::verb::post, path, &main_, "Status=paused").result_int(), 400);
  EXPECT_EQ(call(bhttp::verb::post, path, &main_, "Url=nope").result_int(), 400);
  EXPECT_EQ(call(bhttp::verb::post, path, &main_, "Twiml=%3CResponse%3E%3CSay%3E").result_int(),
            400);
  EXPECT_EQ(call(bhttp::verb::post, path, &main_, "").result_int(), 400);
  EXPECT_EQ(call(bhttp::verb::post, path, &other_, "Status=completed").result_int(), 404);
}

TEST_F(ApiTest, HealthMetricsAndDemo) {
  EXPECT_EQ(call(bhttp::verb::get, "/healthz", nullptr).result_int(), 200);
  auto metrics = call(bhttp::verb::get, "/metrics", nullptr);
  EXPECT_NE(metrics.body().find("process_resident_memory_bytes"), std::string::npos);
  auto demo = call(bhttp::verb::post, "/demo/voice", nullptr, "CallSid=CA1");
  EXPECT_NE(demo.body().find("<Gather"), std::string::npos);
  auto readback = call(bhttp::verb::post, "/demo/gather", nullptr, "Digits=4%23");
  EXPECT_NE(readback.body().find("You pressed 4 pound"), std::string::npos) << readback.body();
}

}  // namespace
}  // namespace sb::api::test

namespace sb::api::test {
namespace {

TEST_F(ApiTest, SecondaryAuthTokenIsAcceptedUntilDeletedAndReplacesThePrimaryWhenPromoted) {
  const std::string secondary_path = "/accounts/v1/AuthTokens/Secondary";
  auto made = call(bhttp::verb::post, secondary_path, &sub_);
  ASSERT_EQ(made.result_int(), 201) << made.body();
  const auto body = json(made);
  const std::string token(body.at("secondary_auth_token").as_string());
  EXPECT_EQ(token.size(), 32u);
  EXPECT_EQ(body.at("account_sid").as_string(), sub_.sid);
  Account with_secondary = sub_;
  with_secondary.auth_token = token;
  const std::string self = "/2010-04-01/Accounts/" + sub_.sid + ".json";
  EXPECT_EQ(call(bhttp::verb::get, self, &sub_).result_int(), 200);
  EXPECT_EQ(call(bhttp::verb::get, self, &with_secondary).result_int(), 200);
  // Another account's token is not this account's secondary.
  Account wrong = sub_;
  wrong.auth_token = main_.auth_token;
  EXPECT_EQ(call(bhttp::verb::get, self, &wrong).result_int(), 401);

  // Deleted: only the primary works.
  EXPECT_EQ(call(bhttp::verb::delete_, secondary_path, &with_secondary).result_int(), 204);
  EXPECT_EQ(call(bhttp::verb::get, self, &with_secondary).result_int(), 401);
  EXPECT_EQ(call(bhttp::verb::delete_, secondary_path, &sub_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::post, "/accounts/v1/AuthTokens/Promote", &sub_).result_int(), 400);

  // Promoted: the secondary is the token, the old one is refused.
  const auto again = json(call(bhttp::verb::post, secondary_path, &sub_));
  Account rotated = sub_;
  rotated.auth_token = std::string(again.at("secondary_auth_token").as_string());
  auto promoted = call(bhttp::verb::post, "/accounts/v1/AuthTokens/Promote", &rotated);
  ASSERT_EQ(promoted.result_int(), 200) << promoted.body();
  EXPECT_EQ(json(promoted).at("auth_token").as_string(), rotated.auth_token);
  EXPECT_EQ(call(bhttp::verb::get, self, &sub_).result_int(), 401);
  EXPECT_EQ(call(bhttp::verb::get, self, &rotated).result_int(), 200);
  EXPECT_EQ(call(bhttp::verb::get, "/accounts/v1/AuthTokens/Nope", &rotated).result_int(), 404);
}

}  // namespace
}  // namespace sb::api::test
