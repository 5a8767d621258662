#include "api/rate_limit.hpp"

#include <gtest/gtest.h>

namespace sb::api {
namespace {

TEST(AccountRateLimitTest, BurstThenRateWithRetryAfterPerAccount) {
  AccountRateLimit limit(2, 3);
  const std::string a = "AC" + std::string(32, 'a'), b = "AC" + std::string(32, 'b');
  std::int64_t t = 1'000'000;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limit.take(a, t), 0) << i;
  EXPECT_EQ(limit.take(a, t), 1);  // half a second to the next token: Retry-After 1
  EXPECT_EQ(limit.take(b, t), 0);  // another account has its own budget
  EXPECT_EQ(limit.take(a, t + 499), 1);
  EXPECT_EQ(limit.take(a, t + 500), 0);  // one token back after 1/rate s
  EXPECT_EQ(limit.take(a, t + 500), 1);
  // Idle long enough, the bucket is full again (never above the burst).
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limit.take(a, t + 60'000), 0) << i;
  EXPECT_EQ(limit.take(a, t + 60'000), 1);
}

TEST(AccountRateLimitTest, SlowRatesGiveLongerRetryAfterAndZeroMeansNoLimit) {
  AccountRateLimit slow(0.25, 1);
  EXPECT_EQ(slow.take("AC1", 0), 0);
  EXPECT_EQ(slow.take("AC1", 0), 4);
  EXPECT_EQ(slow.take("AC1", 1000), 3);
  AccountRateLimit none(0, 0);
  for (int i = 0; i < 100000; ++i) ASSERT_EQ(none.take("AC1", 0), 0);
}

}  // namespace
}  // namespace sb::api
