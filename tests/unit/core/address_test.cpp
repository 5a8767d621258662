#include "core/address.hpp"

#include <gtest/gtest.h>

namespace sb {
namespace {

TEST(ListenAddress, ParsesHostPortAndBracketedIpv6) {
  auto a = parse_listen_address("127.0.0.1:8080");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  auto b = parse_listen_address("[::1]:0");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 0);
  EXPECT_FALSE(parse_listen_address("127.0.0.1"));
  EXPECT_FALSE(parse_listen_address("127.0.0.1:99999"));
  EXPECT_FALSE(parse_listen_address("127.0.0.1:80x"));
  EXPECT_FALSE(parse_listen_address(":80"));
  EXPECT_FALSE(parse_listen_address("[::1]80"));
}

TEST(Decimal, WholeTextWithinTheBound) {
  EXPECT_EQ(*parse_decimal("n", "42", 100), 42u);
  EXPECT_FALSE(parse_decimal("n", "101", 100));
  EXPECT_FALSE(parse_decimal("n", "", 100));
  EXPECT_FALSE(parse_decimal("n", "-1", 100));
  EXPECT_FALSE(parse_decimal("n", "4 2", 100));
  auto e = parse_decimal("workers", "x", 10);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message, "workers: expected an integer from 0 to 10, got 'x'");
}

}  // namespace
}  // namespace sb
