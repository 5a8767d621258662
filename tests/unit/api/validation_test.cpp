#include "api/validation.hpp"

#include <gtest/gtest.h>

namespace sb::api {
namespace {

http::Form form(std::string_view q) { return http::parse_form(q).value(); }

TEST(Validation, WebhookUrls) {
  EXPECT_TRUE(is_valid_webhook_url("https://app.example/voice"));
  EXPECT_TRUE(is_valid_webhook_url("http://127.0.0.1:3000/a?b=c"));
  EXPECT_TRUE(is_valid_webhook_url("https://app.example/voice#ct=1000&rc=2"));
  EXPECT_FALSE(is_valid_webhook_url(""));
  EXPECT_FALSE(is_valid_webhook_url("ftp://app.example/voice"));
  EXPECT_FALSE(is_valid_webhook_url("/relative/path"));
  EXPECT_FALSE(is_valid_webhook_url("http://"));
  EXPECT_FALSE(is_valid_webhook_url("http://exa mple.com/"));
  EXPECT_FALSE(is_valid_webhook_url("javascript:alert(1)"));
  EXPECT_FALSE(is_valid_webhook_url("http://a.b/\n"));
  EXPECT_FALSE(is_valid_webhook_url("https://a.b/" + std::string(3000, 'x')));
}

TEST(Validation, Methods) {
  EXPECT_EQ(normalize_method("GET"), "GET");
  EXPECT_EQ(normalize_method("post"), "POST");
  EXPECT_FALSE(normalize_method("PUT"));
  EXPECT_FALSE(normalize_method(""));
  EXPECT_FALSE(normalize_method("GETX"));
}

TEST(Validation, PhoneNumbers) {
  EXPECT_TRUE(is_valid_phone_number("+14155550100"));
  EXPECT_TRUE(is_valid_phone_number("1000"));
  EXPECT_TRUE(is_valid_phone_number("support"));
  EXPECT_TRUE(is_valid_phone_number("sales.team-2"));
  EXPECT_FALSE(is_valid_phone_number(""));
  EXPECT_FALSE(is_valid_phone_number("+"));
  EXPECT_FALSE(is_valid_phone_number("+0123"));
  EXPECT_FALSE(is_valid_phone_number("+1415555010012345"));  // 16 digits
  EXPECT_FALSE(is_valid_phone_number("+1 415"));
  EXPECT_FALSE(is_valid_phone_number("sip:1000@host"));
  EXPECT_FALSE(is_valid_phone_number("a b"));
  EXPECT_FALSE(is_valid_phone_number(std::string(65, 'a')));
}

TEST(Validation, WebhookSettingsApplyAndReportTwilioCodes) {
  store::WebhookSettings h;
  ASSERT_TRUE(apply_webhook_settings(
      form("VoiceUrl=https%3A%2F%2Fa.example%2Fv&VoiceMethod=get&StatusCallback=https%3A%2F%2Fa."
           "example%2Fs"),
      h));
  EXPECT_EQ(h.voice_url, "https://a.example/v");
  EXPECT_EQ(h.voice_method, "GET");
  EXPECT_EQ(h.status_callback, "https://a.example/s");

  auto code_of = [](std::string_view q, store::WebhookSettings start = {}) {
    auto s = apply_webhook_settings(form(q), start);
    return s ? 0 : s.error().code;
  };
  EXPECT_EQ(code_of("VoiceUrl=nope"), 21402);
  EXPECT_EQ(code_of("SmsUrl=nope"), 21402);
  EXPECT_EQ(code_of("StatusCallback=nope"), 21502);
  EXPECT_EQ(code_of("VoiceMethod=PUT"), 21403);
  EXPECT_EQ(code_of("SmsFallbackMethod=DELETE"), 21403);
  EXPECT_EQ(code_of("VoiceFallbackUrl=https%3A%2F%2Fa.example%2Ff"), 21405);
  EXPECT_EQ(code_of("SmsFallbackUrl=https%3A%2F%2Fa.example%2Ff"), 21406);
  // Clearing VoiceUrl while a fallback remains is the same mistake.
  store::WebhookSettings with_both;
  with_both.voice_url = "https://a.example/v";
  with_both.voice_fallback_url = "https://a.example/f";
  EXPECT_EQ(code_of("VoiceUrl=", with_both), 21405);
  EXPECT_EQ(code_of("VoiceUrl=&VoiceFallbackUrl=", with_both), 0);
}

TEST(Validation, FriendlyNames) {
  EXPECT_TRUE(check_friendly_name("Front desk"));
  EXPECT_TRUE(check_friendly_name(std::string(64, 'x')));
  EXPECT_FALSE(check_friendly_name(std::string(65, 'x')));
  EXPECT_FALSE(check_friendly_name("bad\nname"));
}

}  // namespace
}  // namespace sb::api
