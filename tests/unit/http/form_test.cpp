#include "http/form.hpp"

#include <gtest/gtest.h>

namespace sb::http {
namespace {

TEST(Form, DecodesPercentAndPlus) {
  auto f =
      parse_form("PhoneNumber=%2B14155550100&FriendlyName=Front+desk&Url=http%3A%2F%2Fa.b%2Fc");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->get("PhoneNumber"), "+14155550100");
  EXPECT_EQ(f->get("FriendlyName"), "Front desk");
  EXPECT_EQ(f->get("Url"), "http://a.b/c");
  EXPECT_FALSE(f->get("Missing"));
}

TEST(Form, RepeatedKeysKeepTheirOrder) {
  auto f = parse_form("StatusCallbackEvent=ringing&x=1&StatusCallbackEvent=answered");
  ASSERT_TRUE(f);
  auto all = f->get_all("StatusCallbackEvent");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], "ringing");
  EXPECT_EQ(all[1], "answered");
  EXPECT_EQ(f->get("StatusCallbackEvent"), "ringing");
}

TEST(Form, EmptyValuesAndKeysWithoutEquals) {
  auto f = parse_form("VoiceUrl=&Flag&&");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->get("VoiceUrl"), "");
  EXPECT_EQ(f->get("Flag"), "");
  EXPECT_EQ(f->fields().size(), 2u);
  EXPECT_TRUE(parse_form("")->fields().empty());
}

TEST(Form, MalformedEscapesAreErrors) {
  for (const char* bad : {"a=%zz", "a=%", "a=%4", "%=1", "a=1&b=%G0", "=value"}) {
    auto f = parse_form(bad);
    ASSERT_FALSE(f) << bad;
    EXPECT_EQ(f.error().status, 400) << bad;
    EXPECT_EQ(f.error().code, 20001) << bad;
  }
}

TEST(Form, BinaryAndUtf8SurvivePercentDecoding) {
  auto f = parse_form("n=%C3%A9t%C3%A9&z=%00");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->get("n"), "\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(f->get("z")->size(), 1u);
}

TEST(Form, Limits) {
  FormLimits limits;
  limits.max_fields = 3;
  limits.max_key_bytes = 4;
  limits.max_value_bytes = 5;
  EXPECT_TRUE(parse_form("a=1&b=2&c=3", limits));
  EXPECT_FALSE(parse_form("a=1&b=2&c=3&d=4", limits));
  EXPECT_FALSE(parse_form("abcde=1", limits));
  EXPECT_TRUE(parse_form("abcd=12345", limits));
  EXPECT_FALSE(parse_form("a=123456", limits));
  EXPECT_FALSE(parse_form("a=%31%32%33%34%35%36", limits));  // limit applies after decoding
}

TEST(Form, EncodeRoundTrips) {
  const std::string raw = "a b&c=d/é+%";
  EXPECT_EQ(form_encode("AZaz09-_.~"), "AZaz09-_.~");
  auto f = parse_form("k=" + form_encode(raw));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->get("k"), raw);
}

}  // namespace
}  // namespace sb::http
