#include "core/time.hpp"

#include <gtest/gtest.h>

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
}

}  // namespace
}  // namespace sb
