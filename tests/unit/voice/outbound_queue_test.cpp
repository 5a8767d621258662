// The outbound queue's pacing: exact spacing under a backlog whatever the jitter, no burst
// after a pause, accounts in turn, FIFO within an account, cancellation, shutdown.
#include "voice/outbound_queue.hpp"

#include <gtest/gtest.h>

namespace sb::voice {
namespace {

OutboundRequest call(const std::string& account, int n) {
  OutboundRequest r;
  r.account.sid = account;
  r.info.call_sid = account + "-" + std::to_string(n);
  return r;
}

TEST(OutboundQueue, ABacklogLeavesExactlyAtTheRateWhateverTheTimersJitter) {
  OutboundQueue q(10);  // one every 100 ms
  for (int i = 0; i < 1000; ++i) q.push(call("A", i));
  // Polled late by up to 7 ms each time: the schedule does not drift.
  std::vector<std::int64_t> left;
  std::int64_t now = 0;
  int jitter = 0;
  while (q.size() > 0 && now < 200'000'000) {
    auto due = q.next_due_us();
    ASSERT_TRUE(due.has_value());
    now = std::max(now, *due) + (jitter++ % 8) * 1000;
    while (auto r = q.pop_ready(now)) left.push_back(now);
  }
  ASSERT_EQ(left.size(), 1000u);
  // 999 periods of 100 ms: 99.9 s from the first to the last, to within one poll's lateness.
  const double span_s = static_cast<double>(left.back() - left.front()) / 1e6;
  EXPECT_NEAR(span_s, 99.9, 0.01);
  for (std::size_t i = 1; i < left.size(); ++i) {
    EXPECT_GE(left[i] - left[i - 1], 100'000 - 7'000) << i;
  }
}

TEST(OutboundQueue, AFastRateHoldsWhenTheTimerWakesLessOftenThanOnceAPeriod) {
  OutboundQueue q(10000);  // one every 100 us; the poll comes every 2 ms
  for (int i = 0; i < 10000; ++i) q.push(call("A", i));
  std::int64_t now = 0;
  std::size_t left = 0;
  int polls = 0;
  while (q.size() > 0 && polls < 100000) {
    ++polls;
    std::size_t this_poll = 0;
    while (q.pop_ready(now)) ++this_poll;
    EXPECT_LE(this_poll, 21u) << "at most the slots that passed since the last poll";
    left += this_poll;
    now += 2000;
  }
  EXPECT_EQ(left, 10000u);
  // 10,000 calls at 10,000/s: one second (not one call per poll, which would take 20 s).
  EXPECT_NEAR(static_cast<double>(now) / 1e6, 1.0, 0.01);
  // A stall longer than the catch-up bound does not release the whole backlog at once.
  for (int i = 0; i < 5000; ++i) q.push(call("B", i));
  ASSERT_TRUE(q.pop_ready(now).has_value());
  std::size_t burst = 0;
  while (q.pop_ready(now + 1'000'000)) ++burst;
  EXPECT_LE(burst, 1001u);  // 100 ms of slots plus the one due now, not 1 s of them
}

TEST(OutboundQueue, InArrivalOrderWithinAnAccount) {
  OutboundQueue q(1000);
  for (int i = 0; i < 5; ++i) q.push(call("A", i));
  std::int64_t now = 0;
  for (int i = 0; i < 5; ++i) {
    now += 1000;
    auto r = q.pop_ready(now);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->info.call_sid, "A-" + std::to_string(i));
  }
}

TEST(OutboundQueue, OneCallNowThenOnePerPeriod) {
  OutboundQueue q(2);  // 500 ms
  q.push(call("A", 0));
  q.push(call("A", 1));
  EXPECT_TRUE(q.pop_ready(1'000'000).has_value());
  EXPECT_FALSE(q.pop_ready(1'499'999).has_value());
  EXPECT_EQ(q.next_due_us(), 1'500'000);
  EXPECT_TRUE(q.pop_ready(1'500'000).has_value());
}

TEST(OutboundQueue, AfterAPauseThereIsNoBurst) {
  OutboundQueue q(10);
  q.push(call("A", 0));
  ASSERT_TRUE(q.pop_ready(0).has_value());
  // Idle for 10 s, then three calls: one now, the next two 100 ms apart (not three at once).
  for (int i = 1; i <= 3; ++i) q.push(call("A", i));
  EXPECT_TRUE(q.pop_ready(10'000'000).has_value());
  EXPECT_FALSE(q.pop_ready(10'000'000).has_value());
  EXPECT_TRUE(q.pop_ready(10'100'000).has_value());
  EXPECT_FALSE(q.pop_ready(10'150'000).has_value());
  EXPECT_TRUE(q.pop_ready(10'200'000).has_value());
}

TEST(OutboundQueue, AQueueEmptiedByCancellationStartsAfreshWithoutABurst) {
  OutboundQueue q(100);  // 10 ms
  q.push(call("A", 0));
  q.push(call("A", 1));
  ASSERT_TRUE(q.pop_ready(0).has_value());
  ASSERT_TRUE(q.cancel("A", "A-1"));
  // Ten seconds later, 50 calls: one now, then one per 10 ms (not 100 ms of them at once).
  for (int i = 2; i < 52; ++i) q.push(call("A", i));
  EXPECT_TRUE(q.pop_ready(10'000'000).has_value());
  EXPECT_FALSE(q.pop_ready(10'000'000).has_value());
  EXPECT_TRUE(q.pop_ready(10'010'000).has_value());
  EXPECT_FALSE(q.pop_ready(10'010'000).has_value());
}

TEST(OutboundQueue, AccountsHaveTheirOwnRateAndTakeTurns) {
  OutboundQueue q(1);
  for (int i = 0; i < 3; ++i) q.push(call("A", i));
  for (int i = 0; i < 3; ++i) q.push(call("B", i));
  // At t=0 each account sends one: A's backlog does not hold B back.
  auto first = q.pop_ready(0);
  auto second = q.pop_ready(0);
  ASSERT_TRUE(first && second);
  EXPECT_NE(first->account.sid, second->account.sid);
  EXPECT_FALSE(q.pop_ready(0).has_value());
  EXPECT_TRUE(q.pop_ready(1'000'000).has_value());
  EXPECT_TRUE(q.pop_ready(1'000'000).has_value());
  EXPECT_FALSE(q.pop_ready(1'000'000).has_value());
}

TEST(OutboundQueue, ACanceledCallNeverLeaves) {
  OutboundQueue q(1000);
  for (int i = 0; i < 3; ++i) q.push(call("A", i));
  EXPECT_TRUE(q.cancel("A", "A-1"));
  EXPECT_FALSE(q.cancel("A", "A-1"));  // already gone
  EXPECT_FALSE(q.cancel("B", "A-0"));  // another account's call is not found
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.pop_ready(0)->info.call_sid, "A-0");
  EXPECT_EQ(q.pop_ready(10'000)->info.call_sid, "A-2");
  EXPECT_FALSE(q.cancel("A", "A-2"));  // dialled already
}

TEST(OutboundQueue, ShutdownTakesEverythingLeft) {
  OutboundQueue q(1);
  for (int i = 0; i < 4; ++i) q.push(call(i % 2 ? "A" : "B", i));
  auto left = q.take_all();
  EXPECT_EQ(left.size(), 4u);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_FALSE(q.next_due_us().has_value());
  EXPECT_FALSE(q.pop_ready(1'000'000'000).has_value());
}

}  // namespace
}  // namespace sb::voice
