#include "voice/routing.hpp"

#include <gtest/gtest.h>

#include "core/sid.hpp"
#include "store/sqlite_store.hpp"
#include "support/temp_dir.hpp"

namespace sb::voice {
namespace {

class RoutingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(store::SqliteStore::open(dir_.file("r.db")).value());
    account_.sid = make_sid("AC");
    account_.auth_token = "0123456789abcdef0123456789abcdef";
    ASSERT_TRUE(store_->write_sync(store::InsertAccount{account_}));
  }

  store::IncomingNumber add_number(const std::string& phone, const std::string& url,
                                   const std::string& app_sid = "") {
    store::IncomingNumber n;
    n.sid = make_sid("PN");
    n.account_sid = account_.sid;
    n.phone_number = phone;
    n.hooks.voice_url = url;
    n.hooks.voice_fallback_url = url.empty() ? "" : url + "/fallback";
    n.hooks.status_callback = "https://app.example/status";
    n.voice_application_sid = app_sid;
    EXPECT_TRUE(store_->write_sync(store::InsertNumber{n}));
    return n;
  }

  testing::TempDir dir_;
  std::unique_ptr<store::SqliteStore> store_;
  store::Account account_;
};

TEST_F(RoutingTest, FindsE164WithOrWithoutPlusAndSipUserParts) {
  add_number("+14155550100", "https://app.example/a");
  add_number("support", "https://app.example/support");
  add_number("18005550199", "https://app.example/tollfree");
  for (const char* dialed : {"+14155550100", "14155550100"}) {
    auto r = route_call(*store_, dialed);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->route) << dialed;
    EXPECT_EQ(r->route->application.url, "https://app.example/a");
    EXPECT_EQ(r->route->application.fallback_url, "https://app.example/a/fallback");
    EXPECT_EQ(r->route->application.status_callback, "https://app.example/status");
    EXPECT_EQ(r->route->account.sid, account_.sid);
  }
  EXPECT_EQ(route_call(*store_, "support")->route->application.url, "https://app.example/support");
  EXPECT_EQ(route_call(*store_, "+18005550199")->route->application.url,
            "https://app.example/tollfree");
  auto unknown = route_call(*store_, "+14155550999");
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(unknown->route);
  EXPECT_EQ(unknown->failure, RouteFailure::kUnknownNumber);
  EXPECT_FALSE(route_call(*store_, "Support")->route);  // user parts are exact
}

TEST_F(RoutingTest, AnApplicationTakesPrecedenceOverTheNumbersUrls) {
  store::Application app;
  app.sid = make_sid("AP");
  app.account_sid = account_.sid;
  app.hooks.voice_url = "https://app.example/ivr";
  app.hooks.voice_method = "GET";
  ASSERT_TRUE(store_->write_sync(store::InsertApplication{app}));
  add_number("1000", "https://app.example/number-own", app.sid);
  auto r = route_call(*store_, "1000");
  ASSERT_TRUE(r && r->route);
  EXPECT_EQ(r->route->application.url, "https://app.example/ivr");
  EXPECT_EQ(r->route->application.method, "GET");
  EXPECT_EQ(r->route->application_sid, app.sid);
}

TEST_F(RoutingTest, InactiveAccountsAndNumbersWithoutApplicationsAreRefused) {
  add_number("2000", "");
  EXPECT_EQ(route_call(*store_, "2000")->failure, RouteFailure::kNoApplication);
  add_number("3000", "https://app.example/x");
  account_.status = "suspended";
  ASSERT_TRUE(store_->write_sync(store::UpdateAccount{account_}));
  auto r = route_call(*store_, "3000");
  EXPECT_FALSE(r->route);
  EXPECT_EQ(r->failure, RouteFailure::kInactiveAccount);
}

TEST(AddressAcl, MatchesCidrRangesOfBothFamilies) {
  auto acl = AddressAcl::parse({"10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "172.16.0.0/12"});
  ASSERT_TRUE(acl);
  EXPECT_TRUE(acl->allows("10.1.2.3"));
  EXPECT_TRUE(acl->allows("192.0.2.7"));
  EXPECT_FALSE(acl->allows("192.0.2.8"));
  EXPECT_TRUE(acl->allows("172.31.255.255"));
  EXPECT_FALSE(acl->allows("172.32.0.1"));
  EXPECT_TRUE(acl->allows("2001:db8:1::5"));
  EXPECT_FALSE(acl->allows("2001:db9::1"));
  EXPECT_TRUE(acl->allows("::ffff:10.9.9.9"));  // v4-mapped is the v4 address
  EXPECT_FALSE(acl->allows("not an address"));
  EXPECT_TRUE(AddressAcl{}.allows("203.0.113.1"));  // empty: everyone
  auto all = AddressAcl::parse({"0.0.0.0/0"});
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->allows("8.8.8.8"));
  EXPECT_FALSE(all->allows("::1"));
}

TEST(AddressAcl, BadEntriesAreErrorsNamingThem) {
  for (const char* bad : {"10.0.0.0/33", "10.0.0/8", "host.example", "::1/129", "1.2.3.4/x", ""}) {
    auto acl = AddressAcl::parse({bad});
    ASSERT_FALSE(acl) << bad;
    EXPECT_NE(acl.error().message.find(bad), std::string::npos) << acl.error().message;
  }
}

}  // namespace
}  // namespace sb::voice
