#include "events/tokens.hpp"

#include <gtest/gtest.h>

#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace sb::events {
namespace {

struct TokensTest : ::testing::Test {
  std::unique_ptr<EventStore> open() {
    auto s = EventStore::open(dir.file("events.db"));
    EXPECT_TRUE(s.ok());
    return s.ok() ? std::move(*s) : nullptr;
  }
  sb::testing::TempDir dir;
  sb::testing::FakeClock clock;
};

TEST_F(TokensTest, TheKeyIsMadeOnceAndTokensSurviveARestart) {
  AccessToken t{"AC1", {"app.*"}, true, false, clock.now_unix() + 60};
  std::string token;
  {
    auto store = open();
    TokenSigner signer(clock);
    ASSERT_TRUE(store->read([&](Db& db) { return signer.load(db); }));
    EXPECT_FALSE(signer.has_key());
    ASSERT_TRUE(signer.ensure_key(*store));
    ASSERT_TRUE(signer.has_key());
    token = signer.issue(t);
    store->close();
  }
  auto store = open();
  TokenSigner again(clock);
  ASSERT_TRUE(store->read([&](Db& db) { return again.load(db); }));
  ASSERT_TRUE(again.has_key());
  auto v = again.verify(token);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->account_sid, "AC1");
  EXPECT_TRUE(v->publish);
  EXPECT_FALSE(v->subscribe);
  EXPECT_TRUE(v->allows("app.orders"));
  EXPECT_FALSE(v->allows("billing"));
  // Another file, another key: the token means nothing there.
  sb::testing::TempDir other_dir;
  auto other_store = EventStore::open(other_dir.file("events.db"));
  ASSERT_TRUE(other_store.ok());
  TokenSigner other(clock);
  ASSERT_TRUE(other.ensure_key(**other_store));
  EXPECT_FALSE(other.verify(token));
}

TEST_F(TokensTest, TamperedExpiredAndMalformedTokensAreRefused) {
  auto store = open();
  TokenSigner signer(clock);
  ASSERT_TRUE(signer.ensure_key(*store));
  const auto token = signer.issue({"AC1", {"c"}, false, true, clock.now_unix() + 60});
  EXPECT_TRUE(signer.verify(token));
  std::string bad = token;
  bad[6] = bad[6] == 'A' ? 'B' : 'A';  // in the claims
  EXPECT_FALSE(signer.verify(bad));
  EXPECT_FALSE(signer.verify("sbt_nodot"));
  EXPECT_FALSE(signer.verify("xyz_" + token.substr(4)));
  EXPECT_FALSE(signer.verify(std::string(5000, 'a')));
  clock.advance(60);
  EXPECT_TRUE(signer.verify(token));  // valid through its last second
  clock.advance(1);
  EXPECT_FALSE(signer.verify(token));
}

}  // namespace
}  // namespace sb::events
