#include "events/service.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include "support/fake_clock.hpp"
#include "support/fake_http_client.hpp"
#include "support/run_on.hpp"
#include "support/temp_dir.hpp"

namespace sb::events {
namespace {

// co_spawn into a future needs a default-constructible result: carry it in an optional.
template <typename T>
T run_on(EventService& svc, asio::awaitable<T> a) {
  auto f = asio::co_spawn(
      svc.executor(),
      [](asio::awaitable<T> inner) -> asio::awaitable<std::optional<T>> {
        co_return co_await std::move(inner);
      }(std::move(a)),
      asio::use_future);
  return std::move(*f.get());
}

// Lets the events thread finish what it is doing, then waits for events.db.
void settle(EventService& svc) {
  asio::post(svc.executor(), asio::use_future).get();
  svc.flush_store();
}

struct Fixture : ::testing::Test {
  sb::testing::TempDir dir;
  sb::testing::FakeClock clock;
  sb::testing::FakeHttpClient* http = nullptr;
  std::unique_ptr<EventService> svc;

  void open(ServiceOptions options = {}) {
    auto s = EventService::open(dir.file("events.db"), std::move(options), clock);
    ASSERT_TRUE(s.ok()) << s.error().message;
    svc = std::move(*s);
    auto fake = std::make_unique<sb::testing::FakeHttpClient>();
    http = fake.get();
    svc->use_http_client(std::move(fake));
    svc->start();
  }
  ChannelPtr channel(std::string name, std::string_view attrs = "{}") {
    auto c = run_on(*svc, svc->create_channel("AC1", std::move(name), json::parse(attrs)));
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    return c.ok() ? *c : nullptr;
  }
  SubscriberPtr webhook(ChannelPtr ch, std::string secret, std::string_view attrs = "{}") {
    auto s = run_on(*svc, svc->create_subscriber(ch, "webhook", "http://127.0.0.1:9/hook",
                                                 std::move(secret), json::parse(attrs)));
    EXPECT_TRUE(s.ok());
    return s.ok() ? *s : nullptr;
  }
  Result<EventService::Published> publish(ChannelPtr ch, std::string_view body,
                                          std::optional<std::string> key = std::nullopt) {
    std::vector<Body> bodies{json::parse(body).as_object()};
    return run_on(*svc, svc->publish(ch, "account", std::move(bodies), std::move(key), false));
  }
};

TEST_F(Fixture, PublishStoresHistoryAndSignsTheWebhook) {
  open();
  auto ch = channel("orders");
  const std::string secret = generate_secret();
  auto sub = webhook(ch, secret);
  auto p = publish(ch, R"({"type":"order.paid","data":{"n":1},"metadata":{}})");
  ASSERT_TRUE(p.ok()) << p.error().message;
  const std::string id(p->response.at("sid").as_string());
  auto h = svc->history(*ch, std::nullopt, 10);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->items.size(), 1u);
  EXPECT_EQ(h->items[0].event_sid, id);
  ASSERT_TRUE(http->wait_for(1));
  EXPECT_EQ(http->header(0, "webhook-id"), id);
  EXPECT_EQ(http->header(0, "Content-Type"), "application/cloudevents+json");
  const auto ts = std::stoll(http->header(0, "webhook-timestamp"));
  EXPECT_EQ(ts, clock.now_ms() / 1000);
  EXPECT_EQ(http->header(0, "webhook-signature"),
            sign_v1(*secret_key(secret), id, ts, http->request(0).body));
  auto ce = json::parse(http->request(0).body);
  EXPECT_EQ(ce.at("type"), "order.paid");
  EXPECT_EQ(ce.at("specversion"), "1.0");
}

TEST_F(Fixture, FailedDeliveryIsRetriedOnScheduleWithTheSameId) {
  ServiceOptions o;
  o.retry_schedule_ms = {5'000, 60'000};
  open(o);
  auto ch = channel("orders");
  auto sub = webhook(ch, generate_secret());
  http->next({.status = 500});
  http->next({.status = 200});
  auto p = publish(ch, R"({"type":"t"})");
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(http->wait_for(1));
  settle(*svc);
  auto d = svc->deliveries(*sub, 10);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 1u);
  auto& row = (*d)[0].as_object();
  EXPECT_EQ(row.at("status"), "pending");
  EXPECT_EQ(row.at("attempt_count"), 1);
  EXPECT_EQ(row.at("next_attempt").as_string(), rfc3339_ms(clock.now_ms() + 5'000));
  // Not due yet: a kick sends nothing.
  clock.advance_ms(4'999);
  svc->kick();
  settle(*svc);
  EXPECT_EQ(http->count(), 1u);
  clock.advance_ms(1);
  svc->kick();
  ASSERT_TRUE(http->wait_for(2));
  EXPECT_EQ(http->header(1, "webhook-id"), http->header(0, "webhook-id"));
  settle(*svc);
  d = svc->deliveries(*sub, 10);
  EXPECT_EQ((*d)[0].at("status"), "delivered");
  EXPECT_EQ((*d)[0].at("attempts").as_array().size(), 2u);
}

TEST_F(Fixture, RetryAfterPushesTheNextAttemptBack) {
  ServiceOptions o;
  o.retry_schedule_ms = {1'000};
  open(o);
  auto ch = channel("c");
  auto sub = webhook(ch, generate_secret());
  http->next({.status = 429, .headers = {{"Retry-After", "120"}}});
  ASSERT_TRUE(publish(ch, R"({"type":"t"})").ok());
  ASSERT_TRUE(http->wait_for(1));
  settle(*svc);
  auto d = svc->deliveries(*sub, 10);
  EXPECT_EQ((*d)[0].at("next_attempt").as_string(), rfc3339_ms(clock.now_ms() + 120'000));
}

TEST_F(Fixture, GoneDisablesTheEndpointAndAnEventSaysSo) {
  open();
  auto ch = channel("c");
  auto sub = webhook(ch, generate_secret());
  http->next({.status = 410});
  ASSERT_TRUE(publish(ch, R"({"type":"t"})").ok());
  ASSERT_TRUE(http->wait_for(1));
  settle(*svc);
  settle(*svc);  // the system event's channel creation and publish
  EXPECT_EQ(svc->find_subscriber("AC1", sub->sid)->status, "disabled");
  ChannelPtr sys;
  for (int i = 0; i < 100 && !sys; ++i) {
    settle(*svc);
    sys = svc->find_channel("AC1", "switchboard.subscribers");
  }
  ASSERT_TRUE(sys);
  std::size_t n = 0;
  for (int i = 0; i < 100 && n == 0; ++i) {
    settle(*svc);
    n = svc->history(*sys, std::nullopt, 10)->items.size();
  }
  ASSERT_EQ(n, 1u);
  auto item = svc->history(*sys, std::nullopt, 10)->items[0];
  EXPECT_EQ(item.body->at("type"), "switchboard.subscriber.disabled");
  EXPECT_EQ(item.body->at("data").at("subscriber_sid").as_string(), sub->sid);
}

TEST_F(Fixture, ExhaustedRetriesDisableAnEndpointThatNeverSucceeded) {
  ServiceOptions o;
  o.retry_schedule_ms = {10};
  open(o);
  auto ch = channel("c");
  auto sub = webhook(ch, generate_secret());
  http->next({.status = 500});
  http->next({.status = 500});
  ASSERT_TRUE(publish(ch, R"({"type":"t"})").ok());
  ASSERT_TRUE(http->wait_for(1));
  settle(*svc);
  clock.advance_ms(10);
  svc->kick();
  ASSERT_TRUE(http->wait_for(2));
  settle(*svc);
  EXPECT_EQ(svc->find_subscriber("AC1", sub->sid)->status, "disabled");
  auto d = svc->deliveries(*sub, 10);
  EXPECT_EQ((*d)[0].at("status"), "failed");
}

TEST_F(Fixture, ADeliveryDoesNotUndoAnUpdateMadeWhileItWasInFlight) {
  open();
  auto ch = channel("c");
  auto sub = webhook(ch, generate_secret());
  // The events thread blocks inside the request, as behind a slow endpoint.
  http->hold(sb::testing::FakeHttpClient::Hold::kBlockThread);
  struct Release {  // however the test ends, the events thread gets out of fetch()
    sb::testing::FakeHttpClient* http;
    ~Release() { http->release(); }
  } release{http};
  ASSERT_TRUE(publish(ch, R"({"type":"t"})").ok());
  ASSERT_TRUE(http->wait_for(1));  // the events thread is inside the request now
  // The update runs on an executor of its own: the events thread is busy delivering.
  asio::io_context other;
  EventService::SubscriberUpdate u;
  u.url = "http://127.0.0.1:9/moved";
  auto updated = sb::testing::run_on(other, svc->update_subscriber(sub, u));
  ASSERT_TRUE(updated.ok());
  http->release();
  settle(*svc);
  auto now = svc->find_subscriber("AC1", sub->sid);
  ASSERT_TRUE(now);
  EXPECT_EQ(now->url, "http://127.0.0.1:9/moved");  // the delivery's success kept the update
  EXPECT_GT(now->last_success_ms, 0);
}

TEST_F(Fixture, PendingDeliveriesSurviveARestart) {
  ServiceOptions o;
  o.retry_schedule_ms = {3'600'000};
  open(o);
  auto ch = channel("c");
  webhook(ch, generate_secret());
  http->next(sb::testing::FakeReply::transport_failure());
  ASSERT_TRUE(publish(ch, R"({"type":"t"})").ok());
  ASSERT_TRUE(http->wait_for(1));
  settle(*svc);
  svc->stop();
  svc.reset();
  open(o);
  EXPECT_EQ(svc->pending_webhooks(), 1u);
  EXPECT_TRUE(svc->find_channel("AC1", "c"));
  clock.advance_ms(3'600'000);
  svc->kick();
  ASSERT_TRUE(http->wait_for(1));
}

TEST_F(Fixture, IdempotencyKeyReplaysTheFirstResponse) {
  open();
  auto ch = channel("c");
  auto a = publish(ch, R"({"type":"t"})", "k1");
  auto b = publish(ch, R"({"type":"t"})", "k1");
  auto c = publish(ch, R"({"type":"t"})", "k2");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_FALSE(a->replayed);
  EXPECT_TRUE(b->replayed);
  EXPECT_EQ(a->response, b->response);
  EXPECT_NE(a->response.at("sid"), c->response.at("sid"));
  EXPECT_EQ(svc->history(*ch, std::nullopt, 10)->items.size(), 2u);
}

TEST_F(Fixture, HistoryRetentionAndGapSignal) {
  open();
  auto ch = channel("c", R"({"history": {"max_events": 2}})");
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    auto p = publish(ch, R"({"type":"t"})");
    ASSERT_TRUE(p.ok());
    ids.emplace_back(p->response.at("sid").as_string());
  }
  auto all = svc->history(*ch, std::nullopt, 10);
  ASSERT_EQ(all->items.size(), 2u);
  EXPECT_EQ(all->items[0].event_sid, ids[2]);
  auto resumed = svc->history(*ch, ids[2], 10);
  EXPECT_FALSE(resumed->gap);
  ASSERT_EQ(resumed->items.size(), 1u);
  EXPECT_EQ(resumed->items[0].event_sid, ids[3]);
  auto gone = svc->history(*ch, ids[0], 10);
  EXPECT_TRUE(gone->gap);
  EXPECT_EQ(gone->items.size(), 2u);
}

TEST_F(Fixture, StreamsReceiveInHistoryOrderAcrossTheHierarchy) {
  open();
  auto parent = channel("app");
  auto child = channel("app.orders");
  asio::io_context io;
  auto q = svc->open_stream(*parent, nullptr, io.get_executor());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(publish(child, R"({"type":"t"})").ok());
  io.poll();  // the router hands each worker executor its streams' events in a posted job
  std::deque<StreamItemPtr> items;
  q->take(items);
  ASSERT_EQ(items.size(), 5u);
  for (std::size_t i = 1; i < items.size(); ++i) EXPECT_GT(items[i]->seq, items[i - 1]->seq);
  EXPECT_EQ(json::parse(items[0]->json).at("channel"), "app");
  svc->close_stream(parent->sid, q);
}

TEST_F(Fixture, ChannelNamesAreUniquePerAccount) {
  open();
  channel("dup");
  auto again = run_on(*svc, svc->create_channel("AC1", "dup", json::value()));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().status, 409);
  auto other = run_on(*svc, svc->create_channel("AC2", "dup", json::value()));
  EXPECT_TRUE(other.ok());
}

TEST_F(Fixture, TokensVerifyAndRefuseTamperingAndExpiry) {
  open();
  AccessToken t{"AC1", {"app.*"}, false, true, clock.now_ms() / 1000 + 60};
  const auto token = svc->issue_token(t);
  auto v = svc->verify_token(token);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->allows("app.orders"));
  EXPECT_FALSE(v->allows("billing"));
  std::string bad = token;
  bad[bad.size() / 2] = bad[bad.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(svc->verify_token(bad));
  clock.advance_ms(61'000);
  EXPECT_FALSE(svc->verify_token(token));
}

}  // namespace
}  // namespace sb::events
