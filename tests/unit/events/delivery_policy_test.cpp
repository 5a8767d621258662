#include "events/delivery_policy.hpp"

#include <gtest/gtest.h>

namespace sb::events {
namespace {

// The test vector published with the Standard Webhooks reference libraries.
TEST(Signing, MatchesTheStandardWebhooksVector) {
  auto key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(key);
  EXPECT_EQ(sign_v1(*key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(Signing, RotationSendsTwoSignatures) {
  const std::string a = generate_secret(), b = generate_secret();
  ASSERT_EQ(a.rfind("whsec_", 0), 0u);
  ASSERT_NE(a, b);
  const auto header = signature_header({a, b}, "EV1", 10, "{}");
  const auto space = header.find(' ');
  ASSERT_NE(space, std::string::npos);
  EXPECT_EQ(header.substr(0, space), sign_v1(*secret_key(a), "EV1", 10, "{}"));
  EXPECT_EQ(header.substr(space + 1), sign_v1(*secret_key(b), "EV1", 10, "{}"));
  EXPECT_FALSE(secret_key("sk_abc"));
}

TEST(RetrySchedule, FollowsTheScheduleThenExhausts) {
  const auto& s = default_retry_schedule();
  ASSERT_EQ(s.size(), 7u);
  const std::int64_t now = 1'000'000;
  auto first = classify_attempt(500, std::nullopt, 1, s, now);
  EXPECT_EQ(first.kind, AttemptOutcome::Kind::kRetry);
  EXPECT_EQ(first.next_attempt_ms, now + 5'000);
  EXPECT_EQ(classify_attempt(0, std::nullopt, 2, s, now).next_attempt_ms, now + 300'000);
  EXPECT_EQ(classify_attempt(500, std::nullopt, 7, s, now).next_attempt_ms, now + 36'000'000);
  EXPECT_EQ(classify_attempt(500, std::nullopt, 8, s, now).kind, AttemptOutcome::Kind::kExhausted);
  EXPECT_EQ(classify_attempt(204, std::nullopt, 3, s, now).kind, AttemptOutcome::Kind::kDelivered);
  EXPECT_EQ(classify_attempt(410, std::nullopt, 1, s, now).kind, AttemptOutcome::Kind::kGone);
}

TEST(RetrySchedule, HonoursRetryAfterOnSlowDown) {
  const std::vector<std::int64_t> s{100, 200};
  const std::int64_t now = 50'000;
  EXPECT_EQ(classify_attempt(429, "30", 1, s, now).next_attempt_ms, now + 30'000);
  EXPECT_EQ(classify_attempt(502, "2", 1, s, now).next_attempt_ms, now + 2'000);
  EXPECT_EQ(classify_attempt(504, "1", 1, s, now).next_attempt_ms, now + 1'000);
  // Not a slow-down status: Retry-After is ignored.
  EXPECT_EQ(classify_attempt(500, "30", 1, s, now).next_attempt_ms, now + 100);
  // Never sooner than the schedule; garbage ignored.
  EXPECT_EQ(classify_attempt(429, "0", 2, s, now).next_attempt_ms, now + 200);
  EXPECT_EQ(classify_attempt(429, "soon", 1, s, now).next_attempt_ms, now + 100);
  // An HTTP date.
  EXPECT_EQ(retry_after_ms("Thu, 01 Jan 1970 00:01:40 GMT", 50'000), 50'000);
}

TEST(TokenBucket, BurstThenSteadyRate) {
  std::int64_t t = 1000;
  TokenBucket b(RateLimit{10, 3}, t);
  EXPECT_TRUE(b.try_take(t));
  EXPECT_TRUE(b.try_take(t));
  EXPECT_TRUE(b.try_take(t));
  EXPECT_FALSE(b.try_take(t));
  EXPECT_EQ(b.wait_ms(t), 100);
  t += 99;
  EXPECT_FALSE(b.try_take(t));
  t += 1;
  EXPECT_TRUE(b.try_take(t));
  t += 10'000;  // refills only up to the burst
  int taken = 0;
  while (b.try_take(t)) ++taken;
  EXPECT_EQ(taken, 3);
  TokenBucket unlimited;
  EXPECT_TRUE(unlimited.try_take(0));
  EXPECT_EQ(unlimited.wait_ms(0), 0);
}

}  // namespace
}  // namespace sb::events
