#include "events/stream_queue.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace sb::events {
namespace {

StreamItemPtr item(std::int64_t seq, std::string_view type = "t") {
  auto i = std::make_shared<StreamItem>();
  i->seq = seq;
  i->event_sid = "EV" + std::to_string(seq);
  Body b;
  b["type"] = type;
  i->body = std::make_shared<const Body>(std::move(b));
  return i;
}

TEST(StreamQueue, DropOldestKeepsTheNewest) {
  asio::io_context io;
  auto q = std::make_shared<StreamQueue>(io.get_executor(), 3, Overflow::kDropOldest, Filter{});
  for (int i = 1; i <= 5; ++i) q->push(item(i));
  auto items = q->take();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items.front()->seq, 3);
  EXPECT_EQ(items.back()->seq, 5);
  EXPECT_EQ(q->dropped(), 2u);
  EXPECT_FALSE(q->overflowed());
}

TEST(StreamQueue, DisconnectPolicyMarksOverflowAndStopsQueueing) {
  asio::io_context io;
  auto q = std::make_shared<StreamQueue>(io.get_executor(), 2, Overflow::kDisconnect, Filter{});
  q->push(item(1));
  q->push(item(2));
  EXPECT_FALSE(q->overflowed());
  q->push(item(3));
  EXPECT_TRUE(q->overflowed());
  q->push(item(4));
  EXPECT_TRUE(q->take().empty());
}

TEST(StreamQueue, SubscriberFilterApplies) {
  asio::io_context io;
  Filter f;
  f.types = {"keep.*"};
  auto q = std::make_shared<StreamQueue>(io.get_executor(), 10, Overflow::kDisconnect, f);
  q->push(item(1, "keep.a"));
  q->push(item(2, "other"));
  auto items = q->take();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]->seq, 1);
}

TEST(StreamQueue, PushFromAnotherThreadWakesTheWaiter) {
  asio::io_context io;
  auto q = std::make_shared<StreamQueue>(io.get_executor(), 10, Overflow::kDisconnect, Filter{});
  bool woke = false;
  asio::co_spawn(
      io,
      [](std::shared_ptr<StreamQueue> q, bool& woke) -> asio::awaitable<void> {
        // A deadline far away: only the push can end this wait.
        co_await q->wait(std::chrono::steady_clock::now() + std::chrono::hours(1));
        woke = !q->take().empty();
      }(q, woke),
      asio::detached);
  io.poll();  // the consumer is now waiting
  std::thread producer([&] { q->push(item(1)); });
  producer.join();
  io.run();
  EXPECT_TRUE(woke);
}

TEST(StreamQueue, CloseWakesTheWaiter) {
  asio::io_context io;
  auto q = std::make_shared<StreamQueue>(io.get_executor(), 10, Overflow::kDisconnect, Filter{});
  bool closed = false;
  asio::co_spawn(
      io,
      [](std::shared_ptr<StreamQueue> q, bool& closed) -> asio::awaitable<void> {
        co_await q->wait(std::chrono::steady_clock::now() + std::chrono::hours(1));
        closed = q->closed();
      }(q, closed),
      asio::detached);
  io.poll();
  q->close();
  io.run();
  EXPECT_TRUE(closed);
}

}  // namespace
}  // namespace sb::events

namespace sb::events {
namespace {

TEST(StreamQueue, PacedConsumerTakesOneAtATimeAndTheBoundStillHolds) {
  asio::io_context io;
  auto q = std::make_shared<StreamQueue>(io.get_executor(), 3, Overflow::kDisconnect, Filter{});
  q->push(item(1));
  q->push(item(2));
  auto one = q->take(1);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]->seq, 1);
  q->push(item(3));
  q->push(item(4));
  EXPECT_FALSE(q->overflowed());
  q->push(item(5));  // 2, 3, 4 still queued: the fourth overflows
  EXPECT_TRUE(q->overflowed());
}

}  // namespace
}  // namespace sb::events
