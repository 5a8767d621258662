#include "events/event_store.hpp"

#include <sqlite3.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"

namespace sb::events {

namespace {

// Migrations in order; user_version says how many ran.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE channels(
  sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL, name TEXT NOT NULL,
  attributes TEXT NOT NULL, signing_secret TEXT NOT NULL,
  date_created INTEGER NOT NULL, date_updated INTEGER NOT NULL,
  UNIQUE(account_sid, name));
CREATE TABLE subscribers(
  sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL, channel_sid TEXT NOT NULL,
  type TEXT NOT NULL, url TEXT NOT NULL, secret TEXT NOT NULL,
  previous_secret TEXT NOT NULL DEFAULT '', previous_expires_ms INTEGER NOT NULL DEFAULT 0,
  attributes TEXT NOT NULL, status TEXT NOT NULL, status_reason TEXT NOT NULL DEFAULT '',
  last_success_ms INTEGER NOT NULL DEFAULT 0,
  date_created INTEGER NOT NULL, date_updated INTEGER NOT NULL);
CREATE INDEX subscribers_channel ON subscribers(channel_sid);
CREATE TABLE events(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, sid TEXT NOT NULL, account_sid TEXT NOT NULL,
  channel_sid TEXT NOT NULL, type TEXT NOT NULL, time_ms INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX events_channel ON events(channel_sid, seq);
CREATE INDEX events_sid ON events(channel_sid, sid);
CREATE TABLE outbox(
  id INTEGER PRIMARY KEY AUTOINCREMENT, target_sid TEXT NOT NULL, channel_sid TEXT NOT NULL,
  url TEXT NOT NULL, event_sid TEXT NOT NULL, event_time_ms INTEGER NOT NULL, body TEXT NOT NULL,
  status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms INTEGER NOT NULL,
  last_status INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE INDEX outbox_pending ON outbox(status, next_attempt_ms);
CREATE INDEX outbox_target ON outbox(target_sid, id);
CREATE TABLE attempts(
  id INTEGER PRIMARY KEY AUTOINCREMENT, outbox_id INTEGER NOT NULL, target_sid TEXT NOT NULL,
  attempt INTEGER NOT NULL, status_code INTEGER NOT NULL, error TEXT NOT NULL,
  duration_ms INTEGER NOT NULL, time_ms INTEGER NOT NULL, next_retry_ms INTEGER NOT NULL);
CREATE INDEX attempts_outbox ON attempts(outbox_id, id);
CREATE TABLE idempotency(
  account_sid TEXT NOT NULL, key TEXT NOT NULL, response TEXT NOT NULL, created_ms INTEGER NOT NULL,
  PRIMARY KEY(account_sid, key));
)sql",
    // History pruning by age looks up a channel's oldest events by time; without this index
    // every publish walked the channel's whole history.
    R"sql(
CREATE INDEX events_time ON events(channel_sid, time_ms);
)sql",
};

}  // namespace

Db::Stmt::~Stmt() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}
Db::Stmt& Db::Stmt::bind(int i, std::string_view text) {
  sqlite3_bind_text(s_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}
Db::Stmt& Db::Stmt::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}
int Db::Stmt::step() { return sqlite3_step(s_); }
std::string Db::Stmt::text(int c) const {
  const auto* p = sqlite3_column_text(s_, c);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(s_, c)))
           : std::string();
}
std::int64_t Db::Stmt::integer(int c) const { return sqlite3_column_int64(s_, c); }

Result<std::unique_ptr<Db>> Db::open(const std::string& path, bool writer) {
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &raw, flags, nullptr) != SQLITE_OK) {
    std::string m = raw ? sqlite3_errmsg(raw) : "out of memory";
    sqlite3_close(raw);
    return Error::internal("cannot open " + path + ": " + m);
  }
  auto db = std::unique_ptr<Db>(new Db(raw));
  sqlite3_busy_timeout(raw, 5000);
  // synchronous=FULL: a publish returns only after its rows survive a power cut, not just kill -9.
  const char* pragmas =
      writer ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;" : "PRAGMA query_only=ON;";
  if (auto s = db->exec(pragmas); !s) return s.error();
  return db;
}

Db::~Db() {
  for (auto& [_, s] : cache_) sqlite3_finalize(s);
  sqlite3_close(db_);
}

Status Db::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return Error::internal("events sqlite: " + m);
  }
  return Ok{};
}

Result<std::unique_ptr<Db::Stmt>> Db::prepare(const char* sql) {
  for (auto& [k, s] : cache_) {
    if (k == sql) return std::make_unique<Stmt>(s);
  }
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
    return Error::internal(std::string("events sqlite prepare: ") + sqlite3_errmsg(db_));
  }
  cache_.emplace_back(sql, s);
  return std::make_unique<Stmt>(s);
}

Status Db::error(std::string_view what) const {
  const int ext = sqlite3_extended_errcode(db_);
  if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return Error{codes::kInvalidParameter, 409, std::string(what) + ": already exists"};
  }
  return Error::internal("events sqlite " + std::string(what) + ": " + sqlite3_errmsg(db_));
}

std::int64_t Db::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
int Db::changes() const { return sqlite3_changes(db_); }

Result<std::unique_ptr<EventStore>> EventStore::open(const std::string& path) {
  auto writer = Db::open(path, true);
  if (!writer) return writer.error();
  auto& db = **writer;
  std::int64_t version = 0;
  {
    auto st = db.prepare("PRAGMA user_version");
    if (!st) return st.error();
    if ((*st)->row()) version = (*st)->integer(0);
  }
  constexpr std::int64_t kCount = sizeof kMigrations / sizeof kMigrations[0];
  for (; version < kCount; ++version) {
    if (auto s = db.exec("BEGIN IMMEDIATE"); !s) return s.error();
    if (auto s = db.exec(kMigrations[version]); !s) {
      db.exec("ROLLBACK");
      return s.error();
    }
    const std::string set = "PRAGMA user_version=" + std::to_string(version + 1);
    if (auto s = db.exec(set.c_str()); !s) return s.error();
    if (auto s = db.exec("COMMIT"); !s) return s.error();
  }
  return std::unique_ptr<EventStore>(new EventStore(path, std::move(*writer)));
}

EventStore::EventStore(std::string path, std::unique_ptr<Db> writer)
    : path_(std::move(path)), writer_db_(std::move(writer)) {
  // 512 jobs a transaction: a publish burst's history and outbox rows share one fsync.
  writer_ = std::make_unique<store::SqliteWriter>(
      writer_db_->handle(), store::SqliteWriter::Options{512, "the events store"});
}

EventStore::~EventStore() { close(); }

void EventStore::write(Job job, std::function<void(Status)> done) {
  writer_->submit([db = writer_db_.get(), job = std::move(job)] { return job(*db); },
                  std::move(done));
}

std::size_t EventStore::queued() const { return writer_->queued(); }

void EventStore::flush() { writer_->flush(); }

void EventStore::close() { writer_->close(); }

std::unique_ptr<Db> EventStore::borrow() {
  {
    std::lock_guard lock(readers_mu_);
    if (!readers_.empty()) {
      auto db = std::move(readers_.back());
      readers_.pop_back();
      return db;
    }
  }
  auto db = Db::open(path_, false);
  if (!db) {
    spdlog::error("events store reader: {}", db.error().message);
    return nullptr;
  }
  return std::move(*db);
}

void EventStore::give_back(std::unique_ptr<Db> db) {
  if (!db) return;
  std::lock_guard lock(readers_mu_);
  if (readers_.size() < 8) readers_.push_back(std::move(db));
}

Status step_done(Db& db, Db::Stmt& st, std::string_view what) {
  if (st.step() != SQLITE_DONE) return db.error(what);
  return Ok{};
}

Status run_for_sid(Db& db, std::initializer_list<const char*> statements, const std::string& sid,
                   std::string_view what) {
  for (const char* sql : statements) {
    auto st = db.prepare(sql);
    if (!st) return st.error();
    (*st)->bind(1, sid);
    if (Status s = step_done(db, **st, what); !s) return s;
  }
  return Ok{};
}

boost::asio::awaitable<Status> commit(EventStore& store, EventStore::Job job,
                                      std::function<void(const Status&)> on_commit) {
  namespace asio = boost::asio;
  auto executor = co_await asio::this_coro::executor;
  auto initiate = [&store, &job, &on_commit, executor](auto handler) {
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    store.write(std::move(job), [shared, executor, hook = std::move(on_commit)](Status s) {
      if (hook) hook(s);
      asio::post(executor, [shared, s = std::move(s)]() mutable { (*shared)(std::move(s)); });
    });
  };
  Status s = co_await asio::async_initiate<decltype(asio::use_awaitable), void(Status)>(
      initiate, asio::use_awaitable);
  co_return s;
}

}  // namespace sb::events
