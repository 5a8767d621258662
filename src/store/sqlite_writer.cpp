#include "store/sqlite_writer.hpp"

#include <sqlite3.h>

#include <exception>

namespace sb::store {

SqliteWriter::SqliteWriter(sqlite3* db, Options options) : db_(db), options_(std::move(options)) {
  if (options_.max_batch == 0) options_.max_batch = 1;
  thread_ = std::thread([this] { run(); });
}

SqliteWriter::~SqliteWriter() { close(); }

void SqliteWriter::submit(Job job, Done done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back({std::move(job), std::move(done)});
      ++enqueued_;
      work_cv_.notify_one();
      return;
    }
  }
  if (done) done(Error{codes::kServiceUnavailable, 503, options_.name + " is closed"});
}

void SqliteWriter::flush() {
  std::unique_lock lock(mu_);
  const std::uint64_t target = enqueued_;
  done_cv_.wait(lock, [&] { return completed_ >= target || closed_; });
}

void SqliteWriter::close() {
  {
    std::unique_lock lock(mu_);
    if (stopping_) {
      // Another caller is closing (or has closed): return once it is done.
      done_cv_.wait(lock, [&] { return closed_; });
      return;
    }
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Fold the WAL back into the main file so the file alone is the whole database.
  exec("PRAGMA wal_checkpoint(TRUNCATE)");
  std::lock_guard lock(mu_);
  closed_ = true;
  done_cv_.notify_all();
}

std::size_t SqliteWriter::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

std::uint64_t SqliteWriter::batches() const {
  std::lock_guard lock(mu_);
  return batches_;
}

Status SqliteWriter::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return Error::internal("sqlite: " + message);
  }
  return Ok{};
}

void SqliteWriter::run() {
  std::vector<Pending> batch;
  std::vector<Status> results;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping with nothing left
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }

    // One transaction per batch, so one fsync covers every job in it.
    results.clear();
    const Status begun = exec("BEGIN IMMEDIATE");
    for (auto& pending : batch) {
      if (!begun) {
        results.push_back(begun);
        continue;
      }
      exec("SAVEPOINT job");
      Status s = Error::internal("sqlite job failed");
      try {
        s = pending.job();
      } catch (const std::exception& e) {
        s = Error::internal(std::string("sqlite job threw: ") + e.what());
      }
      if (!s) exec("ROLLBACK TO job");
      exec("RELEASE job");
      results.push_back(std::move(s));
    }
    if (begun) {
      if (Status committed = exec("COMMIT"); !committed) {
        exec("ROLLBACK");
        for (auto& r : results) r = committed;
      }
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].done) batch[i].done(std::move(results[i]));
    }
    {
      std::lock_guard lock(mu_);
      completed_ += batch.size();
      ++batches_;
    }
    done_cv_.notify_all();
    batch.clear();
  }
}

}  // namespace sb::store
