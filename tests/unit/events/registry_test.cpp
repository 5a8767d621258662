#include "events/registry.hpp"
#include "events/delivery_policy.hpp"

#include <gtest/gtest.h>

#include "support/fake_clock.hpp"
#include "support/run_on.hpp"
#include "support/temp_dir.hpp"

namespace sb::events {
namespace {

using sb::testing::run_on;

struct RegistryTest : ::testing::Test {
  void SetUp() override { reopen(); }
  void reopen() {
    registry.reset();
    if (store) store->close();
    auto s = EventStore::open(dir.file("events.db"));
    ASSERT_TRUE(s.ok()) << s.error().message;
    store = std::move(*s);
    registry = std::make_unique<ChannelRegistry>(*store, clock, 60'000);
    ASSERT_TRUE(store->read([&](Db& db) { return registry->load(db); }));
  }
  ChannelPtr channel(std::string name) {
    auto c = run_on(io, registry->create_channel("AC1", std::move(name), json::value()));
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : nullptr;
  }
  SubscriberPtr subscriber(ChannelPtr ch, std::string type = "webhook") {
    auto s = run_on(io, registry->create_subscriber(ch, std::move(type), "http://127.0.0.1:9/h",
                                                    generate_secret(), json::value()));
    EXPECT_TRUE(s.ok());
    return s.ok() ? *s : nullptr;
  }
  std::vector<std::string> webhooks_of(const ChannelPtr& ch) {
    std::vector<std::string> out;
    registry->for_each_webhook(ch->sid, [&](const SubscriberPtr& s) { out.push_back(s->sid); });
    return out;
  }

  sb::testing::TempDir dir;
  sb::testing::FakeClock clock;
  asio::io_context io;
  std::unique_ptr<EventStore> store;
  std::unique_ptr<ChannelRegistry> registry;
};

TEST_F(RegistryTest, ChannelsAreFoundByNameOrSidWithinTheirAccount) {
  auto ch = channel("orders");
  ASSERT_TRUE(ch);
  EXPECT_EQ(ch->date_created, clock.now_unix());
  EXPECT_EQ(registry->find_channel("AC1", "orders"), ch);
  EXPECT_EQ(registry->resolve_channel("AC1", ch->sid), ch);
  EXPECT_EQ(registry->resolve_channel("AC1", "orders"), ch);
  EXPECT_FALSE(registry->resolve_channel("AC2", ch->sid));
  EXPECT_EQ(registry->channel_by_sid(ch->sid), ch);
  channel("billing");
  auto list = registry->list_channels("AC1");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]->name, "billing");  // by name
  EXPECT_TRUE(registry->list_channels("AC2").empty());
  auto dup = run_on(io, registry->create_channel("AC1", "orders", json::value()));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().status, 409);
}

TEST_F(RegistryTest, OnlyWebhookSubscribersAreIndexedForPublishing) {
  auto ch = channel("orders");
  auto hook = subscriber(ch);
  auto stream = subscriber(ch, "stream");
  EXPECT_EQ(webhooks_of(ch), std::vector<std::string>{hook->sid});
  EXPECT_EQ(registry->list_subscribers(ch->sid).size(), 2u);
  EXPECT_EQ(registry->find_subscriber("AC1", stream->sid), stream);
  EXPECT_FALSE(registry->find_subscriber("AC2", stream->sid));
  ASSERT_TRUE(run_on(io, registry->delete_subscriber(hook)));
  EXPECT_TRUE(webhooks_of(ch).empty());
  EXPECT_FALSE(registry->subscriber(hook->sid));
}

TEST_F(RegistryTest, ARotatedSecretKeepsSigningForTheOverlap) {
  auto ch = channel("orders");
  auto sub = subscriber(ch);
  SubscriberUpdate u;
  u.secret = generate_secret();
  auto updated = run_on(io, registry->update_subscriber(sub, u));
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ((*updated)->secret, *u.secret);
  EXPECT_EQ((*updated)->previous_secret, sub->secret);
  EXPECT_EQ((*updated)->previous_expires_ms, clock.now_ms() + 60'000);
  EXPECT_EQ(registry->subscriber(sub->sid), *updated);
}

TEST_F(RegistryTest, DisablingPersistsAndHappensOnce) {
  auto ch = channel("orders");
  auto sub = subscriber(ch);
  auto disabled = registry->disable(sub->sid, "endpoint answered 410 Gone");
  ASSERT_TRUE(disabled);
  EXPECT_EQ(disabled->status, "disabled");
  EXPECT_FALSE(registry->disable(sub->sid, "again"));  // already disabled: nothing to say
  store->flush();
  reopen();
  auto loaded = registry->subscriber(sub->sid);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->status, "disabled");
  EXPECT_EQ(loaded->status_reason, "endpoint answered 410 Gone");
}

TEST_F(RegistryTest, DeletingAChannelTakesItsSubscribersAndSurvivesAReload) {
  auto ch = channel("orders");
  auto kept = channel("billing");
  auto sub = subscriber(ch);
  auto other = subscriber(kept);
  ASSERT_TRUE(run_on(io, registry->delete_channel(ch)));
  EXPECT_FALSE(registry->find_channel("AC1", "orders"));
  EXPECT_FALSE(registry->subscriber(sub->sid));
  reopen();
  EXPECT_FALSE(registry->find_channel("AC1", "orders"));
  EXPECT_FALSE(registry->subscriber(sub->sid));
  auto billing = registry->find_channel("AC1", "billing");
  ASSERT_TRUE(billing);
  EXPECT_EQ(billing->signing_secret, kept->signing_secret);
  EXPECT_EQ(webhooks_of(billing), std::vector<std::string>{other->sid});
}

}  // namespace
}  // namespace sb::events
