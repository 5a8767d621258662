#include "api/pagination.hpp"

#include <gtest/gtest.h>

namespace sb::api {
namespace {

http::Form query(std::string_view q) { return http::parse_form(q).value(); }

TEST(Pagination, DefaultsAndLimits) {
  auto p = parse_page_params(query(""));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->page, 0u);
  EXPECT_EQ(p->page_size, 50u);
  EXPECT_TRUE(parse_page_params(query("PageSize=1000")));
  for (const char* bad :
       {"PageSize=0", "PageSize=1001", "PageSize=-1", "PageSize=ten", "Page=-2", "Page=1x",
        "PageToken=XX12", "PageToken=PA", "PageToken=PA0", "PageToken=PAabc"}) {
    auto r = parse_page_params(query(bad));
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().status, 400);
  }
}

TEST(Pagination, TokenMeansKeysetOtherwiseOffset) {
  auto by_offset = parse_page_params(query("PageSize=20&Page=3"));
  EXPECT_EQ(by_offset->request().offset, 60);
  EXPECT_EQ(by_offset->request().after_id, 0);
  EXPECT_EQ(by_offset->request().limit, 20u);
  auto by_token = parse_page_params(query("PageSize=20&Page=3&PageToken=PA77"));
  EXPECT_EQ(by_token->request().offset, 0);
  EXPECT_EQ(by_token->request().after_id, 77);
}

TEST(Pagination, MetaOnAMiddlePage) {
  auto p = parse_page_params(query("PageSize=2&Page=1&PageToken=PA5")).value();
  boost::json::object o;
  add_page_meta(o, "/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json", "FriendlyName=a%20b&", p,
                2, true, 9);
  EXPECT_EQ(o["page"].as_uint64(), 1u);
  EXPECT_EQ(o["page_size"].as_uint64(), 2u);
  EXPECT_EQ(o["start"].as_uint64(), 2u);
  EXPECT_EQ(o["end"].as_uint64(), 3u);
  EXPECT_EQ(o["uri"].as_string(),
            "/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json?FriendlyName=a%20b&PageSize=2"
            "&Page=1&PageToken=PA5");
  EXPECT_EQ(o["first_page_uri"].as_string(),
            "/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json?FriendlyName=a%20b&PageSize=2"
            "&Page=0");
  EXPECT_EQ(o["next_page_uri"].as_string(),
            "/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json?FriendlyName=a%20b&PageSize=2"
            "&Page=2&PageToken=PA9");
  EXPECT_EQ(o["previous_page_uri"].as_string(),
            "/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json?FriendlyName=a%20b&PageSize=2"
            "&Page=0");
}

TEST(Pagination, LastAndOnlyPageHaveNullLinks) {
  auto p = parse_page_params(query("")).value();
  boost::json::object o;
  add_page_meta(o, "/x.json", "", p, 0, false, 0);
  EXPECT_TRUE(o["next_page_uri"].is_null());
  EXPECT_TRUE(o["previous_page_uri"].is_null());
  EXPECT_EQ(o["start"].as_uint64(), 0u);
  EXPECT_EQ(o["end"].as_uint64(), 0u);
}

}  // namespace
}  // namespace sb::api
