// The event router's own SQLite file (DATA_DIR/events.db): channels, subscribers, history, the
// webhook outbox and its attempts, idempotency keys. WAL; written through a store::SqliteWriter
// (one thread, batched transactions, a savepoint per job so one failure spares the rest);
// readers use their own connections. Its schema is migrated here, apart from the main store's.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "store/sqlite_writer.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace sb::events {

// A connection with a statement cache. Binding and reading are positional (1-based binds,
// 0-based columns), like sqlite3 itself.
class Db {
 public:
  class Stmt {
   public:
    explicit Stmt(sqlite3_stmt* s) : s_(s) {}
    ~Stmt();
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    Stmt& bind(int i, std::string_view text);
    Stmt& bind(int i, std::int64_t v);
    Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
    int step();  // SQLITE_ROW, SQLITE_DONE or an error
    bool row() { return step() == 100; }
    std::string text(int c) const;
    std::int64_t integer(int c) const;

   private:
    sqlite3_stmt* s_;
  };

  static Result<std::unique_ptr<Db>> open(const std::string& path, bool writer);
  ~Db();
  Status exec(const char* sql);
  // `sql` must be a string literal: statements are cached by its address.
  Result<std::unique_ptr<Stmt>> prepare(const char* sql);
  Status error(std::string_view what) const;
  std::int64_t last_insert_id() const;
  int changes() const;
  sqlite3* handle() const { return db_; }

  // Events inserted per channel since its history was last pruned (writer thread only):
  // pruning walks the channel's index, so it runs once per max_events/64 inserts, not on
  // every one. History therefore holds at most max_events + max_events/64 events.
  std::unordered_map<std::string, std::int64_t>& prune_credit() { return prune_credit_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  std::unordered_map<std::string, std::int64_t> prune_credit_;
  sqlite3* db_;
  std::vector<std::pair<const char*, sqlite3_stmt*>> cache_;
};

class EventStore {
 public:
  using Job = std::function<Status(Db&)>;

  static Result<std::unique_ptr<EventStore>> open(const std::string& path);
  ~EventStore();
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Queues `job`; `done` runs on the writer thread after the batch holding it committed (or
  // the job failed and was rolled back to its savepoint). Jobs commit in queue order.
  void write(Job job, std::function<void(Status)> done);
  // Runs `f(db)` on a reader connection on the calling thread.
  template <typename F>
  auto read(F&& f) -> decltype(f(std::declval<Db&>()));
  // Blocks until everything queued so far is committed.
  void flush();
  // Drains the queue, checkpoints and stops the writer; later writes fail.
  void close();
  std::size_t queued() const;

 private:
  EventStore(std::string path, std::unique_ptr<Db> writer);
  std::unique_ptr<Db> borrow();
  void give_back(std::unique_ptr<Db> db);

  std::string path_;
  std::unique_ptr<Db> writer_db_;
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Db>> readers_;
  // After writer_db_: destroyed (joined) before the connection it writes on.
  std::unique_ptr<store::SqliteWriter> writer_;
};

template <typename F>
auto EventStore::read(F&& f) -> decltype(f(std::declval<Db&>())) {
  auto db = borrow();
  using R = decltype(f(std::declval<Db&>()));
  if (!db) return R(Error::internal("events store: no reader connection"));
  struct Giver {
    EventStore* s;
    std::unique_ptr<Db>& d;
    ~Giver() { s->give_back(std::move(d)); }
  } giver{this, db};
  return f(*db);
}

// Steps a statement that returns no rows; a failure is reported as `what` failing.
Status step_done(Db& db, Db::Stmt& st, std::string_view what);
// Runs each statement with `sid` bound to ?1, in order; stops at the first failure.
Status run_for_sid(Db& db, std::initializer_list<const char*> statements, const std::string& sid,
                   std::string_view what);

// Queues `job` and resumes the awaiting coroutine on its own executor once the job is committed
// (or failed), so no event loop blocks on disk. `on_commit`, when set, runs first on the writer
// thread, in commit order, with the job's outcome. `job` is a named local of the caller (moved
// from): GCC 12 mishandles temporaries inside co_await expressions.
boost::asio::awaitable<Status> commit(EventStore& store, EventStore::Job job,
                                      std::function<void(const Status&)> on_commit = {});

}  // namespace sb::events
