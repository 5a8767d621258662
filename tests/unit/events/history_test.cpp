#include "events/history.hpp"

#include <gtest/gtest.h>

#include "parts_fixture.hpp"

namespace sb::events {
namespace {

struct HistoryTest : testing::PartsFixture {
  HistoryTest() { run_events_thread(); }
  ~HistoryTest() override {
    guard.reset();
    io.stop();
    if (thread.joinable()) thread.join();
  }
  // An event row as the publisher stores it.
  void add(const ChannelPtr& ch, std::string sid, std::string type, std::int64_t time_ms) {
    store->write(
        [ch, sid, type, time_ms](Db& db) -> Status {
          auto st = db.prepare(
              "INSERT INTO events(sid, account_sid, channel_sid, type, time_ms, body)"
              " VALUES(?1,?2,?3,?4,?5,?6)");
          if (!st) return st.error();
          (*st)
              ->bind(1, sid)
              .bind(2, ch->account_sid)
              .bind(3, ch->sid)
              .bind(4, type)
              .bind(5, time_ms)
              .bind(6, R"({"type":")" + type + R"("})");
          return step_done(db, **st, "event");
        },
        nullptr);
    store->flush();
  }
  std::vector<std::string> sids(const HistoryPage& page) {
    std::vector<std::string> out;
    for (const auto& i : page.items) out.push_back(i.event_sid);
    return out;
  }

  EventHistory history{*store, clock};
};

TEST_F(HistoryTest, PagesResumeAfterAnEventAndSayWhenItIsGone) {
  auto ch = channel("orders");
  for (int i = 1; i <= 5; ++i) add(ch, "EV" + std::to_string(i), "t", i * 1000);
  auto first = history.page(*ch, std::nullopt, 2);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(sids(*first), (std::vector<std::string>{"EV1", "EV2"}));
  EXPECT_TRUE(first->has_more);
  EXPECT_FALSE(first->gap);
  ASSERT_TRUE(first->items[0].body);
  EXPECT_EQ(first->items[0].body->at("type"), "t");
  auto rest = history.page(*ch, "EV2", 10);
  EXPECT_EQ(sids(*rest), (std::vector<std::string>{"EV3", "EV4", "EV5"}));
  EXPECT_FALSE(rest->has_more);
  EXPECT_FALSE(rest->gap);
  auto gone = history.page(*ch, "EV0", 10);
  EXPECT_TRUE(gone->gap);
  EXPECT_EQ(gone->items.size(), 5u);
}

TEST_F(HistoryTest, ReplayCommitsTheWindowThatPassesTheSubscribersFilter) {
  auto ch = channel("orders");
  auto sub = webhook(ch, R"({"filter": {"types": ["keep"]}})");
  add(ch, "EV1", "keep", 1000);
  add(ch, "EV2", "drop", 2000);
  add(ch, "EV3", "keep", 3000);
  add(ch, "EV4", "keep", 4000);
  auto items = run(history.replay(sub, 1500, 3000));
  ASSERT_TRUE(items.ok()) << items.error().message;
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].event_sid, "EV3");
  EXPECT_EQ((*items)[0].target_sid, sub->sid);
  EXPECT_EQ((*items)[0].created_ms, 3000);  // the event's time, for the disabling rule
  EXPECT_EQ(outbox_status((*items)[0].id), "pending");
  auto deliveries = history.deliveries(*sub, 10);
  ASSERT_TRUE(deliveries.ok());
  ASSERT_EQ(deliveries->size(), 1u);
  EXPECT_EQ((*deliveries)[0].at("event_sid"), "EV3");
}

TEST_F(HistoryTest, OnlyWebhookSubscribersReplay) {
  auto ch = channel("orders");
  auto s = run(registry->create_subscriber(ch, "stream", "", generate_secret(), json::value()));
  ASSERT_TRUE(s.ok());
  auto items = run(history.replay(*s, 0, 1));
  ASSERT_FALSE(items.ok());
  EXPECT_EQ(items.error().status, 400);
}

}  // namespace
}  // namespace sb::events
