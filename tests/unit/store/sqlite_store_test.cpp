#include "store/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <thread>

#include "core/sid.hpp"
#include "store/migrations.hpp"
#include "support/temp_dir.hpp"

namespace sb::store {
namespace {

Account make_account(std::string owner = "") {
  Account a;
  a.sid = make_sid("AC");
  a.owner_sid = std::move(owner);
  a.friendly_name = "acct";
  a.auth_token = "0123456789abcdef0123456789abcdef";
  a.date_created = a.date_updated = 1000;
  return a;
}

IncomingNumber make_number(const std::string& account, const std::string& phone) {
  IncomingNumber n;
  n.sid = make_sid("PN");
  n.account_sid = account;
  n.phone_number = phone;
  n.friendly_name = "num " + phone;
  n.hooks.voice_url = "https://app.example/voice";
  n.hooks.voice_method = "GET";
  n.date_created = n.date_updated = 2000;
  return n;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteStore::open(dir_.file("sb.db"));
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(s.value());
    main_ = make_account();
    ASSERT_TRUE(store_->write_sync(InsertAccount{main_}));
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
  Account main_;
};

TEST_F(SqliteStoreTest, AccountRoundTripAndUpdate) {
  auto found = store_->find_account(main_.sid);
  ASSERT_TRUE(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->auth_token, main_.auth_token);
  EXPECT_TRUE((*found)->is_main());

  Account changed = **found;
  changed.friendly_name = "renamed";
  changed.status = "suspended";
  ASSERT_TRUE(store_->write_sync(UpdateAccount{changed}));
  auto again = store_->find_account(main_.sid);
  EXPECT_EQ((*again)->friendly_name, "renamed");
  EXPECT_EQ((*again)->status, "suspended");

  auto missing = store_->find_account(make_sid("AC"));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  Account ghost = make_account();
  auto s = store_->write_sync(UpdateAccount{ghost});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().status, 404);
}

TEST_F(SqliteStoreTest, ListAccountsShowsSelfAndSubaccountsOnly) {
  Account sub1 = make_account(main_.sid), sub2 = make_account(main_.sid);
  Account other = make_account();
  for (auto* a : {&sub1, &sub2, &other}) ASSERT_TRUE(store_->write_sync(InsertAccount{*a}));
  auto page = store_->list_accounts({main_.sid, "", ""}, {0, 0, 50});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->items.size(), 3u);
  EXPECT_EQ(page->items[0].sid, main_.sid);
  auto from_sub = store_->list_accounts({sub1.sid, "", ""}, {0, 0, 50});
  ASSERT_EQ(from_sub->items.size(), 1u);
  EXPECT_EQ(from_sub->items[0].sid, sub1.sid);
  auto first = store_->first_main_account();
  ASSERT_TRUE(first && first->has_value());
  EXPECT_EQ((*first)->sid, main_.sid);
}

TEST_F(SqliteStoreTest, PhoneNumbersAreUniqueAcrossAccounts) {
  Account sub = make_account(main_.sid);
  ASSERT_TRUE(store_->write_sync(InsertAccount{sub}));
  ASSERT_TRUE(store_->write_sync(InsertNumber{make_number(main_.sid, "+14155550100")}));
  auto dup = store_->write_sync(InsertNumber{make_number(sub.sid, "+14155550100")});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().status, kConflict);
  auto by_phone = store_->find_number_by_phone("+14155550100");
  ASSERT_TRUE(by_phone && by_phone->has_value());
  EXPECT_EQ((*by_phone)->account_sid, main_.sid);
  EXPECT_EQ((*by_phone)->hooks.voice_method, "GET");
}

TEST_F(SqliteStoreTest, NumbersAreScopedToTheirAccount) {
  Account sub = make_account(main_.sid);
  ASSERT_TRUE(store_->write_sync(InsertAccount{sub}));
  auto n = make_number(main_.sid, "1000");
  ASSERT_TRUE(store_->write_sync(InsertNumber{n}));
  EXPECT_TRUE(store_->find_number(main_.sid, n.sid)->has_value());
  EXPECT_FALSE(store_->find_number(sub.sid, n.sid)->has_value());
  EXPECT_FALSE(store_->write_sync(DeleteNumber{sub.sid, n.sid}));  // not its number
  EXPECT_TRUE(store_->find_number(main_.sid, n.sid)->has_value());
  EXPECT_TRUE(store_->write_sync(DeleteNumber{main_.sid, n.sid}));
  EXPECT_FALSE(store_->find_number(main_.sid, n.sid)->has_value());
}

TEST_F(SqliteStoreTest, ListNumbersPagesByKeysetAndOffsetWithFilters) {
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(store_->write_sync(
        InsertNumber{make_number(main_.sid, "+1415555010" + std::to_string(i))}));
  }
  ASSERT_TRUE(store_->write_sync(InsertNumber{make_number(main_.sid, "sales")}));
  NumberFilter all{main_.sid, "", ""};
  auto p1 = store_->list_numbers(all, {0, 0, 3});
  ASSERT_EQ(p1->items.size(), 3u);
  EXPECT_TRUE(p1->has_more);
  auto p2 = store_->list_numbers(all, {p1->items.back().id, 0, 3});
  ASSERT_EQ(p2->items.size(), 3u);
  EXPECT_EQ(p2->items[0].phone_number, "+14155550103");
  auto p3 = store_->list_numbers(all, {p2->items.back().id, 0, 3});
  ASSERT_EQ(p3->items.size(), 2u);
  EXPECT_FALSE(p3->has_more);
  auto by_offset = store_->list_numbers(all, {0, 3, 3});
  EXPECT_EQ(by_offset->items[0].sid, p2->items[0].sid);

  auto wildcard = store_->list_numbers({main_.sid, "555010*", ""}, {0, 0, 50});
  EXPECT_EQ(wildcard->items.size(), 7u);
  auto exact_digit = store_->list_numbers({main_.sid, "0105", ""}, {0, 0, 50});
  ASSERT_EQ(exact_digit->items.size(), 1u);
  EXPECT_EQ(exact_digit->items[0].phone_number, "+14155550105");
  // LIKE metacharacters in the filter are literal.
  EXPECT_TRUE(store_->list_numbers({main_.sid, "%", ""}, {0, 0, 50})->items.empty());
  auto by_name = store_->list_numbers({main_.sid, "", "num sales"}, {0, 0, 50});
  ASSERT_EQ(by_name->items.size(), 1u);
}

TEST_F(SqliteStoreTest, DeletingAnApplicationClearsItFromNumbers) {
  Application app;
  app.sid = make_sid("AP");
  app.account_sid = main_.sid;
  app.friendly_name = "ivr";
  app.hooks.voice_url = "https://app.example/ivr";
  ASSERT_TRUE(store_->write_sync(InsertApplication{app}));
  auto n = make_number(main_.sid, "+14155550199");
  n.voice_application_sid = app.sid;
  ASSERT_TRUE(store_->write_sync(InsertNumber{n}));
  ASSERT_TRUE(store_->write_sync(DeleteApplication{main_.sid, app.sid}));
  EXPECT_FALSE(store_->find_application(main_.sid, app.sid)->has_value());
  EXPECT_EQ((*store_->find_number(main_.sid, n.sid))->voice_application_sid, "");
}

TEST_F(SqliteStoreTest, OneFailedWriteInABatchSparesTheOthers) {
  // Queue many writes at once so they share batches; the duplicates fail alone.
  std::atomic<int> ok{0}, conflicts{0};
  const int n = 300;
  for (int i = 0; i < n; ++i) {
    const std::string phone = "+1202555" + std::to_string(1000 + (i % 150));
    store_->write(InsertNumber{make_number(main_.sid, phone)}, [&](Status s) {
      if (s) {
        ++ok;
      } else if (s.error().status == kConflict) {
        ++conflicts;
      }
    });
  }
  store_->flush();
  EXPECT_EQ(ok.load(), 150);
  EXPECT_EQ(conflicts.load(), 150);
  EXPECT_EQ(store_->list_numbers({main_.sid, "", ""}, {0, 0, 1000})->items.size(), 150u);
}

TEST_F(SqliteStoreTest, ReadersWorkWhileTheWriterIsBusy) {
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done) {
      auto page = store_->list_numbers({main_.sid, "", ""}, {0, 0, 10});
      ASSERT_TRUE(page);
      ++reads;
    }
  });
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(store_->write_sync(
        InsertNumber{make_number(main_.sid, "+1303555" + std::to_string(1000 + i))}));
  }
  done = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
}

TEST_F(SqliteStoreTest, DataSurvivesCloseAndReopen) {
  auto n = make_number(main_.sid, "+14155550142");
  ASSERT_TRUE(store_->write_sync(InsertNumber{n}));
  store_->close();
  auto write_after_close = store_->write_sync(InsertNumber{make_number(main_.sid, "1")});
  EXPECT_FALSE(write_after_close);
  store_.reset();
  auto reopened = SqliteStore::open(dir_.file("sb.db"));
  ASSERT_TRUE(reopened);
  auto found = (*reopened)->find_number(main_.sid, n.sid);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->friendly_name, n.friendly_name);
  EXPECT_EQ((*found)->hooks.voice_url, n.hooks.voice_url);
}

}  // namespace
}  // namespace sb::store
