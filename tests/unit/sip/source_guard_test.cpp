#include "sip/source_guard.hpp"

#include <gtest/gtest.h>

namespace sb::sip {
namespace {

GuardLimits limits(int ban_after = 3) {
  GuardLimits l;
  l.request_rate = 2;
  l.request_burst = 4;
  l.ban_after = ban_after;
  l.ban_window = Millis(60000);
  l.ban_time = Millis(600000);
  return l;
}

TEST(SourceGuardTest, BansAfterRepeatedFailuresWithinTheWindowAndForgetsOldOnes) {
  SourceGuard g(limits());
  const std::string a = "192.0.2.1";
  Millis t{1000};
  EXPECT_FALSE(g.failure(a, t));
  EXPECT_FALSE(g.failure(a, t + Millis(1000)));
  // The window has passed since the first failure: counting starts again.
  EXPECT_FALSE(g.failure(a, t + Millis(70000)));
  EXPECT_FALSE(g.failure(a, t + Millis(71000)));
  EXPECT_FALSE(g.banned(a, t + Millis(71000)));
  EXPECT_TRUE(g.failure(a, t + Millis(72000)));  // three within 60 s
  EXPECT_TRUE(g.banned(a, t + Millis(72001)));
  EXPECT_TRUE(g.banned(a, t + Millis(72002)));
  EXPECT_FALSE(g.banned("192.0.2.2", t + Millis(72002)));  // others are not affected
  ASSERT_EQ(g.bans(t + Millis(80000)).size(), 1u);
  const Ban b = g.bans(t + Millis(80000))[0];
  EXPECT_EQ(b.address, a);
  EXPECT_EQ(b.failures, 3);
  EXPECT_EQ(b.dropped, 2u);
  EXPECT_EQ(b.until, t + Millis(72000) + Millis(600000));
  EXPECT_EQ(g.stats().bans, 1u);
  EXPECT_EQ(g.stats().dropped, 2u);
  EXPECT_EQ(g.stats().failures, 5u);
  // The ban expires on its own.
  EXPECT_TRUE(g.banned(a, b.until - Millis(1)));
  EXPECT_FALSE(g.banned(a, b.until));
  EXPECT_EQ(g.ban_count(), 0u);
  EXPECT_TRUE(g.bans(b.until).empty());
}

TEST(SourceGuardTest, AnOperatorLiftsABanAndTheCountStartsAfresh) {
  SourceGuard g(limits(2));
  const std::string a = "2001:db8::7";
  Millis t{5000};
  EXPECT_FALSE(g.failure(a, t));
  EXPECT_TRUE(g.failure(a, t));
  EXPECT_TRUE(g.banned(a, t));
  EXPECT_TRUE(g.lift(a));
  EXPECT_FALSE(g.lift(a));
  EXPECT_FALSE(g.banned(a, t));
  EXPECT_FALSE(g.failure(a, t));  // one failure after the lift is not a ban
  EXPECT_TRUE(g.failure(a, t));
}

TEST(SourceGuardTest, ZeroBanAfterNeverBans) {
  SourceGuard g(limits(0));
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(g.failure("192.0.2.1", Millis(i)));
  EXPECT_FALSE(g.banned("192.0.2.1", Millis(100)));
  EXPECT_EQ(g.stats().failures, 100u);
}

TEST(SourceGuardTest, NewRequestsAreRateLimitedPerSource) {
  SourceGuard g(limits());
  Millis t{0};
  int admitted = 0;
  for (int i = 0; i < 10; ++i) admitted += g.admit("192.0.2.1", t) ? 1 : 0;
  EXPECT_EQ(admitted, 4);  // the burst
  EXPECT_EQ(g.stats().limited, 6u);
  EXPECT_TRUE(g.admit("192.0.2.9", t));                 // another source has its own budget
  EXPECT_FALSE(g.admit("192.0.2.1", t + Millis(400)));  // 0.8 of a token back
  EXPECT_TRUE(g.admit("192.0.2.1", t + Millis(500)));
  GuardLimits off = limits();
  off.request_rate = 0;
  SourceGuard unlimited(off);
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(unlimited.admit("192.0.2.1", t));
}

}  // namespace
}  // namespace sb::sip
