#include "events/stream_queue.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>

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

std::deque<StreamItemPtr> take(StreamQueue& q, std::size_t max = SIZE_MAX) {
  std::deque<StreamItemPtr> out;
  q.take(out, max);
  return out;
}

// Starts a consumer that waits (with a deadline far away, so only the queue can end the wait)
// and then runs `then`; returns once it is waiting.
void spawn_waiter(asio::io_context& io, std::shared_ptr<StreamQueue> q,
                  std::function<void()> then) {
  asio::co_spawn(
      io,
      [](std::shared_ptr<StreamQueue> q, std::function<void()> then) -> asio::awaitable<void> {
        co_await q->wait(std::chrono::steady_clock::now() + std::chrono::hours(1));
        then();
      }(q, std::move(then)),
      asio::detached);
  io.poll();
}

TEST(StreamQueue, DropOldestKeepsTheNewest) {
  asio::io_context io;
  auto q = std::make_shared<StreamQueue>(io.get_executor(), 3, Overflow::kDropOldest, Filter{});
  for (int i = 1; i <= 5; ++i) q->push(item(i));
  auto items = take(*q);
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
  EXPECT_TRUE(take(*q).empty());
}

TEST(StreamQueue, SubscriberFilterApplies) {
  asio::io_context io;
  Filter f;
  f.types = {"keep.*"};
  auto q = std::make_shared<StreamQueue>(io.get_executor(), 10, Overflow::kDisconnect, f);
  q->push(item(1, "keep.a"));
  q->push(item(2, "other"));
  auto items = take(*q);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]->seq, 1);
}

TEST(StreamQueue, DeliverWakesTheWaiterOnceForABatch) {
  asio::io_context io;
  auto q = std::make_shared<StreamQueue>(io.get_executor(), 10, Overflow::kDisconnect, Filter{});
  std::size_t got = 0;
  int wakes = 0;
  spawn_waiter(io, q, [&] {
    ++wakes;
    got = take(*q).size();
  });
  q->push(item(1));
  q->push(item(2));
  io.poll();
  EXPECT_EQ(wakes, 0) << "push alone does not wake";
  q->deliver();
  q->deliver();  // a second call finds it awake
  io.run();
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(got, 2u);
}

TEST(StreamQueue, ADirectSinkTakesTheBatchWhileTheConsumerWaits) {
  asio::io_context io;
  auto q = std::make_shared<StreamQueue>(io.get_executor(), 10, Overflow::kDisconnect, Filter{});
  std::vector<std::int64_t> sent;
  bool accept = true;
  q->set_direct_sink([&](std::deque<StreamItemPtr>& items) {
    if (!accept) return false;
    for (const auto& i : items) sent.push_back(i->seq);
    items.clear();
    return true;
  });
  bool woke = false;
  spawn_waiter(io, q, [&] { woke = true; });
  q->push(item(1));
  q->push(item(2));
  q->deliver();
  io.poll();
  EXPECT_FALSE(woke) << "the sink sent them: the consumer sleeps on";
  EXPECT_EQ(sent, (std::vector<std::int64_t>{1, 2}));
  // A sink that cannot send (its connection is busy) leaves the items and wakes the consumer.
  accept = false;
  q->push(item(3));
  q->deliver();
  io.run();
  EXPECT_TRUE(woke);
  EXPECT_EQ(take(*q).size(), 1u);
  q->set_direct_sink(nullptr);
}

TEST(StreamQueue, AnOverflowWakesTheConsumerEvenWithASink) {
  asio::io_context io;
  auto q = std::make_shared<StreamQueue>(io.get_executor(), 2, Overflow::kDisconnect, Filter{});
  int sink_calls = 0;
  q->set_direct_sink([&](std::deque<StreamItemPtr>&) {
    ++sink_calls;
    return false;
  });
  bool overflowed = false;
  spawn_waiter(io, q, [&] { overflowed = q->overflowed(); });
  for (int i = 1; i <= 3; ++i) q->push(item(i));
  q->deliver();
  io.run();
  EXPECT_TRUE(overflowed);
  EXPECT_EQ(sink_calls, 0);
  q->set_direct_sink(nullptr);
}

TEST(StreamQueue, CloseWakesTheWaiter) {
  asio::io_context io;
  auto q = std::make_shared<StreamQueue>(io.get_executor(), 10, Overflow::kDisconnect, Filter{});
  bool closed = false;
  spawn_waiter(io, q, [&] { closed = q->closed(); });
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
  auto one = take(*q, 1);
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

namespace sb::events {
namespace {

TEST(StreamQueue, TakeReplacesTheConsumersContainerEveryTime) {
  asio::io_context io;
  auto q = std::make_shared<StreamQueue>(io.get_executor(), 10, Overflow::kDisconnect, Filter{});
  std::deque<StreamItemPtr> out;
  for (int round = 0; round < 3; ++round) {
    q->push(item(2 * round + 1));
    q->push(item(2 * round + 2));
    q->take(out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out.front()->seq, 2 * round + 1);
  }
  q->take(out);  // nothing queued: `out` is emptied, not left holding the last batch
  EXPECT_TRUE(out.empty());
}

TEST(StreamQueue, NotifyWakesTheWaiterWithNothingQueued) {
  asio::io_context io;
  auto q = std::make_shared<StreamQueue>(io.get_executor(), 10, Overflow::kDisconnect, Filter{});
  bool woke = false;
  spawn_waiter(io, q, [&] { woke = true; });
  EXPECT_FALSE(woke);
  q->notify();
  io.run();
  EXPECT_TRUE(woke);
  EXPECT_FALSE(q->closed());
}

}  // namespace
}  // namespace sb::events
