#include "events/attributes.hpp"

#include <gtest/gtest.h>

namespace sb::events {
namespace {

json::value J(std::string_view text) { return json::parse(text); }

TEST(ChannelAttributes, ParsesTheDocumentedExample) {
  auto a = parse_channel_attributes(J(R"({
    "permissions": {"publish": ["account"], "subscribe": ["account", "token"]},
    "filter": {"types": ["call.*"], "where": {"data.status": "completed"}},
    "delegates": [{"url": "https://app.example/enrich", "timeout_ms": 2000, "on_failure": "pass"}],
    "delegates_mode": "sequence",
    "translate": {"select": ["data.sid", "data.status"], "rename": {"data.sid": "data.call_sid"}, "set": {"data.env": "prod"}},
    "routes": [{"to": "audit", "when": {"metadata.vip": true}}],
    "publish_to_parent": true,
    "webhook": {"url": "https://app.example/hook", "when": {"metadata.vip": true}},
    "order": ["permissions", "filter", "delegates", "translate", "routes", "webhook"],
    "history": {"max_events": 10000, "max_age_s": 86400},
    "rate_limit": {"per_second": 100, "burst": 200}
  })"));
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->permissions.publish, std::vector<std::string>{"account"});
  EXPECT_FALSE(a->permissions.may_publish("token"));
  EXPECT_EQ(a->filter.types.size(), 1u);
  ASSERT_EQ(a->delegates.size(), 1u);
  EXPECT_EQ(a->delegates[0].timeout_ms, 2000);
  EXPECT_FALSE(a->delegates[0].drop_on_failure);
  EXPECT_EQ(a->translate.rename.size(), 1u);
  ASSERT_EQ(a->routes.size(), 1u);
  EXPECT_EQ(a->routes[0].to, "audit");
  ASSERT_TRUE(a->webhook.has_value());
  EXPECT_EQ(a->history.max_events, 10000);
  EXPECT_DOUBLE_EQ(a->rate_limit.burst, 200);
}

TEST(ChannelAttributes, UnknownKeysAreRefusedByName) {
  auto a = parse_channel_attributes(J(R"({"filtre": {}})"));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().status, 400);
  EXPECT_NE(a.error().message.find("filtre"), std::string::npos);
  auto b = parse_channel_attributes(J(R"({"filter": {"typez": []}})"));
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("filter.typez"), std::string::npos);
}

TEST(ChannelAttributes, BadTypesAndValuesAreRefused) {
  for (const char* text : {
           R"({"publish_to_parent": "yes"})",
           R"({"delegates": [{"url": "ftp://x"}]})",
           R"({"delegates": [{"url": "http://x", "timeout_ms": 0}]})",
           R"({"delegates": [{"url": "http://x", "on_failure": "retry"}]})",
           R"({"delegates_mode": "both"})",
           R"({"routes": [{"to": "bad name"}]})",
           R"({"order": ["filter", "filter"]})",
           R"({"order": ["history"]})",
           R"({"history": {"max_events": -1}})",
           R"({"rate_limit": {"burst": 3}})",
           R"({"permissions": {"publish": ["everyone"]}})",
           R"({"webhook": {"url": "http://x", "secret": "nope"}})",
           R"([1, 2])",
       }) {
    EXPECT_FALSE(parse_channel_attributes(J(text)).ok()) << text;
  }
}

TEST(ChannelAttributes, StagesLeftOutOfOrderRunAfterTheListedOnes) {
  auto a = parse_channel_attributes(J(R"({"order": ["translate", "filter"]})"));
  ASSERT_TRUE(a.ok());
  const std::vector<Stage> expected{Stage::kTranslate, Stage::kFilter, Stage::kPermissions,
                                    Stage::kDelegates, Stage::kRoutes, Stage::kWebhook};
  EXPECT_EQ(a->order, expected);
}

TEST(SubscriberAttributes, ParsesQueueRateAndRetry) {
  auto a = parse_subscriber_attributes(J(
      R"({"queue": {"max_events": 5, "overflow": "drop_oldest"}, "rate_limit": {"per_second": 2},
          "retry_schedule_ms": [10, 20], "filter": {"types": ["a.*"]}})"));
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->queue_max, 5u);
  EXPECT_EQ(a->overflow, Overflow::kDropOldest);
  ASSERT_TRUE(a->rate_limit);
  EXPECT_DOUBLE_EQ(a->rate_limit->burst, 2);
  EXPECT_EQ(a->retry_schedule_ms, (std::vector<std::int64_t>{10, 20}));
  EXPECT_FALSE(parse_subscriber_attributes(J(R"({"queue": {"overflow": "block"}})")).ok());
  EXPECT_FALSE(parse_subscriber_attributes(J(R"({"colour": 1})")).ok());
}

TEST(ChannelNames, Validation) {
  EXPECT_TRUE(validate_channel_name("calls").ok());
  EXPECT_TRUE(validate_channel_name("app.orders.paid").ok());
  EXPECT_TRUE(validate_channel_name("a-b_c.D9").ok());
  EXPECT_FALSE(validate_channel_name("").ok());
  EXPECT_FALSE(validate_channel_name(".calls").ok());
  EXPECT_FALSE(validate_channel_name("calls.").ok());
  EXPECT_FALSE(validate_channel_name("a..b").ok());
  EXPECT_FALSE(validate_channel_name("has space").ok());
  EXPECT_FALSE(validate_channel_name("a.b.c.d.e.f.g.h.i").ok());
  EXPECT_FALSE(validate_channel_name(std::string(129, 'a')).ok());
  EXPECT_FALSE(validate_channel_name("CH0123456789abcdef0123456789abcdef").ok());
  EXPECT_EQ(parent_name("a.b.c"), "a.b");
  EXPECT_EQ(parent_name("a"), std::nullopt);
}

TEST(TypeGlobs, StarMatchesAnyRun) {
  EXPECT_TRUE(type_matches("call.*", "call.completed"));
  EXPECT_TRUE(type_matches("call.*", "call.status.completed"));
  EXPECT_FALSE(type_matches("call.*", "calls.completed"));
  EXPECT_TRUE(type_matches("*.completed", "call.completed"));
  EXPECT_TRUE(type_matches("*", "x"));
  EXPECT_TRUE(type_matches("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(type_matches("a*b*c", "aXXbYY"));
  EXPECT_TRUE(type_matches("exact", "exact"));
  EXPECT_FALSE(type_matches("exact", "exactly"));
}

TEST(Filters, TypesWhereAndWhen) {
  auto a = parse_channel_attributes(J(
      R"({"filter": {"types": ["call.*"], "where": {"data.status": "completed", "data.n": 2}}})"));
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->filter.passes(
      J(R"({"type":"call.x","data":{"status":"completed","n":2.0}})").as_object()));
  EXPECT_FALSE(
      a->filter.passes(J(R"({"type":"sms.x","data":{"status":"completed","n":2}})").as_object()));
  EXPECT_FALSE(
      a->filter.passes(J(R"({"type":"call.x","data":{"status":"ringing","n":2}})").as_object()));
  EXPECT_FALSE(a->filter.passes(J(R"({"type":"call.x","data":{"n":2}})").as_object()));
  auto b = parse_channel_attributes(
      J(R"({"filter": {"types": ["x"], "when": {"metadata.strict": true}}})"));
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->filter.passes(J(R"({"type":"y","metadata":{}})").as_object()));
  EXPECT_FALSE(b->filter.passes(J(R"({"type":"y","metadata":{"strict":true}})").as_object()));
}

TEST(Schedules, ParseUnits) {
  EXPECT_EQ(parse_schedule("5s,5m,30m,2h"),
            (std::vector<std::int64_t>{5000, 300000, 1800000, 7200000}));
  EXPECT_EQ(parse_schedule("100, 200"), (std::vector<std::int64_t>{100, 200}));
  EXPECT_TRUE(parse_schedule("5x").empty());
}

TEST(Schedules, LimitsAndEmptyItems) {
  EXPECT_EQ(parse_schedule("5s,"), (std::vector<std::int64_t>{5000}));  // one trailing comma
  EXPECT_TRUE(parse_schedule("5s,,").empty());
  EXPECT_TRUE(parse_schedule("5s,,5m").empty());
  EXPECT_TRUE(parse_schedule(",5s").empty());
  EXPECT_TRUE(parse_schedule("").empty());
  EXPECT_TRUE(parse_schedule(" , ").empty());
  EXPECT_TRUE(parse_schedule("0").empty());  // would retry at once
  EXPECT_TRUE(parse_schedule("5s,0ms").empty());
  EXPECT_EQ(parse_schedule("168h"), (std::vector<std::int64_t>{604800000}));  // 7 days
  EXPECT_TRUE(parse_schedule("169h").empty());
  EXPECT_TRUE(parse_schedule("9223372036854775807h").empty());  // no overflow
  std::string twenty, twenty_one;
  for (int i = 0; i < 20; ++i) twenty += "1s,";
  twenty_one = twenty + "1s";
  EXPECT_EQ(parse_schedule(twenty).size(), 20u);
  EXPECT_TRUE(parse_schedule(twenty_one).empty());
}

}  // namespace
}  // namespace sb::events
