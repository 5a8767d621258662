#include "core/time.hpp"

#include <gtest/gtest.h>

#include "support/fake_clock.hpp"

namespace sb {
namespace {

TEST(Rfc2822, FormatsInGmtAsTwilioDoes) {
  EXPECT_EQ(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(rfc2822(1796144400), "Tue, 01 Dec 2026 17:00:00 +0000");
  EXPECT_EQ(rfc2822(1795539600), "Tue, 24 Nov 2026 17:00:00 +0000");
  EXPECT_EQ(rfc2822(951782400), "Tue, 29 Feb 2000 00:00:00 +0000");  // leap day
}

TEST(SystemClock, IsNearNow) {
  SystemClock clock;
  EXPECT_GT(clock.now_unix(), 1'700'000'000);
  // Seconds are the milliseconds rounded down, read from the same clock.
  const std::int64_t ms = clock.now_ms();
  const std::int64_t s = clock.now_unix();
  EXPECT_GE(s, ms / 1000);
  EXPECT_LE(s, ms / 1000 + 1);
}

TEST(Clock, SecondsAreMillisecondsRoundedDown) {
  testing::FakeClock clock(100);
  EXPECT_EQ(clock.now_ms(), 100'000);
  clock.advance_ms(999);
  EXPECT_EQ(clock.now_unix(), 100);
  clock.advance_ms(1);
  EXPECT_EQ(clock.now_unix(), 101);
  clock.advance(2);
  EXPECT_EQ(clock.now_ms(), 103'000);
  testing::FakeClock before_epoch(0);
  before_epoch.advance_ms(-1);
  EXPECT_EQ(before_epoch.now_unix(), -1);
}

}  // namespace
}  // namespace sb
