#include "events/outbox.hpp"

#include <gtest/gtest.h>

#include <mutex>

#include "parts_fixture.hpp"
#include "support/fake_http_client.hpp"

namespace sb::events {
namespace {

struct DispatcherTest : testing::PartsFixture {
  DispatcherTest() { run_events_thread(); }
  ~DispatcherTest() override {
    guard.reset();
    io.stop();
    if (thread.joinable()) thread.join();
  }
  void start(DispatchOptions options = {}) {
    dispatcher = std::make_unique<WebhookDispatcher>(io.get_executor(), *store, *registry, clock,
                                                     std::move(options));
    dispatcher->use_client(http);
    dispatcher->on_disable([this](const std::string& target, std::string reason) {
      std::lock_guard lock(mu);
      disabled.emplace_back(target, std::move(reason));
    });
    ASSERT_TRUE(store->read([&](Db& db) { return dispatcher->load(db); }));
    loaded = dispatcher->pending();  // before start(): the loop may send them at once
    dispatcher->start();
  }
  // A committed pending row for `sub`, as a publish leaves it.
  OutboxItem committed(const SubscriberPtr& sub, std::string event_sid = "EV1") {
    OutboxItem item{0,
                    sub->sid,
                    sub->channel_sid,
                    sub->url,
                    std::move(event_sid),
                    std::make_shared<const std::string>(R"({"type":"t"})"),
                    0,
                    clock.now_ms(),
                    clock.now_ms()};
    Status s = Error::internal("not run");
    store->write([&item, now = clock.now_ms()](Db& db) { return insert_outbox(db, item, now); },
                 [&s](Status r) { s = r; });
    store->flush();
    EXPECT_TRUE(s);
    return item;
  }

  sb::testing::FakeHttpClient http;
  std::unique_ptr<WebhookDispatcher> dispatcher;
  std::size_t loaded = 0;
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> disabled;
};

TEST_F(DispatcherTest, ADeliveredRowIsMarkedSoAndSigned) {
  auto sub = webhook(channel("orders"));
  start();
  auto item = committed(sub);
  dispatcher->post({item});
  ASSERT_TRUE(http.wait_for(1));
  settle();
  EXPECT_EQ(outbox_status(item.id), "delivered");
  EXPECT_EQ(dispatcher->pending(), 0u);
  EXPECT_FALSE(http.header(0, "webhook-signature").empty());
  EXPECT_GT(registry->subscriber(sub->sid)->last_success_ms, 0);
}

TEST_F(DispatcherTest, PendingRowsAreLoadedAndSentAfterARestart) {
  auto sub = webhook(channel("orders"));
  auto item = committed(sub);  // never handed to a dispatcher: as if the daemon died
  start();
  EXPECT_EQ(loaded, 1u);
  ASSERT_TRUE(http.wait_for(1));
  settle();
  EXPECT_EQ(outbox_status(item.id), "delivered");
}

TEST_F(DispatcherTest, GoneAsksForTheEndpointToBeDisabled) {
  auto sub = webhook(channel("orders"));
  http.next({.status = 410});
  start();
  dispatcher->post({committed(sub)});
  ASSERT_TRUE(http.wait_for(1));
  settle();
  std::lock_guard lock(mu);
  ASSERT_EQ(disabled.size(), 1u);
  EXPECT_EQ(disabled[0].first, sub->sid);
  EXPECT_EQ(disabled[0].second, "endpoint answered 410 Gone");
}

TEST_F(DispatcherTest, RetriesWaitForTheScheduleAndDisabledTargetsAreCancelled) {
  auto sub = webhook(channel("orders"));
  http.next({.status = 500});
  DispatchOptions o;
  o.retry_schedule_ms = {1'000, 1'000};
  start(o);
  auto item = committed(sub);
  dispatcher->post({item});
  ASSERT_TRUE(http.wait_for(1));
  settle();
  EXPECT_EQ(outbox_status(item.id), "pending");
  EXPECT_EQ(dispatcher->pending(), 1u);
  dispatcher->kick();
  settle();
  EXPECT_EQ(http.count(), 1u);  // not due yet
  ASSERT_TRUE(registry->disable(sub->sid, "through the API"));
  clock.advance_ms(1'000);
  dispatcher->kick();
  settle();
  settle();
  EXPECT_EQ(http.count(), 1u);  // due, but its target is disabled: cancelled, not sent
  EXPECT_EQ(outbox_status(item.id), "cancelled");
  EXPECT_EQ(dispatcher->pending(), 0u);
}

}  // namespace
}  // namespace sb::events
