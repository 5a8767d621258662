#include "events/pipeline.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <map>

#include "support/fake_delegate_invoker.hpp"

namespace sb::events {
namespace {

json::value J(std::string_view text) { return json::parse(text); }

class Directory final : public ChannelDirectory {
 public:
  ChannelPtr add(std::string name, std::string_view attributes = "{}") {
    auto c = std::make_shared<Channel>();
    c->sid = "CH" + std::string(32 - std::to_string(channels_.size()).size(), '0') +
             std::to_string(channels_.size());
    c->account_sid = "AC1";
    c->name = name;
    auto a = parse_channel_attributes(J(attributes));
    EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
    if (a) c->attributes = std::move(*a);
    c->signing_secret = "whsec_Y2hhbm5lbA==";
    channels_[name] = c;
    return c;
  }
  ChannelPtr find_channel(std::string_view account, std::string_view name) const override {
    auto it = channels_.find(std::string(name));
    return account == "AC1" && it != channels_.end() ? it->second : nullptr;
  }

 private:
  std::map<std::string, ChannelPtr> channels_;
};

DelegateReply processed(const json::object& ce, std::string_view path_value_json) {
  json::object out = ce;
  auto patch = J(path_value_json).as_object();
  for (auto& kv : patch) out[kv.key()] = kv.value();
  return {DelegateReply::Outcome::kProcessed, out, ""};
}

struct Harness {
  Directory dir;
  sb::testing::FakeDelegateInvoker delegates;
  Result<PipelineResult> run(ChannelPtr origin, std::string_view body,
                             std::string kind = "account") {
    asio::io_context io;
    EventHeader h{"EV1", "AC1", origin->name, 1'700'000'000'000};
    auto f = asio::co_spawn(
        io,
        [](asio::awaitable<Result<PipelineResult>> a)
            -> asio::awaitable<std::optional<Result<PipelineResult>>> {
          co_return co_await std::move(a);
        }(run_pipeline(dir, delegates, origin, kind, h, J(body).as_object())),
        asio::use_future);
    io.run();
    return std::move(*f.get());
  }
};

std::vector<std::string> names(const PipelineResult& r) {
  std::vector<std::string> out;
  for (const auto& d : r.deliveries) out.push_back(d.channel->name);
  return out;
}

TEST(Pipeline, HierarchyPublishesToNearestExistingAncestors) {
  Harness h;
  h.dir.add("app");
  h.dir.add("app.orders.paid");  // app.orders does not exist
  auto r = h.run(h.dir.find_channel("AC1", "app.orders.paid"), R"({"type":"t","metadata":{}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(names(*r), (std::vector<std::string>{"app.orders.paid", "app"}));
}

TEST(Pipeline, PublishToParentFalseStopsTheClimb) {
  Harness h;
  h.dir.add("a");
  h.dir.add("a.b", R"({"publish_to_parent": false})");
  h.dir.add("a.b.c");
  auto r = h.run(h.dir.find_channel("AC1", "a.b.c"), R"({"type":"t","metadata":{}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(names(*r), (std::vector<std::string>{"a.b.c", "a.b"}));
}

TEST(Pipeline, FilterDropsAndStopsTheParentToo) {
  Harness h;
  h.dir.add("calls");
  h.dir.add("calls.status", R"({"filter": {"types": ["call.*"]}})");
  auto ch = h.dir.find_channel("AC1", "calls.status");
  auto kept = h.run(ch, R"({"type":"call.completed","metadata":{}})");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(names(*kept).size(), 2u);
  auto dropped = h.run(ch, R"({"type":"sms.sent","metadata":{}})");
  ASSERT_TRUE(dropped.ok());
  EXPECT_TRUE(dropped->deliveries.empty());
  EXPECT_EQ(dropped->dropped_at, std::vector<std::string>{"calls.status:filter"});
}

TEST(Pipeline, OrderDecidesWhetherFilterSeesTheTranslatedEvent) {
  // translate renames data.state to data.status; the filter wants data.status = done.
  const char* attrs_filter_first =
      R"({"filter": {"where": {"data.status": "done"}}, "translate": {"rename": {"data.state": "data.status"}},
          "order": ["filter", "translate"]})";
  const char* attrs_translate_first =
      R"({"filter": {"where": {"data.status": "done"}}, "translate": {"rename": {"data.state": "data.status"}},
          "order": ["translate", "filter"]})";
  Harness h;
  auto a = h.dir.add("a", attrs_filter_first);
  auto b = h.dir.add("b", attrs_translate_first);
  const char* body = R"({"type":"t","data":{"state":"done"},"metadata":{}})";
  auto ra = h.run(a, body);
  auto rb = h.run(b, body);
  ASSERT_TRUE(ra.ok() && rb.ok());
  EXPECT_TRUE(ra->deliveries.empty());
  ASSERT_EQ(rb->deliveries.size(), 1u);
  EXPECT_EQ(rb->deliveries[0].body.at("data").at("status"), "done");
}

TEST(Pipeline, OrderDecidesWhatTheRouteReceives) {
  Harness h;
  h.dir.add("audit");
  auto before =
      h.dir.add("x", R"({"routes": [{"to": "audit"}], "translate": {"set": {"data.env": "prod"}},
                                   "order": ["routes", "translate"]})");
  auto r = h.run(before, R"({"type":"t","data":{},"metadata":{}})");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(names(*r), (std::vector<std::string>{"x", "audit"}));
  EXPECT_TRUE(r->deliveries[0].body.at("data").as_object().contains("env"));
  EXPECT_FALSE(r->deliveries[1].body.at("data").as_object().contains("env"));
}

TEST(Pipeline, DelegatesInSequenceRewriteDropAndFollowTheFailurePolicy) {
  Harness h;
  h.delegates.script["http://d/enrich"] = [](const json::object& ce) {
    return processed(ce, R"({"metadata": {"vip": true}})");
  };
  h.delegates.script["http://d/drop"] = [](const json::object&) {
    return DelegateReply{DelegateReply::Outcome::kDropped, {}, ""};
  };
  h.dir.add("audit");
  auto enrich =
      h.dir.add("e", R"({"delegates": [{"url": "http://d/enrich"}, {"url": "http://d/broken"}],
                                   "routes": [{"to": "audit", "when": {"metadata.vip": true}}]})");
  auto r = h.run(enrich, R"({"type":"t","metadata":{}})");
  ASSERT_TRUE(r.ok());
  // The broken delegate (on_failure pass) did not stop it; the metadata the first added routed it.
  EXPECT_EQ(names(*r), (std::vector<std::string>{"e", "audit"}));
  EXPECT_EQ(h.delegates.calls, (std::vector<std::string>{"http://d/enrich", "http://d/broken"}));

  auto strict = h.dir.add(
      "s",
      R"({"delegates": [{"url": "http://d/broken", "on_failure": "drop"}, {"url": "http://d/enrich"}]})");
  auto rs = h.run(strict, R"({"type":"t","metadata":{}})");
  ASSERT_TRUE(rs.ok());
  EXPECT_TRUE(rs->deliveries.empty());

  auto drop = h.dir.add("d", R"({"delegates": [{"url": "http://d/drop"}]})");
  auto rd = h.run(drop, R"({"type":"t","metadata":{}})");
  ASSERT_TRUE(rd.ok());
  EXPECT_TRUE(rd->deliveries.empty());
}

TEST(Pipeline, ParallelDelegatesMergeInListOrder) {
  Harness h;
  h.delegates.script["http://d/a"] = [](const json::object& ce) {
    return processed(ce, R"({"metadata": {"a": 1}, "data": {"from": "a"}})");
  };
  h.delegates.script["http://d/b"] = [](const json::object& ce) {
    return processed(ce, R"({"metadata": {"b": 2}})");
  };
  auto ch = h.dir.add(
      "p",
      R"({"delegates": [{"url": "http://d/a"}, {"url": "http://d/b"}], "delegates_mode": "parallel"})");
  auto r = h.run(ch, R"({"type":"t","data":{"from":"publisher"},"metadata":{}})");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->deliveries.size(), 1u);
  const auto& body = r->deliveries[0].body;
  EXPECT_EQ(body.at("metadata").at("a"), 1);
  EXPECT_EQ(body.at("metadata").at("b"), 2);
  EXPECT_EQ(body.at("data").at("from"), "a");
}

TEST(Pipeline, TranslateSelectRenameSet) {
  Translate t;
  auto a = parse_channel_attributes(J(
      R"({"translate": {"select": ["data.sid", "data.status"], "rename": {"data.sid": "data.call_sid"},
                         "set": {"data.env": "prod", "metadata.stage": 2}}})"));
  ASSERT_TRUE(a.ok());
  Body body =
      J(R"({"type":"call","data":{"sid":"CA1","status":"completed","secret":"x"},"metadata":{"k":1}})")
          .as_object();
  apply_translate(a->translate, body);
  EXPECT_EQ(body.at("data"), J(R"({"status":"completed","call_sid":"CA1","env":"prod"})"));
  EXPECT_EQ(body.at("metadata"), J(R"({"k":1,"stage":2})"));
  EXPECT_EQ(body.at("type"), "call");
}

TEST(Pipeline, PermissionsRefuseAtTheOriginOnly) {
  Harness h;
  h.dir.add("open", R"({"permissions": {"publish": ["system"]}})");  // parent: not checked
  auto ch = h.dir.add("open.child", R"({"permissions": {"publish": ["account"]}})");
  auto ok = h.run(ch, R"({"type":"t","metadata":{}})", "account");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->deliveries.size(), 2u);
  auto refused = h.run(ch, R"({"type":"t","metadata":{}})", "token");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().status, 403);
}

TEST(Pipeline, PermissionsLaterInTheOrderRunAfterDelegates) {
  Harness h;
  h.delegates.script["http://d/a"] = [](const json::object& ce) { return processed(ce, "{}"); };
  auto ch = h.dir.add(
      "c", R"({"permissions": {"publish": ["account"]}, "delegates": [{"url": "http://d/a"}],
                              "order": ["delegates", "permissions"]})");
  auto r = h.run(ch, R"({"type":"t","metadata":{}})", "token");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(h.delegates.calls.size(), 1u);
}

TEST(Pipeline, RouteLoopsEndAndWebhookConditionsApply) {
  Harness h;
  h.dir.add(
      "ping",
      R"({"routes": [{"to": "pong"}], "webhook": {"url": "http://hook/x", "when": {"metadata.vip": true}}})");
  h.dir.add("pong", R"({"routes": [{"to": "ping"}]})");
  auto r = h.run(h.dir.find_channel("AC1", "ping"), R"({"type":"t","metadata":{"vip":false}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(names(*r), (std::vector<std::string>{"ping", "pong"}));
  EXPECT_TRUE(r->webhooks.empty());
  auto vip = h.run(h.dir.find_channel("AC1", "ping"), R"({"type":"t","metadata":{"vip":true}})");
  ASSERT_TRUE(vip.ok());
  ASSERT_EQ(vip->webhooks.size(), 1u);
  EXPECT_EQ(vip->webhooks[0].url, "http://hook/x");
  EXPECT_EQ(vip->webhooks[0].secret, "whsec_Y2hhbm5lbA==");
}

TEST(Events, PublishValidationAndCloudEventShape) {
  auto one =
      parse_publish_body(R"({"type":"order.paid","data":{"n":1},"metadata":{"k":"v"}})", "/src");
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].at("source"), "/src");
  auto ce = to_cloudevent({"EVx", "AC1", "orders", 1'796'144'400'123}, "orders", (*one)[0]);
  EXPECT_EQ(ce.at("specversion"), "1.0");
  EXPECT_EQ(ce.at("id"), "EVx");
  EXPECT_EQ(ce.at("type"), "order.paid");
  EXPECT_EQ(ce.at("time"), "2026-12-01T17:00:00.123Z");
  EXPECT_EQ(ce.at("datacontenttype"), "application/json");
  EXPECT_EQ(ce.at("channel"), "orders");
  EXPECT_EQ(ce.at("metadata").at("k"), "v");
  EXPECT_FALSE(parse_publish_body(R"({"data":{}})", "/s").ok());
  EXPECT_FALSE(parse_publish_body(R"({"type":"t","colour":1})", "/s").ok());
  EXPECT_FALSE(parse_publish_body(R"({"type":"t","metadata":[]})", "/s").ok());
  EXPECT_FALSE(parse_publish_body("[]", "/s").ok());
  EXPECT_FALSE(parse_publish_body("{nope", "/s").ok());
  const std::string big = R"({"type":"t","data":")" + std::string(70 * 1024, 'x') + R"("})";
  auto too_big = parse_publish_body(big, "/s");
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().status, 413);
  EXPECT_EQ(parse_time_ms("2026-12-01T17:00:00.123Z"), 1'796'144'400'123);
  EXPECT_EQ(parse_time_ms("2026-12-01T18:00:00+01:00"), 1'796'144'400'000);
  EXPECT_EQ(parse_time_ms("1796144400"), 1'796'144'400'000);
  EXPECT_EQ(parse_time_ms("yesterday"), std::nullopt);
}

}  // namespace
}  // namespace sb::events
