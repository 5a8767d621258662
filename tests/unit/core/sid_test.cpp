#include "core/sid.hpp"

#include <gtest/gtest.h>

#include <set>

namespace sb {
namespace {

TEST(Sid, MakeHasPrefixAnd32LowercaseHex) {
  const std::string sid = make_sid(sid_prefix::kAccount);
  ASSERT_EQ(sid.size(), kSidLength);
  EXPECT_EQ(sid.substr(0, 2), "AC");
  EXPECT_TRUE(is_sid(sid, "AC"));
  EXPECT_TRUE(is_hex32(sid.substr(2)));
}

TEST(Sid, MakeIsUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(make_sid("PN"));
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Sid, RejectsWrongPrefixLengthCaseAndCharacters) {
  const std::string good = "PN0123456789abcdef0123456789abcdef";
  EXPECT_TRUE(is_sid(good, "PN"));
  EXPECT_FALSE(is_sid(good, "AC"));
  EXPECT_FALSE(is_sid(good.substr(0, 33), "PN"));
  EXPECT_FALSE(is_sid(good + "0", "PN"));
  EXPECT_FALSE(is_sid("PN0123456789ABCDEF0123456789abcdef", "PN"));  // upper-case hex
  EXPECT_FALSE(is_sid("PN0123456789abcdeg0123456789abcdef", "PN"));
  EXPECT_FALSE(is_sid("pn0123456789abcdef0123456789abcdef", "PN"));
  EXPECT_FALSE(is_sid("", "PN"));
  EXPECT_FALSE(is_sid(good, "P"));  // a prefix is two letters
}

}  // namespace
}  // namespace sb
