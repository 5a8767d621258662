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
constexpr const char* kCallSid = "CA0123456789abcdef0123456789abcdef";
constexpr const char* kKeySid = "SK0123456789abcdef0123456789abcdef";
constexpr const char* kMessageSid = "SM0123456789abcdef0123456789abcdef";
constexpr const char* kMediaSid = "ME0123456789abcdef0123456789abcdef";
constexpr const char* kConferenceSid = "CF0123456789abcdef0123456789abcdef";
constexpr const char* kQueueSid = "QU0123456789abcdef0123456789abcdef";

int count_rows(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK);
  int n = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  return n;
}

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
                          " VALUES ('") +
              kSid + "', 'tok', 1, 1)");
      if (from >= 2) {
        db.exec(std::string("INSERT INTO incoming_phone_numbers (sid, account_sid, phone_number,"
                            " date_created, date_updated) VALUES"
                            " ('PN0123456789abcdef0123456789abcdef', '") +
                kSid + "', '+14155550100', 1, 1)");
      }
      if (from >= 5) {
        db.exec(std::string("INSERT INTO calls (sid, account_sid, status, direction,"
                            " date_created, date_updated) VALUES ('") +
                kCallSid + "', '" + kSid + "', 'completed', 'inbound', 1, 1)");
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
    if (from >= 5) {
      auto call = (*store)->find_call(kSid, kCallSid);
      ASSERT_TRUE(call && call->has_value());
      EXPECT_EQ((*call)->status, "completed");
    }
    // The newest tables work on an upgraded file as on a fresh one.
    Recording rec;
    rec.sid = "RE0123456789abcdef0123456789abcdef";
    rec.account_sid = kSid;
    rec.call_sid = kCallSid;
    rec.conference_sid = kConferenceSid;
    rec.date_created = rec.date_updated = 5;
    ASSERT_TRUE((*store)->write_sync(InsertRecording{rec}));
    EXPECT_EQ((*store)->list_recordings({kSid, kCallSid, {}, {}, {}}, {})->items.size(), 1u);
    EXPECT_EQ((*(*store)->find_recording(kSid, rec.sid))->conference_sid, kConferenceSid);
    Conference conference;
    conference.sid = kConferenceSid;
    conference.account_sid = kSid;
    conference.friendly_name = "room";
    conference.date_created = conference.date_updated = 8;
    ASSERT_TRUE((*store)->write_sync(InsertConference{conference}));
    ConferenceFilter by_name;
    by_name.account_sid = kSid;
    by_name.friendly_name = "room";
    EXPECT_EQ((*store)->list_conferences(by_name, {})->items.size(), 1u);
    Queue queue;
    queue.sid = kQueueSid;
    queue.account_sid = kSid;
    queue.friendly_name = "support";
    queue.date_created = queue.date_updated = 9;
    ASSERT_TRUE((*store)->write_sync(InsertQueue{queue}));
    EXPECT_EQ((*(*store)->find_queue_by_name(kSid, "support"))->sid, kQueueSid);
    ApiKey key;
    key.sid = kKeySid;
    key.account_sid = kSid;
    key.secret_hash = "s1$00$ff";
    key.scopes = {"rest"};
    key.date_created = key.date_updated = 6;
    ASSERT_TRUE((*store)->write_sync(InsertApiKey{key}));
    EXPECT_EQ((*store)->list_api_keys({kSid}, {})->items.size(), 1u);
    Message message;
    message.sid = kMessageSid;
    message.account_sid = kSid;
    message.media_urls = {"https://cdn.example/a.jpg"};
    message.date_created = message.date_updated = 7;
    MessageMedia media;
    media.sid = kMediaSid;
    media.content_type = "image/jpeg";
    media.data = "jpeg";
    ASSERT_TRUE((*store)->write_sync(InsertMessage{message, {media}}));
    auto found = (*store)->find_message(kSid, kMessageSid);
    ASSERT_TRUE(found && found->has_value());
    EXPECT_EQ((*found)->media_urls, message.media_urls);
    EXPECT_EQ((*(*store)->find_message_media(kSid, kMessageSid, kMediaSid))->data, "jpeg");
    (*store)->close();
    Db check(path);
    EXPECT_EQ(schema_version(check.db), latest_schema_version());
  }
}

// Version 6 adds the recordings table and its indexes to a version-5 file, leaving its calls.
TEST(Migrations, Version5To6AddsRecordings) {
  testing::TempDir dir;
  Db db(dir.file("v5.db"));
  ASSERT_TRUE(migrate(db.db, 5));
  auto count = [&](const char* sql) { return count_rows(db.db, sql); };
  constexpr const char* kTables =
      "SELECT count(*) FROM sqlite_master WHERE name IN"
      " ('recordings', 'recordings_account', 'recordings_call')";
  EXPECT_EQ(count(kTables), 0);
  db.exec(std::string("INSERT INTO calls (sid, account_sid, status, direction, date_created,"
                      " date_updated) VALUES ('") +
          kCallSid + "', '" + kSid + "', 'completed', 'inbound', 1, 1)");
  ASSERT_TRUE(migrate(db.db, 6));
  EXPECT_EQ(schema_version(db.db), 6);
  EXPECT_EQ(count(kTables), 3);
  EXPECT_EQ(count("SELECT count(*) FROM calls"), 1);
  db.exec(std::string("INSERT INTO recordings (sid, account_sid, status, source, date_created,"
                      " date_updated) VALUES ('RE0123456789abcdef0123456789abcdef', '") +
          kSid + "', 'completed', 'RecordVerb', 1, 1)");
  EXPECT_EQ(count("SELECT channels + duration + start_time + error_code FROM recordings"), 1);
}

// Version 7 adds the api_keys table and its index to a version-6 file, leaving its accounts and
// recordings; a key row defaults to every scope (a Standard key).
TEST(Migrations, Version6To7AddsApiKeys) {
  testing::TempDir dir;
  Db db(dir.file("v6.db"));
  ASSERT_TRUE(migrate(db.db, 6));
  constexpr const char* kTables =
      "SELECT count(*) FROM sqlite_master WHERE name IN ('api_keys', 'api_keys_account')";
  EXPECT_EQ(count_rows(db.db, kTables), 0);
  db.exec(std::string("INSERT INTO accounts (sid, auth_token, date_created, date_updated)"
                      " VALUES ('") +
          kSid + "', 'tok', 1, 1)");
  db.exec(std::string("INSERT INTO recordings (sid, account_sid, status, source, date_created,"
                      " date_updated) VALUES ('RE0123456789abcdef0123456789abcdef', '") +
          kSid + "', 'completed', 'RecordVerb', 1, 1)");
  ASSERT_TRUE(migrate(db.db, 7));
  EXPECT_EQ(schema_version(db.db), 7);
  EXPECT_EQ(count_rows(db.db, kTables), 2);
  EXPECT_EQ(count_rows(db.db, "SELECT count(*) FROM accounts"), 1);
  EXPECT_EQ(count_rows(db.db, "SELECT count(*) FROM recordings"), 1);
  db.exec(std::string("INSERT INTO api_keys (sid, account_sid, secret_hash, date_created,"
                      " date_updated) VALUES ('") +
          kKeySid + "', '" + kSid + "', 'h', 1, 1)");
  EXPECT_EQ(count_rows(db.db,
                       "SELECT count(*) FROM api_keys WHERE scopes ="
                       " 'publish,rest,subscribe' AND friendly_name = ''"),
            1);
}

// Version 13 adds messages, their media and opt-outs (tables and indexes) to a version-12 file,
// leaving its accounts, calls (with their RTP columns) and recordings; a bare message row gets
// the model's defaults.
TEST(Migrations, Version12To13AddsMessagesMediaAndOptOuts) {
  testing::TempDir dir;
  Db db(dir.file("v12.db"));
  ASSERT_TRUE(migrate(db.db, 12));
  constexpr const char* kTables =
      "SELECT count(*) FROM sqlite_master WHERE name IN ('messages', 'messages_account',"
      " 'messages_to', 'messages_from', 'messages_status', 'message_media',"
      " 'message_media_message', 'message_opt_outs')";
  EXPECT_EQ(count_rows(db.db, kTables), 0);
  db.exec(std::string("INSERT INTO accounts (sid, auth_token, date_created, date_updated)"
                      " VALUES ('") +
          kSid + "', 'tok', 1, 1)");
  db.exec(std::string("INSERT INTO calls (sid, account_sid, status, direction, date_created,"
                      " date_updated, rtp_packets_sent) VALUES ('") +
          kCallSid + "', '" + kSid + "', 'completed', 'inbound', 1, 1, 42)");
  db.exec(std::string("INSERT INTO recordings (sid, account_sid, status, source, date_created,"
                      " date_updated) VALUES ('RE0123456789abcdef0123456789abcdef', '") +
          kSid + "', 'completed', 'RecordVerb', 1, 1)");
  ASSERT_TRUE(migrate(db.db, 13));
  EXPECT_EQ(schema_version(db.db), 13);
  EXPECT_EQ(count_rows(db.db, kTables), 8);
  EXPECT_EQ(count_rows(db.db, "SELECT count(*) FROM accounts"), 1);
  EXPECT_EQ(count_rows(db.db, "SELECT rtp_packets_sent FROM calls"), 42);
  EXPECT_EQ(count_rows(db.db, "SELECT count(*) FROM recordings"), 1);
  db.exec(std::string("INSERT INTO messages (sid, account_sid, status, direction, date_created,"
                      " date_updated) VALUES ('") +
          kMessageSid + "', '" + kSid + "', 'queued', 'outbound-api', 1, 1)");
  EXPECT_EQ(count_rows(db.db,
                       "SELECT count(*) FROM messages WHERE num_segments = 1 AND num_media = 0"
                       " AND error_code = 0 AND status_callback_method = 'POST'"
                       " AND media_urls = '[]' AND validity_period = 36000 AND send_at = 0"
                       " AND date_sent = 0 AND body = '' AND from_number = ''"),
            1);
  // Media belong to an existing message (a foreign key), and opt-outs are one row per
  // (account, number, address).
  db.exec("PRAGMA foreign_keys = ON");
  db.exec(std::string("INSERT INTO message_media (sid, account_sid, message_sid, content_type,"
                      " data, date_created, date_updated) VALUES ('") +
          kMediaSid + "', '" + kSid + "', '" + kMessageSid + "', 'image/png', x'00ff', 1, 1)");
  EXPECT_EQ(count_rows(db.db, "SELECT length(data) FROM message_media"), 2);
  EXPECT_NE(sqlite3_exec(db.db,
                         "INSERT INTO message_media (sid, account_sid, message_sid, content_type,"
                         " data, date_created, date_updated) VALUES ('ME1', 'AC1', 'SMnone',"
                         " 'image/png', x'', 1, 1)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  db.exec("INSERT INTO message_opt_outs VALUES ('AC1', '+1', '+2', 1, 1)");
  EXPECT_NE(sqlite3_exec(db.db, "INSERT INTO message_opt_outs VALUES ('AC1', '+1', '+2', 2, 2)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
}

// Version 14 adds conferences and queues (tables and indexes) to a version-13 file, and a
// conference_sid to its recordings ('' for the ones it had), leaving its other rows; bare rows get
// the models' defaults, and a queue's name is unique within its account.
TEST(Migrations, Version13To14AddsConferencesQueuesAndRecordingConferences) {
  testing::TempDir dir;
  Db db(dir.file("v13.db"));
  ASSERT_TRUE(migrate(db.db, 13));
  constexpr const char* kTables =
      "SELECT count(*) FROM sqlite_master WHERE name IN ('conferences', 'conferences_account',"
      " 'conferences_name', 'conferences_open', 'queues', 'queues_account',"
      " 'recordings_conference')";
  EXPECT_EQ(count_rows(db.db, kTables), 0);
  db.exec(std::string("INSERT INTO recordings (sid, account_sid, call_sid, status, source,"
                      " date_created, date_updated) VALUES ('RE0123456789abcdef0123456789abcdef',"
                      " '") +
          kSid + "', '" + kCallSid + "', 'completed', 'RecordVerb', 1, 1)");
  db.exec(std::string("INSERT INTO messages (sid, account_sid, status, direction, date_created,"
                      " date_updated) VALUES ('") +
          kMessageSid + "', '" + kSid + "', 'queued', 'outbound-api', 1, 1)");
  ASSERT_TRUE(migrate(db.db, 14));
  EXPECT_EQ(schema_version(db.db), 14);
  EXPECT_EQ(count_rows(db.db, kTables), 7);
  EXPECT_EQ(count_rows(db.db, "SELECT count(*) FROM messages"), 1);
  const std::string kept = std::string(
                               "SELECT count(*) FROM recordings WHERE conference_sid = ''"
                               " AND call_sid = '") +
                           kCallSid + "'";
  EXPECT_EQ(count_rows(db.db, kept.c_str()), 1);
  db.exec(std::string("INSERT INTO conferences (sid, account_sid, friendly_name, date_created,"
                      " date_updated) VALUES ('") +
          kConferenceSid + "', '" + kSid + "', 'room', 1, 1)");
  EXPECT_EQ(count_rows(db.db,
                       "SELECT count(*) FROM conferences WHERE status = 'init' AND region = ''"
                       " AND reason_conference_ended = '' AND call_sid_ending_conference = ''"),
            1);
  db.exec(std::string("INSERT INTO queues (sid, account_sid, friendly_name, date_created,"
                      " date_updated) VALUES ('") +
          kQueueSid + "', '" + kSid + "', 'support', 1, 1)");
  EXPECT_EQ(count_rows(db.db, "SELECT max_size FROM queues"), 1000);
  EXPECT_NE(sqlite3_exec(db.db,
                         ("INSERT INTO queues (sid, account_sid, friendly_name, date_created,"
                          " date_updated) VALUES ('QU1', '" +
                          std::string(kSid) + "', 'support', 1, 1)")
                             .c_str(),
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  db.exec(
      "INSERT INTO queues (sid, account_sid, friendly_name, date_created, date_updated)"
      " VALUES ('QU2', 'AC1', 'support', 1, 1)");
  EXPECT_EQ(count_rows(db.db, "SELECT count(*) FROM queues"), 2);
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
