#include "store/sqlite_writer.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.hpp"

namespace sb::store {
namespace {

// A raw connection to the test's file; the writer's is opened as the stores open theirs.
struct Conn {
  explicit Conn(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
  }
  ~Conn() { sqlite3_close(db); }
  int exec(const std::string& sql) {
    return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  }
  std::vector<int> ids() {
    std::vector<int> out;
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT id FROM t ORDER BY id", -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) out.push_back(sqlite3_column_int(st, 0));
    sqlite3_finalize(st);
    return out;
  }
  sqlite3* db = nullptr;
};

// A job that inserts `id` (a duplicate id fails with a constraint error).
SqliteWriter::Job insert(sqlite3* db, int id) {
  return [db, id]() -> Status {
    const std::string sql = "INSERT INTO t(id) VALUES(" + std::to_string(id) + ")";
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "?";
      sqlite3_free(err);
      return Error::internal(m);
    }
    return Ok{};
  };
}

// Collects each job's outcome by its index.
struct Outcomes {
  explicit Outcomes(std::size_t n) : status(n, -1) {}
  SqliteWriter::Done at(std::size_t i) {
    return [this, i](Status s) {
      std::lock_guard lock(mu);
      status[i] = s ? 0 : s.error().status;
    };
  }
  std::vector<int> get() {
    std::lock_guard lock(mu);
    return status;
  }
  std::mutex mu;
  std::vector<int> status;  // -1 not called, 0 ok, else the error's HTTP status
};

struct SqliteWriterTest : ::testing::Test {
  void SetUp() override {
    path = dir.file("w.db");
    writer_conn = std::make_unique<Conn>(path);
    ASSERT_EQ(writer_conn->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                " CREATE TABLE t(id INTEGER PRIMARY KEY)"),
              SQLITE_OK);
  }
  std::unique_ptr<SqliteWriter> make(std::size_t max_batch = 256) {
    return std::make_unique<SqliteWriter>(writer_conn->db,
                                          SqliteWriter::Options{max_batch, "the test store"});
  }
  // A job that holds the writer until `release` is set, so the test can queue jobs behind it
  // and know they will be taken together.
  SqliteWriter::Job gate() {
    return [this]() -> Status {
      started.set_value();
      release_future.wait();
      return Ok{};
    };
  }

  sb::testing::TempDir dir;
  std::string path;
  std::unique_ptr<Conn> writer_conn;
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> release_future = release.get_future().share();
};

TEST_F(SqliteWriterTest, JobsQueuedWhileTheWriterIsBusyCommitInOneTransaction) {
  auto w = make();
  w->submit(gate(), nullptr);
  started.get_future().wait();
  Outcomes out(100);
  for (int i = 0; i < 100; ++i) w->submit(insert(writer_conn->db, i + 1), out.at(i));
  EXPECT_EQ(w->queued(), 100u);
  release.set_value();
  w->flush();
  EXPECT_EQ(w->batches(), 2u);  // the gate's, then all hundred together
  EXPECT_EQ(out.get(), std::vector<int>(100, 0));
  Conn reader(path);
  EXPECT_EQ(reader.ids().size(), 100u);
}

TEST_F(SqliteWriterTest, ABatchHoldsAtMostMaxBatchJobs) {
  auto w = make(4);
  w->submit(gate(), nullptr);
  started.get_future().wait();
  for (int i = 0; i < 10; ++i) w->submit(insert(writer_conn->db, i + 1), nullptr);
  release.set_value();
  w->flush();
  EXPECT_EQ(w->batches(), 1u + 3u);  // 4 + 4 + 2
}

TEST_F(SqliteWriterTest, AFailedJobIsRolledBackAloneAndTheOthersCommit) {
  auto w = make();
  w->submit(gate(), nullptr);
  started.get_future().wait();
  Outcomes out(5);
  w->submit(insert(writer_conn->db, 1), out.at(0));
  // Writes a row, then fails: its own row must not survive.
  w->submit(
      [db = writer_conn->db]() -> Status {
        sqlite3_exec(db, "INSERT INTO t(id) VALUES(2)", nullptr, nullptr, nullptr);
        return Error{codes::kInvalidParameter, 409, "conflict"};
      },
      out.at(1));
  w->submit(insert(writer_conn->db, 1), out.at(2));  // a duplicate: a constraint error
  // Writes a row, then throws.
  w->submit(
      [db = writer_conn->db]() -> Status {
        sqlite3_exec(db, "INSERT INTO t(id) VALUES(4)", nullptr, nullptr, nullptr);
        throw std::runtime_error("boom");
      },
      out.at(3));
  w->submit(insert(writer_conn->db, 5), out.at(4));
  release.set_value();
  w->flush();
  EXPECT_EQ(w->batches(), 2u);  // they shared one transaction
  EXPECT_EQ(out.get(), (std::vector<int>{0, 409, 500, 500, 0}));
  Conn reader(path);
  EXPECT_EQ(reader.ids(), (std::vector<int>{1, 5}));
}

TEST_F(SqliteWriterTest, DoneRunsOnlyOnceTheRowIsCommitted) {
  auto w = make();
  Conn reader(path);
  std::promise<std::vector<int>> seen;
  // Another connection sees only committed data: what it reads in `done` is on disk.
  w->submit(insert(writer_conn->db, 7),
            [&reader, &seen](Status s) { seen.set_value(s ? reader.ids() : std::vector<int>{}); });
  EXPECT_EQ(seen.get_future().get(), std::vector<int>{7});
}

TEST_F(SqliteWriterTest, FlushWaitsForEveryJobQueuedBeforeIt) {
  auto w = make();
  std::atomic<int> done{0};
  for (int i = 0; i < 1000; ++i) {
    w->submit(insert(writer_conn->db, i + 1), [&done](Status s) {
      if (s) done.fetch_add(1);
    });
  }
  w->flush();
  EXPECT_EQ(done.load(), 1000);
  EXPECT_EQ(w->queued(), 0u);
}

TEST_F(SqliteWriterTest, CloseDrainsTheQueueThenRefusesNewJobs) {
  auto w = make();
  w->submit(gate(), nullptr);
  started.get_future().wait();
  Outcomes out(50);
  for (int i = 0; i < 50; ++i) w->submit(insert(writer_conn->db, i + 1), out.at(i));
  // close() waits for the gate, which the test opens from another thread once close() has
  // begun refusing new jobs.
  std::thread opener([&] {
    for (;;) {
      auto refused = std::make_shared<std::atomic<bool>>(false);
      w->submit([] { return Status(Ok{}); },
                [refused](Status s) { *refused = !s && s.error().status == 503; });
      if (*refused) break;
      std::this_thread::yield();
    }
    release.set_value();
  });
  w->close();
  opener.join();
  EXPECT_EQ(out.get(), std::vector<int>(50, 0));
  Status after = Ok{};
  w->submit(insert(writer_conn->db, 1000), [&after](Status s) { after = s; });
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().status, 503);
  EXPECT_EQ(after.error().message, "the test store is closed");
  w->close();  // again: nothing left to do
  Conn reader(path);
  std::vector<int> want;
  for (int i = 0; i < 50; ++i) want.push_back(i + 1);
  EXPECT_EQ(reader.ids(), want);
  // The WAL was folded into the main file.
  EXPECT_EQ(std::filesystem::file_size(path + "-wal"), 0u);
}

}  // namespace
}  // namespace sb::store
