// The one SQLite writer of a database file: a thread that commits queued jobs in batched
// transactions, a savepoint per job (a failing job is rolled back alone), and completion
// callbacks once the batch holding a job is committed. SqliteStore and the events store use it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"

struct sqlite3;

namespace sb::store {

class SqliteWriter {
 public:
  // Runs on the writer thread inside the batch's transaction, on the connection its owner
  // gave the writer. A failed (or throwing) job is rolled back to its savepoint.
  using Job = std::function<Status()>;
  // Runs on the writer thread after the batch committed (or failed to): an acknowledged
  // success is on disk as durably as the connection's synchronous setting makes it.
  using Done = std::function<void(Status)>;

  struct Options {
    std::size_t max_batch = 256;     // jobs committed in one transaction at most
    std::string name = "the store";  // for the error after close: "<name> is closed"
  };

  // `db` is the owner's writer connection (WAL, synchronous=FULL set by the owner); it must
  // outlive the writer, and nothing else may use it while the writer runs.
  SqliteWriter(sqlite3* db, Options options);
  ~SqliteWriter();  // close()
  SqliteWriter(const SqliteWriter&) = delete;
  SqliteWriter& operator=(const SqliteWriter&) = delete;

  // Queues `job`; jobs commit in queue order. After close() `done` gets 503 at once, on the
  // caller's thread. `done` may be empty.
  void submit(Job job, Done done);
  // Blocks until every job queued before the call completed (or the writer closed).
  void flush();
  // Commits what is queued, checkpoints the WAL into the main file and stops the thread;
  // later jobs fail. Safe to call more than once and from several threads.
  void close();

  std::size_t queued() const;
  // Transactions committed so far (tests, benchmarks: how well jobs were batched).
  std::uint64_t batches() const;

 private:
  struct Pending {
    Job job;
    Done done;
  };
  void run();
  Status exec(const char* sql);

  sqlite3* db_;
  Options options_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<Pending> queue_;
  std::uint64_t enqueued_ = 0;
  std::uint64_t completed_ = 0;
  std::uint64_t batches_ = 0;
  bool stopping_ = false;  // close() was called: no new jobs
  bool closed_ = false;    // the thread is joined and the WAL checkpointed
  std::thread thread_;
};

}  // namespace sb::store
