#include "store/migrations.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/sqlite_store.hpp"
#include "support/temp_dir.hpp"

namespace sb::store {
namespace {

struct Db {
  explicit Db(const std::string& path) { sqlite3_open(path.c_str(), &db); }
  ~Db() { sqlite3_close(db); }
  void exec(const std::string& sql) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
  }
  sqlite3* db = nullptr;
};

constexpr const char* kSid = "AC0123456789abcdef0123456789abcdef";

TEST(Migrations, VersionsAreDenseAndIncreasing) {
  int expected = 1;
  for (const auto& m : migrations()) EXPECT_EQ(m.version, expected++);
  EXPECT_EQ(latest_schema_version(), expected - 1);
}

TEST(Migrations, AnEmptyFileReachesTheLatestVersion) {
  testing::TempDir dir;
  Db db(dir.file("a.db"));
  EXPECT_EQ(schema_version(db.db), 0);
  ASSERT_TRUE(migrate(db.db));
  EXPECT_EQ(schema_version(db.db), latest_schema_version());
  ASSERT_TRUE(migrate(db.db));  // idempotent
  EXPECT_EQ(schema_version(db.db), latest_schema_version());
}

// A file left at every earlier version, holding that version's data, opens with the current
// binary and keeps its data.
TEST(Migrations, EveryEarlierVersionUpgradesWithItsData) {
  for (int from = 1; from < latest_schema_version(); ++from) {
    SCOPED_TRACE("from version " + std::to_string(from));
    testing::TempDir dir;
    const auto path = dir.file("old.db");
    {
      Db db(path);
      ASSERT_TRUE(migrate(db.db, from));
      ASSERT_EQ(schema_version(db.db), from);
      db.exec(std::string("INSERT INTO accounts (sid, auth_token, date_created, date_updated)"
                          " VALUES ('") + kSid + "', 'tok', 1, 1)");
      if (from >= 2) {
        db.exec(std::string("INSERT INTO incoming_phone_numbers (sid, account_sid, phone_number,"
                            " date_created, date_updated) VALUES"
                            " ('PN0123456789abcdef0123456789abcdef', '") + kSid +
                "', '+14155550100', 1, 1)");
      }
    }
    auto store = SqliteStore::open(path);
    ASSERT_TRUE(store) << store.error().message;
    auto account = (*store)->find_account(kSid);
    ASSERT_TRUE(account && account->has_value());
    EXPECT_EQ((*account)->auth_token, "tok");
    if (from >= 2) {
      auto n = (*store)->find_number_by_phone("+14155550100");
      ASSERT_TRUE(n && n->has_value());
      EXPECT_EQ((*n)->hooks.voice_method, "POST");
    }
    (*store)->close();
    Db check(path);
    EXPECT_EQ(schema_version(check.db), latest_schema_version());
  }
}

TEST(Migrations, RefusesAFileFromANewerBinary) {
  testing::TempDir dir;
  const auto path = dir.file("new.db");
  {
    Db db(path);
    db.exec("PRAGMA user_version = " + std::to_string(latest_schema_version() + 1));
  }
  auto store = SqliteStore::open(path);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("newer"), std::string::npos);
}

TEST(Migrations, AFailedMigrationLeavesTheFileAtItsVersion) {
  testing::TempDir dir;
  Db db(dir.file("c.db"));
  ASSERT_TRUE(migrate(db.db, 1));
  db.exec("CREATE TABLE applications (x INTEGER)");  // collides with migration 2
  EXPECT_FALSE(migrate(db.db));
  EXPECT_EQ(schema_version(db.db), 1);
}

}  // namespace
}  // namespace sb::store
