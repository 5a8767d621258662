#include "http/url_overrides.hpp"

#include <gtest/gtest.h>

namespace sb::http {
namespace {

using std::chrono::milliseconds;

TEST(UrlOverrides, DefaultsAreTwilios) {
  const WebhookUrl w = parse_webhook_url("https://example.com/voice?x=1");
  EXPECT_EQ(w.request_url, "https://example.com/voice?x=1");
  EXPECT_FALSE(w.has_fragment);
  EXPECT_TRUE(w.warnings.empty());
  // 10 s to connect as two 5 s attempts; 15 s in all.
  EXPECT_EQ(w.settings.connect_timeout, milliseconds(5000));
  EXPECT_EQ(w.settings.retry_count, 1);
  EXPECT_EQ(w.settings.retry_policy, RetryPolicy{});
  EXPECT_TRUE(w.settings.retry_policy.on_connect_failure);
  EXPECT_FALSE(w.settings.retry_policy.on_4xx);
  EXPECT_FALSE(w.settings.retry_policy.on_5xx);
  EXPECT_FALSE(w.settings.retry_policy.on_read_failure);
  EXPECT_EQ(w.settings.read_timeout, milliseconds(15000));
  EXPECT_EQ(w.settings.total_timeout, milliseconds(15000));
}

TEST(UrlOverrides, ParsesEveryOverrideAndStripsTheFragment) {
  const WebhookUrl w =
      parse_webhook_url("https://example.com/voice?x=1#ct=1000&rt=2000&tt=3000&rc=3&rp=4xx,rt");
  EXPECT_EQ(w.request_url, "https://example.com/voice?x=1");
  EXPECT_TRUE(w.has_fragment);
  EXPECT_TRUE(w.warnings.empty());
  EXPECT_EQ(w.settings.connect_timeout, milliseconds(1000));
  EXPECT_EQ(w.settings.read_timeout, milliseconds(2000));
  EXPECT_EQ(w.settings.total_timeout, milliseconds(3000));
  EXPECT_EQ(w.settings.retry_count, 3);
  EXPECT_EQ(w.settings.retry_policy, (RetryPolicy{true, false, false, true}));
}

TEST(UrlOverrides, RetryPolicyValues) {
  EXPECT_EQ(parse_webhook_url("http://a/#rp=all").settings.retry_policy, RetryPolicy::all());
  EXPECT_EQ(parse_webhook_url("http://a/#rp=5xx").settings.retry_policy,
            (RetryPolicy{false, true, false, false}));
  EXPECT_EQ(parse_webhook_url("http://a/#rp=ct,rt,4xx,5xx").settings.retry_policy,
            RetryPolicy::all());
  EXPECT_EQ(parse_webhook_url("http://a/#rp=5XX").settings.retry_policy,
            (RetryPolicy{false, true, false, false}));
  // Percent-encoded commas, as some URL builders write them.
  EXPECT_EQ(parse_webhook_url("http://a/#rp=ct%2C5xx").settings.retry_policy,
            (RetryPolicy{false, true, true, false}));
  EXPECT_EQ(to_string(RetryPolicy::all()), "4xx,5xx,ct,rt");
  EXPECT_EQ(to_string(RetryPolicy{}), "ct");
}

TEST(UrlOverrides, BoundariesAreInclusive) {
  auto s = parse_webhook_url("http://a/#ct=100&rt=15000&tt=15000&rc=5").settings;
  EXPECT_EQ(s.connect_timeout, milliseconds(100));
  EXPECT_EQ(s.read_timeout, milliseconds(15000));
  EXPECT_EQ(s.total_timeout, milliseconds(15000));
  EXPECT_EQ(s.retry_count, 5);
  s = parse_webhook_url("http://a/#ct=10000&rc=0&tt=100&rt=100").settings;
  EXPECT_EQ(s.connect_timeout, milliseconds(10000));
  EXPECT_EQ(s.retry_count, 0);
  EXPECT_EQ(s.total_timeout, milliseconds(100));
  EXPECT_EQ(s.read_timeout, milliseconds(100));
}

TEST(UrlOverrides, InvalidValuesKeepDefaultsAndWarn) {
  const WebhookUrl w = parse_webhook_url(
      "http://a/p#ct=99&rt=15001&tt=abc&rc=6&rp=sometimes&ct=-5&rc=&tt=1e3&rt=%zz");
  EXPECT_EQ(w.request_url, "http://a/p");
  const ConnectionSettings defaults;
  EXPECT_EQ(w.settings.connect_timeout, defaults.connect_timeout);
  EXPECT_EQ(w.settings.read_timeout, defaults.read_timeout);
  EXPECT_EQ(w.settings.total_timeout, defaults.total_timeout);
  EXPECT_EQ(w.settings.retry_count, defaults.retry_count);
  EXPECT_EQ(w.settings.retry_policy, defaults.retry_policy);
  ASSERT_EQ(w.warnings.size(), 9u);
  EXPECT_EQ(w.warnings[0].key, "ct");
  EXPECT_EQ(w.warnings[0].value, "99");
  EXPECT_EQ(w.warnings[4].key, "rp");
  EXPECT_EQ(w.warnings[4].code, kInvalidRetryPolicy);
  EXPECT_EQ(w.warnings[8].value, "%zz");
  for (const auto& warning : w.warnings) EXPECT_FALSE(warning.reason.empty());
}

TEST(UrlOverrides, OneBadValueDoesNotSpoilTheOthers) {
  const WebhookUrl w = parse_webhook_url("http://a/#ct=50&rc=2&rp=5xx,bogus&tt=4000");
  EXPECT_EQ(w.settings.connect_timeout, milliseconds(5000));
  EXPECT_EQ(w.settings.retry_count, 2);
  EXPECT_EQ(w.settings.retry_policy, RetryPolicy{});  // the whole rp list is rejected
  EXPECT_EQ(w.settings.total_timeout, milliseconds(4000));
  EXPECT_EQ(w.warnings.size(), 2u);
}

TEST(UrlOverrides, UnknownKeysAndPlainAnchorsWarn) {
  const WebhookUrl w = parse_webhook_url("http://a/page#section&zz=1&&rc=0");
  EXPECT_EQ(w.request_url, "http://a/page");
  EXPECT_EQ(w.settings.retry_count, 0);
  ASSERT_EQ(w.warnings.size(), 2u);
  EXPECT_EQ(w.warnings[0].key, "section");
  EXPECT_EQ(w.warnings[1].key, "zz");
}

TEST(UrlOverrides, EdgeAndSniAreRecorded) {
  const WebhookUrl w = parse_webhook_url("http://a/#e=frankfurt&sni=n");
  EXPECT_TRUE(w.warnings.empty());
  EXPECT_EQ(w.settings.edge, "frankfurt");
  EXPECT_EQ(w.settings.sni, false);
  EXPECT_EQ(parse_webhook_url("http://a/#sni=maybe").warnings.size(), 1u);
}

TEST(UrlOverrides, LastValidValueWins) {
  EXPECT_EQ(parse_webhook_url("http://a/#rc=2&rc=3").settings.retry_count, 3);
  EXPECT_EQ(parse_webhook_url("http://a/#rc=2&rc=9").settings.retry_count, 2);
}

TEST(UrlOverrides, ExplicitDefaultsAreTheBase) {
  ConnectionSettings defaults;
  defaults.total_timeout = milliseconds(60000);  // e.g. a media fetch
  defaults.retry_count = 0;
  const WebhookUrl w = parse_webhook_url("http://a/#ct=1000", defaults);
  EXPECT_EQ(w.settings.total_timeout, milliseconds(60000));
  EXPECT_EQ(w.settings.retry_count, 0);
  EXPECT_EQ(w.settings.connect_timeout, milliseconds(1000));
}

TEST(UrlOverrides, FragmentOnlyFromTheFirstHash) {
  EXPECT_EQ(strip_fragment("http://a/b?c=1#rc=1#x"), "http://a/b?c=1");
  EXPECT_EQ(strip_fragment("http://a/b"), "http://a/b");
  EXPECT_EQ(strip_fragment("http://a/b#"), "http://a/b");
  const WebhookUrl w = parse_webhook_url("http://a/b#");
  EXPECT_TRUE(w.has_fragment);
  EXPECT_TRUE(w.warnings.empty());
}

TEST(UrlOverrides, OversizedFragmentIsIgnored) {
  const std::string url = "http://a/#rc=0&" + std::string(5000, 'x');
  const WebhookUrl w = parse_webhook_url(url);
  EXPECT_EQ(w.request_url, "http://a/");
  EXPECT_EQ(w.settings.retry_count, 1);
  EXPECT_EQ(w.warnings.size(), 1u);
}

}  // namespace
}  // namespace sb::http
