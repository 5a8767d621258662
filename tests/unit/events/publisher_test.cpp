#include "events/publisher.hpp"

#include <gtest/gtest.h>

#include "parts_fixture.hpp"
#include "support/fake_delegate_invoker.hpp"

namespace sb::events {
namespace {

struct PublisherTest : testing::PartsFixture {
  PublisherTest() {
    publisher = std::make_unique<Publisher>(io.get_executor(), *store, *registry, streams, clock,
                                            /*max_system_backlog=*/2);
    publisher->use_delegates(delegates);
    publisher->to_outbox([this](std::vector<OutboxItem> items) {
      for (auto& i : items) outbox.push_back(std::move(i));
    });
    run_events_thread();
  }
  ~PublisherTest() override {
    guard.reset();
    io.stop();
    if (thread.joinable()) thread.join();
    store->flush();  // commit hooks refer to the publisher
    EXPECT_TRUE(delegates.calls.empty()) << "no channel here has delegates";
  }
  Result<Published> publish(ChannelPtr ch, std::string_view body,
                            std::optional<std::string> key = std::nullopt) {
    std::vector<Body> bodies{json::parse(body).as_object()};
    return run(publisher->publish(ch, "account", std::move(bodies), std::move(key), false));
  }

  sb::testing::FakeDelegateInvoker delegates;
  StreamFanout streams;
  std::unique_ptr<Publisher> publisher;
  std::vector<OutboxItem> outbox;  // events thread, read after run() returns
};

TEST_F(PublisherTest, CommittedWebhookDeliveriesGoToTheOutboxForPassingSubscribers) {
  auto ch = channel("orders");
  auto all = webhook(ch);
  auto paid_only = webhook(ch, R"({"filter": {"types": ["order.paid"]}})");
  auto p = publish(ch, R"({"type":"order.created"})");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->response.at("webhooks"), 1);
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].target_sid, all->sid);
  EXPECT_GT(outbox[0].id, 0);  // its row is committed
  EXPECT_EQ(outbox_status(outbox[0].id), "pending");
  ASSERT_TRUE(publish(ch, R"({"type":"order.paid"})").ok());
  EXPECT_EQ(outbox.size(), 3u);
}

TEST_F(PublisherTest, StreamsGetEventsOnlyAfterTheyAreCommitted) {
  auto ch = channel("orders");
  asio::io_context worker;
  auto q = streams.open(ch->sid, {}, worker.get_executor());
  auto p = publish(ch, R"({"type":"t"})");
  ASSERT_TRUE(p.ok());
  worker.poll();
  std::deque<StreamItemPtr> items;
  q->take(items);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]->event_sid, p->response.at("sid").as_string());
  EXPECT_GT(items[0]->seq, 0);
  // The item is what history holds.
  auto row = store->read([&](Db& db) -> Result<std::string> {
    auto st = db.prepare("SELECT body FROM events WHERE seq=?1");
    if (!st) return st.error();
    (*st)->bind(1, items[0]->seq);
    return (*st)->row() ? (*st)->text(0) : std::string();
  });
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(*row, items[0]->json);
  streams.close(ch->sid, q);
}

TEST_F(PublisherTest, AnIdempotencyKeyReplaysTheFirstResponse) {
  auto ch = channel("orders");
  webhook(ch);
  auto a = publish(ch, R"({"type":"t"})", "k");
  auto b = publish(ch, R"({"type":"t"})", "k");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(a->replayed);
  EXPECT_TRUE(b->replayed);
  EXPECT_EQ(a->response, b->response);
  EXPECT_EQ(outbox.size(), 1u);  // the replay queued nothing
}

TEST_F(PublisherTest, AChannelThatRefusesThePublisherKindIsA403) {
  auto c = run(registry->create_channel(
      "AC1", "locked", json::parse(R"({"permissions": {"publish": ["system"]}})")));
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto p = publish(*c, R"({"type":"t"})");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().status, 403);
}

TEST_F(PublisherTest, SystemEventsCreateTheirChannelsWithAncestors) {
  publisher->publish_system("AC1", "calls.completed", "calls.completed", json::object());
  ChannelPtr leaf;
  for (int i = 0; i < 200 && !leaf; ++i) {
    settle();
    leaf = registry->find_channel("AC1", "calls.completed");
  }
  ASSERT_TRUE(leaf);
  EXPECT_TRUE(registry->find_channel("AC1", "calls"));
}

}  // namespace
}  // namespace sb::events
