#include "core/text.hpp"

#include <gtest/gtest.h>

namespace sb {
namespace {

TEST(Text, TrimDropsSpaceTabAndLineEndsAtBothEnds) {
  EXPECT_EQ(trim("  a b\t\r\n"), "a b");
  EXPECT_EQ(trim("\r\n\t "), "");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim("x"), "x");
  EXPECT_EQ(trim(" \v x"), "\v x");  // only SP, HTAB, CR and LF are white space here
}

TEST(Text, CaseInsensitiveAsciiOnly) {
  EXPECT_TRUE(iequals("Content-Type", "content-TYPE"));
  EXPECT_FALSE(iequals("Content-Type", "Content-Typ"));
  EXPECT_FALSE(iequals("a", "b"));
  EXPECT_FALSE(iequals("\xC3\x84", "\xC3\xA4"));  // not Unicode folding
  EXPECT_EQ(to_lower("SIP/2.0 Via"), "sip/2.0 via");
  static_assert(iequals("INVITE", "invite") && trim(" x ") == "x");
}

TEST(Text, LoggableUrlHidesCredentialsOnly) {
  EXPECT_EQ(loggable_url("https://user:secret@app.test/voice?a=b@c"),
            "https://***@app.test/voice?a=b@c");
  EXPECT_EQ(loggable_url("http://token@app.test:8080/x"), "http://***@app.test:8080/x");
  EXPECT_EQ(loggable_url("http://app.test/x?to=a@b"), "http://app.test/x?to=a@b");
  EXPECT_EQ(loggable_url("http://app.test"), "http://app.test");
  EXPECT_EQ(loggable_url("/relative@path"), "/relative@path");
}

}  // namespace
}  // namespace sb
