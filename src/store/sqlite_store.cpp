#include "store/sqlite_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <future>
#include <limits>
#include <set>
#include <unordered_map>
#include <vector>

#include "store/migrations.hpp"

namespace sb::store {

// A prepared statement borrowed from a connection's cache; reset when it goes out of scope.
class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int index, std::int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  // Bytes, stored as a BLOB (an empty one for no bytes: a null pointer would bind NULL).
  Statement& bind_blob(int index, std::string_view bytes) {
    if (bytes.empty()) {
      sqlite3_bind_zeroblob(stmt_, index, 0);
    } else {
      sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()),
                        SQLITE_TRANSIENT);
    }
    return *this;
  }
  int step() { return sqlite3_step(stmt_); }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::string blob(int col) const {
    const auto* p = sqlite3_column_blob(stmt_, col);
    return p ? std::string(static_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  Statement& bind_null(int index) {
    sqlite3_bind_null(stmt_, index);
    return *this;
  }

 private:
  sqlite3_stmt* stmt_;
};

class SqliteStore::Connection {
 public:
  static Result<std::unique_ptr<Connection>> open(const std::string& path, bool writer) {
    sqlite3* db = nullptr;
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
      std::string message = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close(db);
      return Error::internal("cannot open " + path + ": " + message);
    }
    auto conn = std::unique_ptr<Connection>(new Connection(db));
    sqlite3_busy_timeout(db, 5000);
    const char* pragmas = writer ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                   " PRAGMA foreign_keys=ON;"
                                 : "PRAGMA query_only=ON;";
    if (auto s = conn->exec(pragmas); !s) return s.error();
    return conn;
  }

  ~Connection() {
    for (auto& [_, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  Status exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string message = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      return Error::internal(std::string("sqlite: ") + message);
    }
    return Ok{};
  }

  // Statements are prepared once per connection and kept; `sql` is a string literal.
  Result<sqlite3_stmt*> prepare(const char* sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      return Error::internal(std::string("sqlite prepare: ") + sqlite3_errmsg(db_));
    }
    cache_.emplace(sql, stmt);
    return stmt;
  }

  Error last_error() const {
    const int ext = sqlite3_extended_errcode(db_);
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Error{codes::kInvalidParameter, kConflict, sqlite3_errmsg(db_)};
    }
    return Error::internal(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }

  sqlite3* handle() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

class SqliteStore::ReaderLease {
 public:
  ReaderLease(SqliteStore* owner, std::unique_ptr<Connection> conn)
      : owner_(owner), conn_(std::move(conn)) {}
  ReaderLease(ReaderLease&& other) noexcept = default;
  ReaderLease& operator=(ReaderLease&&) = delete;
  ~ReaderLease() {
    if (conn_) owner_->give_back(std::move(conn_));
  }
  Connection& operator*() const { return *conn_; }
  Connection* operator->() const { return conn_.get(); }

 private:
  SqliteStore* owner_;
  std::unique_ptr<Connection> conn_;
};

namespace {

Account read_account(const Statement& s) {
  Account a;
  a.id = s.integer(0);
  a.sid = s.text(1);
  a.owner_sid = s.text(2);
  a.friendly_name = s.text(3);
  a.auth_token = s.text(4);
  a.status = s.text(5);
  a.type = s.text(6);
  a.date_created = s.integer(7);
  a.date_updated = s.integer(8);
  a.secondary_auth_token = s.text(9);
  a.secondary_created = s.integer(10);
  if (!s.is_null(11)) a.outbound_deny_private = s.integer(11) != 0;
  a.enforce_media_auth = s.integer(12) != 0;
  return a;
}

// Columns 0..9 of both hook-bearing tables, after their own leading columns.
void read_hooks(const Statement& s, int first, WebhookSettings& h) {
  h.voice_url = s.text(first + 0);
  h.voice_method = s.text(first + 1);
  h.voice_fallback_url = s.text(first + 2);
  h.voice_fallback_method = s.text(first + 3);
  h.status_callback = s.text(first + 4);
  h.status_callback_method = s.text(first + 5);
  h.sms_url = s.text(first + 6);
  h.sms_method = s.text(first + 7);
  h.sms_fallback_url = s.text(first + 8);
  h.sms_fallback_method = s.text(first + 9);
}

void bind_hooks(Statement& s, int first, const WebhookSettings& h) {
  s.bind(first + 0, h.voice_url)
      .bind(first + 1, h.voice_method)
      .bind(first + 2, h.voice_fallback_url)
      .bind(first + 3, h.voice_fallback_method)
      .bind(first + 4, h.status_callback)
      .bind(first + 5, h.status_callback_method)
      .bind(first + 6, h.sms_url)
      .bind(first + 7, h.sms_method)
      .bind(first + 8, h.sms_fallback_url)
      .bind(first + 9, h.sms_fallback_method);
}

#define SB_HOOK_COLUMNS                                                                   \
  "voice_url, voice_method, voice_fallback_url, voice_fallback_method, status_callback, " \
  "status_callback_method, sms_url, sms_method, sms_fallback_url, sms_fallback_method"

#define SB_NUMBER_COLUMNS                                                      \
  "id, sid, account_sid, phone_number, friendly_name, voice_application_sid, " \
  "sms_application_sid, date_created, date_updated, " SB_HOOK_COLUMNS

#define SB_APPLICATION_COLUMNS                                               \
  "id, sid, account_sid, friendly_name, sms_status_callback, date_created, " \
  "date_updated, " SB_HOOK_COLUMNS

#define SB_NOTIFICATION_COLUMNS                                                    \
  "id, sid, account_sid, call_sid, log, error_code, message_text, request_method," \
  " request_url, request_variables, response_body, response_headers, date_created"

Notification read_notification(const Statement& s) {
  Notification n;
  n.id = s.integer(0);
  n.sid = s.text(1);
  n.account_sid = s.text(2);
  n.call_sid = s.text(3);
  n.log = static_cast<int>(s.integer(4));
  n.error_code = static_cast<int>(s.integer(5));
  n.message_text = s.text(6);
  n.request_method = s.text(7);
  n.request_url = s.text(8);
  n.request_variables = s.text(9);
  n.response_body = s.text(10);
  n.response_headers = s.text(11);
  n.date_created = s.integer(12);
  return n;
}

#define SB_CALL_EVENT_COLUMNS                                                        \
  "id, account_sid, call_sid, type, request_method, request_url, request_variables," \
  " response_code, content_type, response_headers, response_body, duration_ms,"      \
  " error_code, error_message, date_created_ms"

CallEvent read_call_event(const Statement& s) {
  CallEvent e;
  e.id = s.integer(0);
  e.account_sid = s.text(1);
  e.call_sid = s.text(2);
  e.type = s.text(3);
  e.request_method = s.text(4);
  e.request_url = s.text(5);
  e.request_variables = s.text(6);
  e.response_code = static_cast<int>(s.integer(7));
  e.content_type = s.text(8);
  e.response_headers = s.text(9);
  e.response_body = s.text(10);
  e.duration_ms = static_cast<int>(s.integer(11));
  e.error_code = static_cast<int>(s.integer(12));
  e.error_message = s.text(13);
  e.date_created_ms = s.integer(14);
  return e;
}

#define SB_CALL_COLUMNS                                                                      \
  "id, sid, account_sid, parent_call_sid, phone_number_sid, to_number, from_number, status," \
  " direction, answered_by, forwarded_from, caller_name, start_time, end_time, duration,"    \
  " date_created, date_updated, queue_time, rtp_packets_received, rtp_packets_sent,"         \
  " rtp_bytes_received, rtp_bytes_sent, rtp_packets_lost, rtp_packets_late, sip_summary"

Call read_call(const Statement& s) {
  Call c;
  c.id = s.integer(0);
  c.sid = s.text(1);
  c.account_sid = s.text(2);
  c.parent_call_sid = s.text(3);
  c.phone_number_sid = s.text(4);
  c.to = s.text(5);
  c.from = s.text(6);
  c.status = s.text(7);
  c.direction = s.text(8);
  c.answered_by = s.text(9);
  c.forwarded_from = s.text(10);
  c.caller_name = s.text(11);
  c.start_time = s.integer(12);
  c.end_time = s.integer(13);
  c.duration = s.integer(14);
  c.date_created = s.integer(15);
  c.date_updated = s.integer(16);
  c.queue_time_ms = s.integer(17);
  c.media.packets_received = s.integer(18);
  c.media.packets_sent = s.integer(19);
  c.media.bytes_received = s.integer(20);
  c.media.bytes_sent = s.integer(21);
  c.media.packets_lost = s.integer(22);
  c.media.packets_late = s.integer(23);
  c.sip_summary = s.text(24);
  return c;
}

#define SB_RECORDING_COLUMNS                                                        \
  "id, sid, account_sid, call_sid, status, source, channels, duration, start_time," \
  " media_path, error_code, date_created, date_updated, conference_sid"

Recording read_recording(const Statement& s) {
  Recording r;
  r.id = s.integer(0);
  r.sid = s.text(1);
  r.account_sid = s.text(2);
  r.call_sid = s.text(3);
  r.status = s.text(4);
  r.source = s.text(5);
  r.channels = static_cast<int>(s.integer(6));
  r.duration = s.integer(7);
  r.start_time = s.integer(8);
  r.media_path = s.text(9);
  r.error_code = static_cast<int>(s.integer(10));
  r.date_created = s.integer(11);
  r.date_updated = s.integer(12);
  r.conference_sid = s.text(13);
  return r;
}

#define SB_CONFERENCE_COLUMNS                                                     \
  "id, sid, account_sid, friendly_name, status, region, reason_conference_ended," \
  " call_sid_ending_conference, date_created, date_updated"

Conference read_conference(const Statement& s) {
  Conference c;
  c.id = s.integer(0);
  c.sid = s.text(1);
  c.account_sid = s.text(2);
  c.friendly_name = s.text(3);
  c.status = s.text(4);
  c.region = s.text(5);
  c.reason_conference_ended = s.text(6);
  c.call_sid_ending_conference = s.text(7);
  c.date_created = s.integer(8);
  c.date_updated = s.integer(9);
  return c;
}

#define SB_QUEUE_COLUMNS "id, sid, account_sid, friendly_name, max_size, date_created, date_updated"

Queue read_queue(const Statement& s) {
  Queue q;
  q.id = s.integer(0);
  q.sid = s.text(1);
  q.account_sid = s.text(2);
  q.friendly_name = s.text(3);
  q.max_size = static_cast<int>(s.integer(4));
  q.date_created = s.integer(5);
  q.date_updated = s.integer(6);
  return q;
}

#define SB_MESSAGE_COLUMNS                                                             \
  "id, sid, account_sid, messaging_service_sid, from_number, to_number, body, status," \
  " direction, num_segments, num_media, error_code, error_message, status_callback,"   \
  " status_callback_method, application_sid, media_urls, validity_period, send_at,"    \
  " date_created, date_updated, date_sent"

// MediaUrl values as one JSON array of strings, so that any URL (commas, newlines, quotes)
// comes back as it went in.
std::string encode_media_urls(const std::vector<std::string>& urls) {
  boost::json::array array;
  array.reserve(urls.size());
  for (const auto& url : urls) array.emplace_back(boost::json::string(url.data(), url.size()));
  return boost::json::serialize(array);
}

std::vector<std::string> decode_media_urls(std::string_view text) {
  std::vector<std::string> out;
  boost::json::parse_options options;
  options.allow_invalid_utf8 = true;  // the bytes as they were written
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(text, ec, {}, options);
  if (ec || !value.is_array()) return out;  // only encode_media_urls writes the column
  for (const auto& item : value.get_array()) {
    if (const auto* url = item.if_string()) out.emplace_back(url->data(), url->size());
  }
  return out;
}

Message read_message(const Statement& s) {
  Message m;
  m.id = s.integer(0);
  m.sid = s.text(1);
  m.account_sid = s.text(2);
  m.messaging_service_sid = s.text(3);
  m.from = s.text(4);
  m.to = s.text(5);
  m.body = s.text(6);
  m.status = s.text(7);
  m.direction = s.text(8);
  m.num_segments = static_cast<int>(s.integer(9));
  m.num_media = static_cast<int>(s.integer(10));
  m.error_code = static_cast<int>(s.integer(11));
  m.error_message = s.text(12);
  m.status_callback = s.text(13);
  m.status_callback_method = s.text(14);
  m.application_sid = s.text(15);
  m.media_urls = decode_media_urls(s.text(16));
  m.validity_period = static_cast<int>(s.integer(17));
  m.send_at = s.integer(18);
  m.date_created = s.integer(19);
  m.date_updated = s.integer(20);
  m.date_sent = s.integer(21);
  return m;
}

// Lists leave the bytes out (a page of media could be megabytes); find reads them.
#define SB_MEDIA_COLUMNS \
  "id, sid, account_sid, message_sid, content_type, date_created, date_updated"

MessageMedia read_media(const Statement& s) {
  MessageMedia m;
  m.id = s.integer(0);
  m.sid = s.text(1);
  m.account_sid = s.text(2);
  m.message_sid = s.text(3);
  m.content_type = s.text(4);
  m.date_created = s.integer(5);
  m.date_updated = s.integer(6);
  return m;
}

MessageMedia read_media_with_data(const Statement& s) {
  MessageMedia m = read_media(s);
  m.data = s.blob(7);
  return m;
}

#define SB_API_KEY_COLUMNS \
  "id, sid, account_sid, friendly_name, secret_hash, scopes, date_created, date_updated"

// Scopes are kept as one comma-separated column ("publish,rest,subscribe").
std::string join_scopes(const std::set<std::string, std::less<>>& scopes) {
  std::string out;
  for (const auto& scope : scopes) {
    if (!out.empty()) out += ',';
    out += scope;
  }
  return out;
}

std::set<std::string, std::less<>> split_scopes(std::string_view text) {
  std::set<std::string, std::less<>> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    if (auto part = text.substr(0, comma); !part.empty()) out.emplace(part);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

ApiKey read_api_key(const Statement& s) {
  ApiKey k;
  k.id = s.integer(0);
  k.sid = s.text(1);
  k.account_sid = s.text(2);
  k.friendly_name = s.text(3);
  k.secret_hash = s.text(4);
  k.scopes = split_scopes(s.text(5));
  k.date_created = s.integer(6);
  k.date_updated = s.integer(7);
  return k;
}

#define SB_CALLER_ID_COLUMNS \
  "id, sid, account_sid, phone_number, friendly_name, date_created, date_updated"

#define SB_TRUNK_COLUMNS                                                                   \
  "id, sid, account_sid, friendly_name, address, transport, prefixes, username, password," \
  " from_domain, date_created, date_updated, tls_verify, srtp"

SipTrunk read_trunk(const Statement& s) {
  SipTrunk t;
  t.id = s.integer(0);
  t.sid = s.text(1);
  t.account_sid = s.text(2);
  t.friendly_name = s.text(3);
  t.address = s.text(4);
  t.transport = s.text(5);
  t.prefixes = s.text(6);
  t.username = s.text(7);
  t.password = s.text(8);
  t.from_domain = s.text(9);
  t.date_created = s.integer(10);
  t.date_updated = s.integer(11);
  t.tls_verify = s.integer(12) != 0;
  t.srtp = s.text(13);
  return t;
}

#define SB_CREDENTIAL_LIST_COLUMNS "id, sid, account_sid, friendly_name, date_created, date_updated"

CredentialList read_credential_list(const Statement& s) {
  CredentialList l;
  l.id = s.integer(0);
  l.sid = s.text(1);
  l.account_sid = s.text(2);
  l.friendly_name = s.text(3);
  l.date_created = s.integer(4);
  l.date_updated = s.integer(5);
  return l;
}

#define SB_CREDENTIAL_COLUMNS                                                          \
  "c.id, c.sid, c.account_sid, c.credential_list_sid, c.username, c.realm, c.ha1_md5," \
  " c.ha1_sha256, c.date_created, c.date_updated"

SipCredential read_credential(const Statement& s) {
  SipCredential c;
  c.id = s.integer(0);
  c.sid = s.text(1);
  c.account_sid = s.text(2);
  c.credential_list_sid = s.text(3);
  c.username = s.text(4);
  c.realm = s.text(5);
  c.ha1_md5 = s.text(6);
  c.ha1_sha256 = s.text(7);
  c.date_created = s.integer(8);
  c.date_updated = s.integer(9);
  return c;
}

#define SB_DOMAIN_COLUMNS                                                      \
  "id, sid, account_sid, domain_name, friendly_name, voice_url, voice_method," \
  " voice_fallback_url, voice_fallback_method, voice_status_callback_url,"     \
  " voice_status_callback_method, sip_registration, date_created, date_updated, srtp"

SipDomain read_domain(const Statement& s) {
  SipDomain d;
  d.id = s.integer(0);
  d.sid = s.text(1);
  d.account_sid = s.text(2);
  d.domain_name = s.text(3);
  d.friendly_name = s.text(4);
  d.voice_url = s.text(5);
  d.voice_method = s.text(6);
  d.voice_fallback_url = s.text(7);
  d.voice_fallback_method = s.text(8);
  d.voice_status_callback_url = s.text(9);
  d.voice_status_callback_method = s.text(10);
  d.sip_registration = s.integer(11) != 0;
  d.date_created = s.integer(12);
  d.date_updated = s.integer(13);
  d.srtp = s.text(14);
  return d;
}

std::string_view kind_name(MappingKind k) {
  return k == MappingKind::kCalls ? "calls" : "registrations";
}

DomainMapping read_mapping(const Statement& s) {
  DomainMapping m;
  m.id = s.integer(0);
  m.account_sid = s.text(1);
  m.domain_sid = s.text(2);
  m.credential_list_sid = s.text(3);
  m.kind = s.text(4) == "calls" ? MappingKind::kCalls : MappingKind::kRegistrations;
  m.friendly_name = s.text(5);
  m.date_created = s.integer(6);
  m.date_updated = s.integer(7);
  return m;
}

CallerId read_caller_id(const Statement& s) {
  CallerId c;
  c.id = s.integer(0);
  c.sid = s.text(1);
  c.account_sid = s.text(2);
  c.phone_number = s.text(3);
  c.friendly_name = s.text(4);
  c.date_created = s.integer(5);
  c.date_updated = s.integer(6);
  return c;
}

IncomingNumber read_number(const Statement& s) {
  IncomingNumber n;
  n.id = s.integer(0);
  n.sid = s.text(1);
  n.account_sid = s.text(2);
  n.phone_number = s.text(3);
  n.friendly_name = s.text(4);
  n.voice_application_sid = s.text(5);
  n.sms_application_sid = s.text(6);
  n.date_created = s.integer(7);
  n.date_updated = s.integer(8);
  read_hooks(s, 9, n.hooks);
  return n;
}

Application read_application(const Statement& s) {
  Application a;
  a.id = s.integer(0);
  a.sid = s.text(1);
  a.account_sid = s.text(2);
  a.friendly_name = s.text(3);
  a.sms_status_callback = s.text(4);
  a.date_created = s.integer(5);
  a.date_updated = s.integer(6);
  read_hooks(s, 7, a.hooks);
  return a;
}

// A LIKE pattern for Twilio's PhoneNumber filter: a substring where '*' is any one character.
std::string like_pattern(std::string_view filter) {
  std::string out = "%";
  for (char c : filter) {
    if (c == '%' || c == '_' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '*') {
      out += '_';
    } else {
      out += c;
    }
  }
  out += '%';
  return out;
}

// Twilio's date filters on one column (Date=, Date<, Date>: that day GMT, on or before, on or
// after) as one closed range [lowest, highest] of Unix seconds; no filter is the whole range.
struct DateBounds {
  std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
  std::int64_t highest = std::numeric_limits<std::int64_t>::max();
};

DateBounds date_bounds(const std::optional<std::int64_t>& on_or_before,
                       const std::optional<std::int64_t>& on_or_after,
                       const std::optional<std::int64_t>& on_day_start) {
  constexpr std::int64_t kDay = 86400;
  DateBounds b;
  if (on_or_after) b.lowest = std::max(b.lowest, *on_or_after);
  if (on_or_before) b.highest = std::min(b.highest, *on_or_before);
  if (on_day_start) {
    b.lowest = std::max(b.lowest, *on_day_start);
    b.highest = std::min(b.highest, *on_day_start + kDay - 1);
  }
  return b;
}

template <typename T, typename Reader>
Result<Page<T>> collect(SqliteStore::Connection& conn, Statement& stmt, std::size_t limit,
                        Reader reader) {
  Page<T> page;
  int rc;
  while ((rc = stmt.step()) == SQLITE_ROW) {
    if (page.items.size() == limit) {
      page.has_more = true;
      break;
    }
    page.items.push_back(reader(stmt));
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return conn.last_error();
  return page;
}

template <typename T, typename Reader>
Result<std::optional<T>> one(SqliteStore::Connection& conn, Statement& stmt, Reader reader) {
  const int rc = stmt.step();
  if (rc == SQLITE_ROW) return std::optional<T>(reader(stmt));
  if (rc == SQLITE_DONE) return std::optional<T>();
  return conn.last_error();
}

void bind_page(Statement& s, int first, const PageRequest& page) {
  s.bind(first, page.after_id)
      .bind(first + 1, static_cast<std::int64_t>(page.limit + 1))
      .bind(first + 2, page.offset);
}

// A newest-first list's page: its statement says `id < ?first` (a range the planner walks the
// index from, not `(?first = 0 OR id < ?first)`, which it can only test row by row from the
// newest: page N of an id walk then cost N pages); without a token, no row is excluded.
constexpr std::int64_t kNoUpperBound = std::numeric_limits<std::int64_t>::max();
void bind_page_desc(Statement& s, int first, const PageRequest& page) {
  s.bind(first, page.after_id > 0 ? page.after_id : kNoUpperBound)
      .bind(first + 1, static_cast<std::int64_t>(page.limit + 1))
      .bind(first + 2, page.offset);
}

// Runs a write statement; `must_change` turns "no row matched" into not-found.
Status run_write(SqliteStore::Connection& conn, Statement& stmt, bool must_change) {
  if (stmt.step() != SQLITE_DONE) return conn.last_error();
  if (must_change && sqlite3_changes(conn.handle()) == 0) {
    return Error::not_found("The requested resource was not found");
  }
  return Ok{};
}

struct MutationApplier {
  SqliteStore::Connection& conn;

  Status operator()(const InsertAccount& m) {
    auto p = conn.prepare(
        "INSERT INTO accounts (sid, owner_sid, friendly_name, auth_token, status, type,"
        " date_created, date_updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!p) return p.error();
    Statement s(*p);
    const Account& a = m.account;
    s.bind(1, a.sid).bind(2, a.owner_sid).bind(3, a.friendly_name).bind(4, a.auth_token);
    s.bind(5, a.status).bind(6, a.type).bind(7, a.date_created).bind(8, a.date_updated);
    return run_write(conn, s, false);
  }

  Status operator()(const UpdateAccount& m) {
    auto p = conn.prepare(
        "UPDATE accounts SET friendly_name = ?2, auth_token = ?3, status = ?4,"
        " date_updated = ?5, secondary_auth_token = ?6, secondary_created = ?7,"
        " outbound_deny_private = ?8, enforce_media_auth = ?9 WHERE sid = ?1");
    if (!p) return p.error();
    Statement s(*p);
    const Account& a = m.account;
    s.bind(1, a.sid).bind(2, a.friendly_name).bind(3, a.auth_token).bind(4, a.status);
    s.bind(5, a.date_updated).bind(6, a.secondary_auth_token).bind(7, a.secondary_created);
    if (a.outbound_deny_private) {
      s.bind(8, std::int64_t{*a.outbound_deny_private ? 1 : 0});
    } else {
      s.bind_null(8);
    }
    s.bind(9, std::int64_t{a.enforce_media_auth ? 1 : 0});
    return run_write(conn, s, true);
  }

  Status operator()(const InsertApiKey& m) {
    auto p = conn.prepare("INSERT INTO api_keys (" SB_API_KEY_COLUMNS
                          ") VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!p) return p.error();
    Statement s(*p);
    const ApiKey& k = m.key;
    s.bind(1, k.sid).bind(2, k.account_sid).bind(3, k.friendly_name).bind(4, k.secret_hash);
    s.bind(5, join_scopes(k.scopes)).bind(6, k.date_created).bind(7, k.date_updated);
    return run_write(conn, s, false);
  }

  Status operator()(const UpdateApiKey& m) {
    auto p = conn.prepare(
        "UPDATE api_keys SET friendly_name = ?3, scopes = ?4, date_updated = ?5"
        " WHERE sid = ?1 AND account_sid = ?2");
    if (!p) return p.error();
    Statement s(*p);
    const ApiKey& k = m.key;
    s.bind(1, k.sid).bind(2, k.account_sid).bind(3, k.friendly_name);
    s.bind(4, join_scopes(k.scopes)).bind(5, k.date_updated);
    return run_write(conn, s, true);
  }

  Status operator()(const DeleteApiKey& m) {
    auto p = conn.prepare("DELETE FROM api_keys WHERE sid = ?1 AND account_sid = ?2");
    if (!p) return p.error();
    Statement s(*p);
    s.bind(1, m.sid).bind(2, m.account_sid);
    return run_write(conn, s, true);
  }

  Status operator()(const InsertTrunk& m) {
    auto p =
        conn.prepare("INSERT INTO sip_trunks (" SB_TRUNK_COLUMNS
                     ") VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
    if (!p) return p.error();
    Statement s(*p);
    const SipTrunk& t = m.trunk;
    s.bind(1, t.sid).bind(2, t.account_sid).bind(3, t.friendly_name).bind(4, t.address);
    s.bind(5, t.transport).bind(6, t.prefixes).bind(7, t.username).bind(8, t.password);
    s.bind(9, t.from_domain).bind(10, t.date_created).bind(11, t.date_updated);
    s.bind(12, std::int64_t{t.tls_verify}).bind(13, t.srtp);
    return run_write(conn, s, false);
  }

  Status operator()(const UpdateTrunk& m) {
    auto p = conn.prepare(
        "UPDATE sip_trunks SET friendly_name = ?3, address = ?4, transport = ?5, prefixes = ?6,"
        " username = ?7, password = ?8, from_domain = ?9, date_updated = ?10, tls_verify = ?11,"
        " srtp = ?12 WHERE sid = ?1 AND account_sid = ?2");
    if (!p) return p.error();
    Statement s(*p);
    const SipTrunk& t = m.trunk;
    s.bind(1, t.sid).bind(2, t.account_sid).bind(3, t.friendly_name).bind(4, t.address);
    s.bind(5, t.transport).bind(6, t.prefixes).bind(7, t.username).bind(8, t.password);
    s.bind(9, t.from_domain).bind(10, t.date_updated).bind(11, std::int64_t{t.tls_verify});
    s.bind(12, t.srtp);
    return run_write(conn, s, true);
  }

  Status operator()(const DeleteTrunk& m) {
    auto p = conn.prepare("DELETE FROM sip_trunks WHERE sid = ?1 AND account_sid = ?2");
    if (!p) return p.error();
    Statement s(*p);
    s.bind(1, m.sid).bind(2, m.account_sid);
    return run_write(conn, s, true);
  }

  // Runs each statement with the same leading bindings (?1, ?2, …) in turn; the last one must
  // change a row (dependent rows go first, for the foreign keys).
  Status run_each(std::initializer_list<const char*> sqls,
                  std::initializer_list<std::string_view> binds) {
    std::size_t left = sqls.size();
    for (const char* sql : sqls) {
      auto p = conn.prepare(sql);
      if (!p) return p.error();
      Statement s(*p);
      int i = 1;
      for (auto b : binds) s.bind(i++, b);
      if (auto st = run_write(conn, s, --left == 0); !st) return st;
    }
    return Ok{};
  }

  Status operator()(const SaveCredentialList& m) {
    const CredentialList& l = m.list;
    auto p = conn.prepare(m.create ? "INSERT INTO sip_credential_lists (" SB_CREDENTIAL_LIST_COLUMNS
                                     ") VALUES (NULL, ?1, ?2, ?3, ?4, ?5)"
                                   : "UPDATE sip_credential_lists SET friendly_name = ?3,"
                                     " date_updated = ?5 WHERE sid = ?1 AND account_sid = ?2");
    if (!p) return p.error();
    Statement s(*p);
    s.bind(1, l.sid).bind(2, l.account_sid).bind(3, l.friendly_name);
    s.bind(4, l.date_created).bind(5, l.date_updated);
    return run_write(conn, s, !m.create);
  }

  Status operator()(const DeleteCredentialList& m) {
    return run_each({"DELETE FROM sip_credentials WHERE credential_list_sid = ?1"
                     " AND account_sid = ?2",
                     "DELETE FROM sip_domain_mappings WHERE credential_list_sid = ?1"
                     " AND account_sid = ?2",
                     "DELETE FROM sip_credential_lists WHERE sid = ?1 AND account_sid = ?2"},
                    {m.sid, m.account_sid});
  }

  Status operator()(const SaveCredential& m) {
    const SipCredential& c = m.credential;
    auto p = conn.prepare(
        m.create ? "INSERT INTO sip_credentials (id, sid, account_sid, credential_list_sid,"
                   " username, realm, ha1_md5, ha1_sha256, date_created, date_updated)"
                   " VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                 : "UPDATE sip_credentials SET realm = ?5, ha1_md5 = ?6, ha1_sha256 = ?7,"
                   " date_updated = ?9 WHERE sid = ?1 AND account_sid = ?2"
                   " AND credential_list_sid = ?3");
    if (!p) return p.error();
    Statement s(*p);
    s.bind(1, c.sid).bind(2, c.account_sid).bind(3, c.credential_list_sid).bind(4, c.username);
    s.bind(5, c.realm).bind(6, c.ha1_md5).bind(7, c.ha1_sha256);
    s.bind(8, c.date_created).bind(9, c.date_updated);
    return run_write(conn, s, !m.create);
  }

  Status operator()(const DeleteCredential& m) {
    return run_each({"DELETE FROM sip_credentials WHERE sid = ?1 AND account_sid = ?2"
                     " AND credential_list_sid = ?3"},
                    {m.sid, m.account_sid, m.credential_list_sid});
  }

  Status operator()(const SaveSipDomain& m) {
    const SipDomain& d = m.domain;
    auto p = conn.prepare(
        m.create ? "INSERT INTO sip_domains (" SB_DOMAIN_COLUMNS
                   ") VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                 : "UPDATE sip_domains SET domain_name = ?3, friendly_name = ?4, voice_url = ?5,"
                   " voice_method = ?6, voice_fallback_url = ?7, voice_fallback_method = ?8,"
                   " voice_status_callback_url = ?9, voice_status_callback_method = ?10,"
                   " sip_registration = ?11, date_updated = ?13, srtp = ?14"
                   " WHERE sid = ?1 AND account_sid = ?2");
    if (!p) return p.error();
    Statement s(*p);
    s.bind(1, d.sid).bind(2, d.account_sid).bind(3, d.domain_name).bind(4, d.friendly_name);
    s.bind(5, d.voice_url).bind(6, d.voice_method).bind(7, d.voice_fallback_url);
    s.bind(8, d.voice_fallback_method).bind(9, d.voice_status_callback_url);
    s.bind(10, d.voice_status_callback_method).bind(11, std::int64_t{d.sip_registration});
    s.bind(12, d.date_created).bind(13, d.date_updated).bind(14, d.srtp);
    return run_write(conn, s, !m.create);
  }

  Status operator()(const DeleteSipDomain& m) {
    return run_each({"DELETE FROM sip_domain_mappings WHERE domain_sid = ?1 AND account_sid = ?2",
                     "DELETE FROM sip_domains WHERE sid = ?1 AND account_sid = ?2"},
                    {m.sid, m.account_sid});
  }

  Status operator()(const InsertDomainMapping& m) {
    const DomainMapping& d = m.mapping;
    auto p = conn.prepare(
        "INSERT INTO sip_domain_mappings (id, account_sid, domain_sid, credential_list_sid, kind,"
        " date_created, date_updated) VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6)");
    if (!p) return p.error();
    Statement s(*p);
    s.bind(1, d.account_sid).bind(2, d.domain_sid).bind(3, d.credential_list_sid);
    s.bind(4, kind_name(d.kind)).bind(5, d.date_created).bind(6, d.date_updated);
    return run_write(conn, s, false);
  }

  Status operator()(const DeleteDomainMapping& m) {
    return run_each({"DELETE FROM sip_domain_mappings WHERE domain_sid = ?1 AND account_sid = ?2"
                     " AND credential_list_sid = ?3 AND kind = ?4"},
                    {m.domain_sid, m.account_sid, m.credential_list_sid, kind_name(m.kind)});
  }

  Status operator()(const InsertCallerId& m) {
    auto p = conn.prepare("INSERT INTO outgoing_caller_ids (" SB_CALLER_ID_COLUMNS
                          ") VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6)");
    if (!p) return p.error();
    Statement s(*p);
    const CallerId& c = m.caller_id;
    s.bind(1, c.sid).bind(2, c.account_sid).bind(3, c.phone_number).bind(4, c.friendly_name);
    s.bind(5, c.date_created).bind(6, c.date_updated);
    return run_write(conn, s, false);
  }

  Status operator()(const UpdateCallerId& m) {
    auto p = conn.prepare(
        "UPDATE outgoing_caller_ids SET friendly_name = ?3, date_updated = ?4"
        " WHERE sid = ?1 AND account_sid = ?2");
    if (!p) return p.error();
    Statement s(*p);
    const CallerId& c = m.caller_id;
    s.bind(1, c.sid).bind(2, c.account_sid).bind(3, c.friendly_name).bind(4, c.date_updated);
    return run_write(conn, s, true);
  }

  Status operator()(const DeleteCallerId& m) {
    auto p = conn.prepare("DELETE FROM outgoing_caller_ids WHERE sid = ?1 AND account_sid = ?2");
    if (!p) return p.error();
    Statement s(*p);
    s.bind(1, m.sid).bind(2, m.account_sid);
    return run_write(conn, s, true);
  }

  Status operator()(const InsertNumber& m) {
    auto p = conn.prepare(
        "INSERT INTO incoming_phone_numbers (sid, account_sid, phone_number,"
        " friendly_name, voice_application_sid, sms_application_sid,"
        " date_created, date_updated, " SB_HOOK_COLUMNS
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
        " ?14, ?15, ?16, ?17, ?18)");
    if (!p) return p.error();
    Statement s(*p);
    const IncomingNumber& n = m.number;
    s.bind(1, n.sid).bind(2, n.account_sid).bind(3, n.phone_number).bind(4, n.friendly_name);
    s.bind(5, n.voice_application_sid).bind(6, n.sms_application_sid);
    s.bind(7, n.date_created).bind(8, n.date_updated);
    bind_hooks(s, 9, n.hooks);
    return run_write(conn, s, false);
  }

  Status operator()(const UpdateNumber& m) {
    auto p = conn.prepare(
        "UPDATE incoming_phone_numbers SET friendly_name = ?3, voice_application_sid = ?4,"
        " sms_application_sid = ?5, date_updated = ?6, voice_url = ?7, voice_method = ?8,"
        " voice_fallback_url = ?9, voice_fallback_method = ?10, status_callback = ?11,"
        " status_callback_method = ?12, sms_url = ?13, sms_method = ?14,"
        " sms_fallback_url = ?15, sms_fallback_method = ?16"
        " WHERE sid = ?1 AND account_sid = ?2");
    if (!p) return p.error();
    Statement s(*p);
    const IncomingNumber& n = m.number;
    s.bind(1, n.sid).bind(2, n.account_sid).bind(3, n.friendly_name);
    s.bind(4, n.voice_application_sid).bind(5, n.sms_application_sid).bind(6, n.date_updated);
    bind_hooks(s, 7, n.hooks);
    return run_write(conn, s, true);
  }

  Status operator()(const DeleteNumber& m) {
    auto p = conn.prepare("DELETE FROM incoming_phone_numbers WHERE sid = ?1 AND account_sid = ?2");
    if (!p) return p.error();
    Statement s(*p);
    s.bind(1, m.sid).bind(2, m.account_sid);
    return run_write(conn, s, true);
  }

  Status operator()(const InsertApplication& m) {
    auto p = conn.prepare(
        "INSERT INTO applications (sid, account_sid, friendly_name,"
        " sms_status_callback, date_created, date_updated, " SB_HOOK_COLUMNS
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
        " ?14, ?15, ?16)");
    if (!p) return p.error();
    Statement s(*p);
    const Application& a = m.application;
    s.bind(1, a.sid).bind(2, a.account_sid).bind(3, a.friendly_name);
    s.bind(4, a.sms_status_callback).bind(5, a.date_created).bind(6, a.date_updated);
    bind_hooks(s, 7, a.hooks);
    return run_write(conn, s, false);
  }

  Status operator()(const UpdateApplication& m) {
    auto p = conn.prepare(
        "UPDATE applications SET friendly_name = ?3, sms_status_callback = ?4,"
        " date_updated = ?5, voice_url = ?6, voice_method = ?7, voice_fallback_url = ?8,"
        " voice_fallback_method = ?9, status_callback = ?10, status_callback_method = ?11,"
        " sms_url = ?12, sms_method = ?13, sms_fallback_url = ?14, sms_fallback_method = ?15"
        " WHERE sid = ?1 AND account_sid = ?2");
    if (!p) return p.error();
    Statement s(*p);
    const Application& a = m.application;
    s.bind(1, a.sid).bind(2, a.account_sid).bind(3, a.friendly_name);
    s.bind(4, a.sms_status_callback).bind(5, a.date_updated);
    bind_hooks(s, 6, a.hooks);
    return run_write(conn, s, true);
  }

  Status operator()(const InsertNotification& m) {
    auto p = conn.prepare("INSERT INTO notifications (" SB_NOTIFICATION_COLUMNS
                          ") VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    if (!p) return p.error();
    Statement s(*p);
    const Notification& n = m.notification;
    s.bind(1, n.sid).bind(2, n.account_sid).bind(3, n.call_sid).bind(4, std::int64_t{n.log});
    s.bind(5, std::int64_t{n.error_code}).bind(6, n.message_text).bind(7, n.request_method);
    s.bind(8, n.request_url).bind(9, n.request_variables).bind(10, n.response_body);
    s.bind(11, n.response_headers).bind(12, n.date_created);
    return run_write(conn, s, false);
  }

  Status operator()(const InsertCallEvent& m) {
    auto p = conn.prepare("INSERT INTO call_events (" SB_CALL_EVENT_COLUMNS
                          ") VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
                          " ?14)");
    if (!p) return p.error();
    Statement s(*p);
    const CallEvent& e = m.event;
    s.bind(1, e.account_sid).bind(2, e.call_sid).bind(3, e.type).bind(4, e.request_method);
    s.bind(5, e.request_url).bind(6, e.request_variables).bind(7, std::int64_t{e.response_code});
    s.bind(8, e.content_type).bind(9, e.response_headers).bind(10, e.response_body);
    s.bind(11, std::int64_t{e.duration_ms}).bind(12, std::int64_t{e.error_code});
    s.bind(13, e.error_message).bind(14, e.date_created_ms);
    return run_write(conn, s, false);
  }

  Status operator()(const InsertCall& m) {
    auto p = conn.prepare("INSERT INTO calls (" SB_CALL_COLUMNS
                          ") VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
                          " ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)");
    if (!p) return p.error();
    Statement s(*p);
    const Call& c = m.call;
    s.bind(1, c.sid).bind(2, c.account_sid).bind(3, c.parent_call_sid).bind(4, c.phone_number_sid);
    s.bind(5, c.to).bind(6, c.from).bind(7, c.status).bind(8, c.direction).bind(9, c.answered_by);
    s.bind(10, c.forwarded_from).bind(11, c.caller_name).bind(12, c.start_time);
    s.bind(13, c.end_time).bind(14, c.duration).bind(15, c.date_created).bind(16, c.date_updated);
    s.bind(17, c.queue_time_ms).bind(18, c.media.packets_received).bind(19, c.media.packets_sent);
    s.bind(20, c.media.bytes_received).bind(21, c.media.bytes_sent);
    s.bind(22, c.media.packets_lost).bind(23, c.media.packets_late).bind(24, c.sip_summary);
    return run_write(conn, s, false);
  }

  Status operator()(const UpdateCall& m) {
    auto p = conn.prepare(
        "UPDATE calls SET status = ?3, answered_by = ?4, start_time = ?5, end_time = ?6,"
        " duration = ?7, date_updated = ?8, queue_time = ?9, rtp_packets_received = ?10,"
        " rtp_packets_sent = ?11, rtp_bytes_received = ?12, rtp_bytes_sent = ?13,"
        " rtp_packets_lost = ?14, rtp_packets_late = ?15, sip_summary = ?16"
        " WHERE sid = ?1 AND account_sid = ?2");
    if (!p) return p.error();
    Statement s(*p);
    const Call& c = m.call;
    s.bind(1, c.sid).bind(2, c.account_sid).bind(3, c.status).bind(4, c.answered_by);
    s.bind(5, c.start_time).bind(6, c.end_time).bind(7, c.duration).bind(8, c.date_updated);
    s.bind(9, c.queue_time_ms).bind(10, c.media.packets_received).bind(11, c.media.packets_sent);
    s.bind(12, c.media.bytes_received).bind(13, c.media.bytes_sent);
    s.bind(14, c.media.packets_lost).bind(15, c.media.packets_late).bind(16, c.sip_summary);
    return run_write(conn, s, true);
  }

  Status operator()(const CloseInterruptedCalls& m) {
    auto p = conn.prepare(
        "UPDATE calls SET"
        " status = CASE status WHEN 'queued' THEN 'canceled' WHEN 'in-progress' THEN 'completed'"
        "   ELSE 'failed' END,"
        " duration = CASE WHEN status = 'in-progress' AND start_time > 0"
        "   THEN MAX(0, ?1 - start_time) ELSE 0 END,"
        " end_time = ?1, date_updated = ?1"
        " WHERE status IN ('queued', 'initiated', 'ringing', 'in-progress')");
    if (!p) return p.error();
    Statement s(*p);
    s.bind(1, m.now);
    return run_write(conn, s, false);
  }

  Status operator()(const InsertRecording& m) {
    auto p =
        conn.prepare("INSERT INTO recordings (" SB_RECORDING_COLUMNS
                     ") VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
    if (!p) return p.error();
    Statement s(*p);
    const Recording& r = m.recording;
    s.bind(1, r.sid).bind(2, r.account_sid).bind(3, r.call_sid).bind(4, r.status);
    s.bind(5, r.source).bind(6, std::int64_t{r.channels}).bind(7, r.duration);
    s.bind(8, r.start_time).bind(9, r.media_path).bind(10, std::int64_t{r.error_code});
    s.bind(11, r.date_created).bind(12, r.date_updated).bind(13, r.conference_sid);
    return run_write(conn, s, false);
  }

  Status operator()(const UpdateRecording& m) {
    auto p = conn.prepare(
        "UPDATE recordings SET status = ?3, channels = ?4, duration = ?5, start_time = ?6,"
        " media_path = ?7, error_code = ?8, date_updated = ?9, conference_sid = ?10"
        " WHERE sid = ?1 AND account_sid = ?2");
    if (!p) return p.error();
    Statement s(*p);
    const Recording& r = m.recording;
    s.bind(1, r.sid).bind(2, r.account_sid).bind(3, r.status).bind(4, std::int64_t{r.channels});
    s.bind(5, r.duration).bind(6, r.start_time).bind(7, r.media_path);
    s.bind(8, std::int64_t{r.error_code}).bind(9, r.date_updated).bind(10, r.conference_sid);
    return run_write(conn, s, true);
  }

  Status operator()(const InsertConference& m) {
    auto p = conn.prepare("INSERT INTO conferences (" SB_CONFERENCE_COLUMNS
                          ") VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    if (!p) return p.error();
    Statement s(*p);
    const Conference& c = m.conference;
    s.bind(1, c.sid).bind(2, c.account_sid).bind(3, c.friendly_name).bind(4, c.status);
    s.bind(5, c.region).bind(6, c.reason_conference_ended).bind(7, c.call_sid_ending_conference);
    s.bind(8, c.date_created).bind(9, c.date_updated);
    return run_write(conn, s, false);
  }

  Status operator()(const UpdateConference& m) {
    auto p = conn.prepare(
        "UPDATE conferences SET status = ?3, region = ?4, reason_conference_ended = ?5,"
        " call_sid_ending_conference = ?6, date_updated = ?7 WHERE sid = ?1 AND account_sid = ?2");
    if (!p) return p.error();
    Statement s(*p);
    const Conference& c = m.conference;
    s.bind(1, c.sid).bind(2, c.account_sid).bind(3, c.status).bind(4, c.region);
    s.bind(5, c.reason_conference_ended).bind(6, c.call_sid_ending_conference);
    s.bind(7, c.date_updated);
    return run_write(conn, s, true);
  }

  // The condition matches conferences_open's, so that only the open rows are visited.
  Status operator()(const CloseInterruptedConferences& m) {
    auto p = conn.prepare(
        "UPDATE conferences SET status = 'completed',"
        " reason_conference_ended = 'last-participant-left', date_updated = ?1"
        " WHERE status <> 'completed'");
    if (!p) return p.error();
    Statement s(*p);
    s.bind(1, m.now);
    return run_write(conn, s, false);
  }

  Status operator()(const InsertQueue& m) {
    auto p = conn.prepare("INSERT INTO queues (" SB_QUEUE_COLUMNS
                          ") VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6)");
    if (!p) return p.error();
    Statement s(*p);
    const Queue& q = m.queue;
    s.bind(1, q.sid).bind(2, q.account_sid).bind(3, q.friendly_name);
    s.bind(4, std::int64_t{q.max_size}).bind(5, q.date_created).bind(6, q.date_updated);
    return run_write(conn, s, false);
  }

  Status operator()(const UpdateQueue& m) {
    auto p = conn.prepare(
        "UPDATE queues SET friendly_name = ?3, max_size = ?4, date_updated = ?5"
        " WHERE sid = ?1 AND account_sid = ?2");
    if (!p) return p.error();
    Statement s(*p);
    const Queue& q = m.queue;
    s.bind(1, q.sid).bind(2, q.account_sid).bind(3, q.friendly_name);
    s.bind(4, std::int64_t{q.max_size}).bind(5, q.date_updated);
    return run_write(conn, s, true);
  }

  Status operator()(const DeleteQueue& m) {
    return run_each({"DELETE FROM queues WHERE sid = ?1 AND account_sid = ?2"},
                    {m.sid, m.account_sid});
  }

  Status operator()(const DeleteRecording& m) {
    auto p = conn.prepare("DELETE FROM recordings WHERE sid = ?1 AND account_sid = ?2");
    if (!p) return p.error();
    Statement s(*p);
    s.bind(1, m.sid).bind(2, m.account_sid);
    return run_write(conn, s, true);
  }

  Status operator()(const InsertMessage& m) {
    const Message& msg = m.message;
    {
      auto p = conn.prepare("INSERT INTO messages (" SB_MESSAGE_COLUMNS
                            ") VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
                            " ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)");
      if (!p) return p.error();
      Statement s(*p);
      s.bind(1, msg.sid).bind(2, msg.account_sid).bind(3, msg.messaging_service_sid);
      s.bind(4, msg.from).bind(5, msg.to).bind(6, msg.body).bind(7, msg.status);
      s.bind(8, msg.direction).bind(9, std::int64_t{msg.num_segments});
      s.bind(10, std::int64_t{msg.num_media}).bind(11, std::int64_t{msg.error_code});
      s.bind(12, msg.error_message).bind(13, msg.status_callback);
      s.bind(14, msg.status_callback_method).bind(15, msg.application_sid);
      s.bind(16, encode_media_urls(msg.media_urls)).bind(17, std::int64_t{msg.validity_period});
      s.bind(18, msg.send_at).bind(19, msg.date_created).bind(20, msg.date_updated);
      s.bind(21, msg.date_sent);
      if (auto st = run_write(conn, s, false); !st) return st;
    }
    for (const MessageMedia& media : m.media) {
      auto p = conn.prepare(
          "INSERT INTO message_media (id, sid, account_sid, message_sid, content_type, data,"
          " date_created, date_updated) VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7)");
      if (!p) return p.error();
      Statement s(*p);
      s.bind(1, media.sid).bind(2, msg.account_sid).bind(3, msg.sid).bind(4, media.content_type);
      s.bind_blob(5, media.data).bind(6, media.date_created).bind(7, media.date_updated);
      if (auto st = run_write(conn, s, false); !st) return st;
    }
    return Ok{};
  }

  Status operator()(const UpdateMessage& m) {
    auto p = conn.prepare(
        "UPDATE messages SET body = ?3, status = ?4, error_code = ?5, error_message = ?6,"
        " num_segments = ?7, num_media = ?8, date_sent = ?9, date_updated = ?10, send_at = ?11"
        " WHERE sid = ?1 AND account_sid = ?2");
    if (!p) return p.error();
    Statement s(*p);
    const Message& msg = m.message;
    s.bind(1, msg.sid).bind(2, msg.account_sid).bind(3, msg.body).bind(4, msg.status);
    s.bind(5, std::int64_t{msg.error_code}).bind(6, msg.error_message);
    s.bind(7, std::int64_t{msg.num_segments}).bind(8, std::int64_t{msg.num_media});
    s.bind(9, msg.date_sent).bind(10, msg.date_updated).bind(11, msg.send_at);
    return run_write(conn, s, true);
  }

  Status operator()(const DeleteMessage& m) {
    return run_each({"DELETE FROM message_media WHERE message_sid = ?1 AND account_sid = ?2",
                     "DELETE FROM messages WHERE sid = ?1 AND account_sid = ?2"},
                    {m.sid, m.account_sid});
  }

  Status operator()(const DeleteMessageMedia& m) {
    return run_each({"DELETE FROM message_media WHERE sid = ?1 AND account_sid = ?2"
                     " AND message_sid = ?3"},
                    {m.sid, m.account_sid, m.message_sid});
  }

  // Opting out again keeps the first time (date_created) and refreshes date_updated; opting in
  // when not opted out changes nothing and is no error.
  Status operator()(const SetOptOut& m) {
    auto p = conn.prepare(
        m.opted_out ? "INSERT INTO message_opt_outs (account_sid, number, address, date_created,"
                      " date_updated) VALUES (?1, ?2, ?3, ?4, ?4)"
                      " ON CONFLICT (account_sid, number, address) DO UPDATE SET date_updated = ?4"
                    : "DELETE FROM message_opt_outs WHERE account_sid = ?1 AND number = ?2"
                      " AND address = ?3");
    if (!p) return p.error();
    Statement s(*p);
    s.bind(1, m.account_sid).bind(2, m.number).bind(3, m.address);
    if (m.opted_out) s.bind(4, m.at);
    return run_write(conn, s, false);
  }

  Status operator()(const DeleteApplication& m) {
    {
      auto p = conn.prepare("DELETE FROM applications WHERE sid = ?1 AND account_sid = ?2");
      if (!p) return p.error();
      Statement s(*p);
      s.bind(1, m.sid).bind(2, m.account_sid);
      if (auto st = run_write(conn, s, true); !st) return st;
    }
    for (const char* sql : {"UPDATE incoming_phone_numbers SET voice_application_sid = '' WHERE "
                            "voice_application_sid = ?1",
                            "UPDATE incoming_phone_numbers SET sms_application_sid = '' WHERE "
                            "sms_application_sid = ?1"}) {
      auto p = conn.prepare(sql);
      if (!p) return p.error();
      Statement s(*p);
      s.bind(1, m.sid);
      if (auto st = run_write(conn, s, false); !st) return st;
    }
    return Ok{};
  }
};

}  // namespace

Status Store::write_sync(Mutation mutation) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  write(std::move(mutation), [&promise](Status s) { promise.set_value(std::move(s)); });
  return future.get();
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  return open(path, Options{});
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path, Options options) {
  auto writer = Connection::open(path, true);
  if (!writer) return writer.error();
  if (auto s = migrate((*writer)->handle()); !s) return s.error();
  return std::unique_ptr<SqliteStore>(new SqliteStore(path, options, std::move(writer.value())));
}

SqliteStore::SqliteStore(std::string path, Options options, std::unique_ptr<Connection> writer)
    : path_(std::move(path)), options_(options), writer_conn_(std::move(writer)) {
  writer_ = std::make_unique<SqliteWriter>(writer_conn_->handle(),
                                           SqliteWriter::Options{options_.max_batch, "the store"});
}

SqliteStore::~SqliteStore() { close(); }

void SqliteStore::close() { writer_->close(); }

Result<SqliteStore::ReaderLease> SqliteStore::borrow_reader() {
  {
    std::lock_guard lock(readers_mu_);
    if (!idle_readers_.empty()) {
      auto conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return ReaderLease(this, std::move(conn));
    }
  }
  auto conn = Connection::open(path_, false);
  if (!conn) return conn.error();
  return ReaderLease(this, std::move(conn.value()));
}

void SqliteStore::give_back(std::unique_ptr<Connection> conn) {
  std::lock_guard lock(readers_mu_);
  if (idle_readers_.size() < 16) idle_readers_.push_back(std::move(conn));
}

void SqliteStore::write(Mutation mutation, std::function<void(Status)> done) {
  writer_->submit(
      [conn = writer_conn_.get(), mutation = std::move(mutation)] {
        return std::visit(MutationApplier{*conn}, mutation);
      },
      std::move(done));
}

void SqliteStore::flush() { writer_->flush(); }

Result<std::optional<Account>> SqliteStore::find_account(std::string_view sid) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare(
      "SELECT id, sid, owner_sid, friendly_name, auth_token, status, type,"
      " date_created, date_updated, secondary_auth_token, secondary_created, outbound_deny_private,"
      " enforce_media_auth FROM accounts WHERE "
      "sid = ?1");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, sid);
  return one<Account>(**conn, s, read_account);
}

Result<std::optional<Account>> SqliteStore::first_main_account() {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare(
      "SELECT id, sid, owner_sid, friendly_name, auth_token, status, type,"
      " date_created, date_updated, secondary_auth_token, secondary_created, outbound_deny_private,"
      " enforce_media_auth FROM accounts WHERE "
      "owner_sid = ''"
      " ORDER BY id LIMIT 1");
  if (!p) return p.error();
  Statement s(*p);
  return one<Account>(**conn, s, read_account);
}

Result<Page<Account>> SqliteStore::list_accounts(const AccountFilter& filter,
                                                 const PageRequest& page) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare(
      "SELECT id, sid, owner_sid, friendly_name, auth_token, status, type, date_created,"
      " date_updated, secondary_auth_token, secondary_created, outbound_deny_private,"
      " enforce_media_auth FROM accounts WHERE (sid = ?1 OR "
      "owner_sid = ?1)"
      " AND (?2 = '' OR friendly_name = ?2) AND (?3 = '' OR status = ?3) AND id > ?4"
      " ORDER BY id LIMIT ?5 OFFSET ?6");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, filter.visible_to).bind(2, filter.friendly_name).bind(3, filter.status);
  bind_page(s, 4, page);
  return collect<Account>(**conn, s, page.limit, read_account);
}

Result<std::optional<ApiKey>> SqliteStore::find_api_key(std::string_view account_sid,
                                                        std::string_view sid) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_API_KEY_COLUMNS
                            " FROM api_keys WHERE sid = ?1 AND account_sid = ?2");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, sid).bind(2, account_sid);
  return one<ApiKey>(**conn, s, read_api_key);
}

Result<std::optional<ApiKey>> SqliteStore::find_api_key_by_sid(std::string_view sid) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_API_KEY_COLUMNS " FROM api_keys WHERE sid = ?1");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, sid);
  return one<ApiKey>(**conn, s, read_api_key);
}

Result<Page<ApiKey>> SqliteStore::list_api_keys(const ApiKeyFilter& filter,
                                                const PageRequest& page) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_API_KEY_COLUMNS
                            " FROM api_keys WHERE account_sid = ?1"
                            " AND id > ?2 ORDER BY id LIMIT ?3 OFFSET ?4");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, filter.account_sid);
  bind_page(s, 2, page);
  return collect<ApiKey>(**conn, s, page.limit, read_api_key);
}

Result<std::optional<IncomingNumber>> SqliteStore::find_number(std::string_view account_sid,
                                                               std::string_view sid) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_NUMBER_COLUMNS
                            " FROM incoming_phone_numbers WHERE sid = ?1 AND account_sid = ?2");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, sid).bind(2, account_sid);
  return one<IncomingNumber>(**conn, s, read_number);
}

Result<std::optional<IncomingNumber>> SqliteStore::find_number_by_phone(
    std::string_view phone_number) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_NUMBER_COLUMNS
                            " FROM incoming_phone_numbers WHERE phone_number = ?1");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, phone_number);
  return one<IncomingNumber>(**conn, s, read_number);
}

Result<Page<IncomingNumber>> SqliteStore::list_numbers(const NumberFilter& filter,
                                                       const PageRequest& page) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare(
      "SELECT " SB_NUMBER_COLUMNS
      " FROM incoming_phone_numbers WHERE account_sid = ?1"
      " AND (?2 = '' OR phone_number LIKE ?2 ESCAPE '\\') AND (?3 = '' OR friendly_name = ?3)"
      " AND id > ?4 ORDER BY id LIMIT ?5 OFFSET ?6");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, filter.account_sid);
  s.bind(2, filter.phone_number.empty() ? std::string() : like_pattern(filter.phone_number));
  s.bind(3, filter.friendly_name);
  bind_page(s, 4, page);
  return collect<IncomingNumber>(**conn, s, page.limit, read_number);
}

Result<std::optional<SipTrunk>> SqliteStore::find_trunk(std::string_view account_sid,
                                                        std::string_view sid) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_TRUNK_COLUMNS
                            " FROM sip_trunks WHERE sid = ?1 AND account_sid = ?2");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, sid).bind(2, account_sid);
  return one<SipTrunk>(**conn, s, read_trunk);
}

Result<Page<SipTrunk>> SqliteStore::list_trunks(const TrunkFilter& filter,
                                                const PageRequest& page) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_TRUNK_COLUMNS
                            " FROM sip_trunks WHERE (?1 = '' OR account_sid = ?1)"
                            " AND id > ?2 ORDER BY id LIMIT ?3 OFFSET ?4");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, filter.account_sid);
  bind_page(s, 2, page);
  return collect<SipTrunk>(**conn, s, page.limit, read_trunk);
}

Result<std::optional<CredentialList>> SqliteStore::find_credential_list(
    std::string_view account_sid, std::string_view sid) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_CREDENTIAL_LIST_COLUMNS
                            " FROM sip_credential_lists WHERE sid = ?1 AND account_sid = ?2");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, sid).bind(2, account_sid);
  return one<CredentialList>(**conn, s, read_credential_list);
}

Result<Page<CredentialList>> SqliteStore::list_credential_lists(const SipFilter& filter,
                                                                const PageRequest& page) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_CREDENTIAL_LIST_COLUMNS
                            " FROM sip_credential_lists WHERE account_sid = ?1"
                            " AND id > ?2 ORDER BY id LIMIT ?3 OFFSET ?4");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, filter.account_sid);
  bind_page(s, 2, page);
  return collect<CredentialList>(**conn, s, page.limit, read_credential_list);
}

Result<std::optional<SipCredential>> SqliteStore::find_credential(std::string_view account_sid,
                                                                  std::string_view list_sid,
                                                                  std::string_view sid) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_CREDENTIAL_COLUMNS
                            " FROM sip_credentials c WHERE c.sid = ?1 AND c.account_sid = ?2"
                            " AND c.credential_list_sid = ?3");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, sid).bind(2, account_sid).bind(3, list_sid);
  return one<SipCredential>(**conn, s, read_credential);
}

Result<Page<SipCredential>> SqliteStore::list_credentials(const SipFilter& filter,
                                                          const PageRequest& page) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_CREDENTIAL_COLUMNS
                            " FROM sip_credentials c WHERE c.account_sid = ?1"
                            " AND c.credential_list_sid = ?2"
                            " AND c.id > ?3 ORDER BY c.id LIMIT ?4 OFFSET ?5");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, filter.account_sid).bind(2, filter.parent_sid);
  bind_page(s, 3, page);
  return collect<SipCredential>(**conn, s, page.limit, read_credential);
}

Result<std::optional<SipDomain>> SqliteStore::find_sip_domain(std::string_view account_sid,
                                                              std::string_view sid) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_DOMAIN_COLUMNS
                            " FROM sip_domains WHERE sid = ?1 AND account_sid = ?2");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, sid).bind(2, account_sid);
  return one<SipDomain>(**conn, s, read_domain);
}

Result<std::optional<SipDomain>> SqliteStore::find_sip_domain_by_name(
    std::string_view domain_name) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_DOMAIN_COLUMNS " FROM sip_domains WHERE domain_name = ?1");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, domain_name);
  return one<SipDomain>(**conn, s, read_domain);
}

Result<Page<SipDomain>> SqliteStore::list_sip_domains(const SipFilter& filter,
                                                      const PageRequest& page) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_DOMAIN_COLUMNS
                            " FROM sip_domains WHERE (?1 = '' OR account_sid = ?1)"
                            " AND id > ?2 ORDER BY id LIMIT ?3 OFFSET ?4");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, filter.account_sid);
  bind_page(s, 2, page);
  return collect<SipDomain>(**conn, s, page.limit, read_domain);
}

Result<Page<DomainMapping>> SqliteStore::list_domain_mappings(const SipFilter& filter,
                                                              const PageRequest& page) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare(
      "SELECT m.id, m.account_sid, m.domain_sid, m.credential_list_sid, m.kind,"
      " l.friendly_name, m.date_created, m.date_updated FROM sip_domain_mappings m"
      " JOIN sip_credential_lists l ON l.sid = m.credential_list_sid"
      " WHERE m.account_sid = ?1 AND m.domain_sid = ?2 AND m.kind = ?3"
      " AND m.id > ?4 ORDER BY m.id LIMIT ?5 OFFSET ?6");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, filter.account_sid).bind(2, filter.parent_sid).bind(3, kind_name(filter.kind));
  bind_page(s, 4, page);
  return collect<DomainMapping>(**conn, s, page.limit, read_mapping);
}

Result<std::optional<SipCredential>> SqliteStore::find_domain_user(std::string_view domain_sid,
                                                                   MappingKind kind,
                                                                   std::string_view username) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_CREDENTIAL_COLUMNS
                            " FROM sip_domain_mappings m JOIN sip_credentials c"
                            " ON c.credential_list_sid = m.credential_list_sid"
                            " WHERE m.domain_sid = ?1 AND m.kind = ?2 AND c.username = ?3"
                            " ORDER BY m.id LIMIT 1");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, domain_sid).bind(2, kind_name(kind)).bind(3, username);
  return one<SipCredential>(**conn, s, read_credential);
}

Result<std::optional<CallerId>> SqliteStore::find_caller_id(std::string_view account_sid,
                                                            std::string_view sid) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_CALLER_ID_COLUMNS
                            " FROM outgoing_caller_ids WHERE sid = ?1 AND account_sid = ?2");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, sid).bind(2, account_sid);
  return one<CallerId>(**conn, s, read_caller_id);
}

Result<std::optional<CallerId>> SqliteStore::find_caller_id_by_phone(
    std::string_view account_sid, std::string_view phone_number) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p =
      (*conn)->prepare("SELECT " SB_CALLER_ID_COLUMNS
                       " FROM outgoing_caller_ids WHERE account_sid = ?1 AND phone_number = ?2");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, account_sid).bind(2, phone_number);
  return one<CallerId>(**conn, s, read_caller_id);
}

Result<Page<CallerId>> SqliteStore::list_caller_ids(const CallerIdFilter& filter,
                                                    const PageRequest& page) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p =
      (*conn)->prepare("SELECT " SB_CALLER_ID_COLUMNS
                       " FROM outgoing_caller_ids WHERE account_sid = ?1"
                       " AND (?2 = '' OR phone_number = ?2) AND (?3 = '' OR friendly_name = ?3)"
                       " AND id > ?4 ORDER BY id LIMIT ?5 OFFSET ?6");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, filter.account_sid).bind(2, filter.phone_number).bind(3, filter.friendly_name);
  bind_page(s, 4, page);
  return collect<CallerId>(**conn, s, page.limit, read_caller_id);
}

Result<std::optional<Application>> SqliteStore::find_application(std::string_view account_sid,
                                                                 std::string_view sid) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_APPLICATION_COLUMNS
                            " FROM applications WHERE sid = ?1 AND account_sid = ?2");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, sid).bind(2, account_sid);
  return one<Application>(**conn, s, read_application);
}

Result<Page<Application>> SqliteStore::list_applications(const ApplicationFilter& filter,
                                                         const PageRequest& page) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_APPLICATION_COLUMNS
                            " FROM applications WHERE account_sid = ?1"
                            " AND (?2 = '' OR friendly_name = ?2)"
                            " AND id > ?3 ORDER BY id LIMIT ?4 OFFSET ?5");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, filter.account_sid).bind(2, filter.friendly_name);
  bind_page(s, 3, page);
  return collect<Application>(**conn, s, page.limit, read_application);
}

Result<std::optional<Notification>> SqliteStore::find_notification(std::string_view account_sid,
                                                                   std::string_view sid) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_NOTIFICATION_COLUMNS
                            " FROM notifications WHERE sid = ?1 AND account_sid = ?2");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, sid).bind(2, account_sid);
  return one<Notification>(**conn, s, read_notification);
}

Result<Page<Notification>> SqliteStore::list_notifications(const NotificationFilter& filter,
                                                           const PageRequest& page) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  // Newest first, as Twilio lists the debugger log; keyset paging runs downward.
  auto p = (*conn)->prepare("SELECT " SB_NOTIFICATION_COLUMNS
                            " FROM notifications WHERE account_sid = ?1"
                            " AND (?2 = '' OR call_sid = ?2) AND (?3 < 0 OR log = ?3)"
                            " AND id < ?4 ORDER BY id DESC LIMIT ?5 OFFSET ?6");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, filter.account_sid).bind(2, filter.call_sid).bind(3, std::int64_t{filter.log});
  bind_page_desc(s, 4, page);
  return collect<Notification>(**conn, s, page.limit, read_notification);
}

Result<Page<CallEvent>> SqliteStore::list_call_events(std::string_view account_sid,
                                                      std::string_view call_sid,
                                                      const PageRequest& page) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_CALL_EVENT_COLUMNS
                            " FROM call_events WHERE call_sid = ?1 AND account_sid = ?2"
                            " AND id > ?3 ORDER BY id LIMIT ?4 OFFSET ?5");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, call_sid).bind(2, account_sid);
  bind_page(s, 3, page);
  return collect<CallEvent>(**conn, s, page.limit, read_call_event);
}

Result<std::optional<Call>> SqliteStore::find_call(std::string_view account_sid,
                                                   std::string_view sid) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p =
      (*conn)->prepare("SELECT " SB_CALL_COLUMNS " FROM calls WHERE sid = ?1 AND account_sid = ?2");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, sid).bind(2, account_sid);
  return one<Call>(**conn, s, read_call);
}

namespace {
// Whether the call log is listed in start-time order: when it is filtered by start time. The
// id order would walk every call newer than the range before its first row (a day a week ago
// sat behind 300,000 newer calls); calls_start (account_sid, start_time, id) seeks to the
// range's end and walks back. Its pages' tokens are (start_time, id).
bool time_ordered(const CallFilter& filter) {
  return filter.started_after != 0 || filter.started_before != 0;
}

// The call log's query for the filters `filter` sets. A filter left out is not in the SQL at all
// (not "?2 = '' OR …"), so SQLite can walk the index of the one given (calls_to, calls_from,
// calls_status: (account_sid, column, id)) instead of every call of the account: a rare
// number's calls page as fast as the newest of all. Sixteen variants (To, From, Status, and the
// time order), made once (the connection caches prepared statements by their text's address).
const char* calls_query(const CallFilter& filter) {
  static const std::array<std::string, 16> kQueries = [] {
    std::array<std::string, 16> out;
    for (unsigned v = 0; v < out.size(); ++v) {
      std::string q = "SELECT " SB_CALL_COLUMNS " FROM calls WHERE account_sid = ?1";
      if ((v & 1u) != 0) q += " AND to_number = ?2";
      if ((v & 2u) != 0) q += " AND from_number = ?3";
      if ((v & 4u) != 0) q += " AND status = ?4";
      q += " AND (?5 = '' OR parent_call_sid = ?5)";
      if ((v & 8u) != 0) {
        // ?7 is the inclusive upper bound: the range's end or the previous page's last time,
        // whichever is lower, so that the index walk starts there; (?11, ?8) breaks the tie
        // within that second (a row-value comparison would not bound the walk).
        q += " AND start_time >= ?6 AND start_time <= ?7 AND (start_time < ?11 OR id < ?8)"
             " ORDER BY start_time DESC, id DESC LIMIT ?9 OFFSET ?10";
      } else {
        q += " AND id < ?8 ORDER BY id DESC LIMIT ?9 OFFSET ?10";
      }
      out[v] = std::move(q);
    }
    return out;
  }();
  const unsigned v = (filter.to.empty() ? 0u : 1u) | (filter.from.empty() ? 0u : 2u) |
                     (filter.status.empty() ? 0u : 4u) | (time_ordered(filter) ? 8u : 0u);
  return kQueries[v].c_str();
}
}  // namespace

Result<Page<Call>> SqliteStore::list_calls(const CallFilter& filter, const PageRequest& page) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare(calls_query(filter));
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, filter.account_sid).bind(2, filter.to).bind(3, filter.from).bind(4, filter.status);
  s.bind(5, filter.parent_call_sid);
  bind_page_desc(s, 8, page);
  if (time_ordered(filter)) {
    // The previous page's last call: (its start time, its id); the first page starts above all.
    const std::int64_t after_time =
        page.after_id > 0 && page.after_time >= 0 ? page.after_time : kNoUpperBound;
    const std::int64_t range_end =
        filter.started_before != 0 ? filter.started_before - 1 : kNoUpperBound;
    s.bind(6, filter.started_after).bind(7, std::min(range_end, after_time)).bind(11, after_time);
  }
  return collect<Call>(**conn, s, page.limit, read_call);
}

Result<std::optional<Recording>> SqliteStore::find_recording(std::string_view account_sid,
                                                             std::string_view sid) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_RECORDING_COLUMNS
                            " FROM recordings WHERE sid = ?1 AND account_sid = ?2");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, sid).bind(2, account_sid);
  return one<Recording>(**conn, s, read_recording);
}

// A conference's recordings are listed through recordings_conference: the ConferenceSid filter
// is a plain term in its statement, which `(?8 = '' OR conference_sid = ?8)` would hide from the
// planner (see SB_MESSAGE_LIST).
#define SB_RECORDING_LIST(CONFERENCE)                                                      \
  "SELECT " SB_RECORDING_COLUMNS " FROM recordings WHERE account_sid = ?1 AND " CONFERENCE \
  " AND (?2 = '' OR call_sid = ?2) AND date_created >= ?3 AND date_created <= ?4"          \
  " AND id < ?5 ORDER BY id DESC LIMIT ?6 OFFSET ?7"

Result<Page<Recording>> SqliteStore::list_recordings(const RecordingFilter& filter,
                                                     const PageRequest& page) {
  const DateBounds created =
      date_bounds(filter.created_before, filter.created_after, filter.created_on_day_start);
  const char* sql = filter.conference_sid.empty() ? SB_RECORDING_LIST("?8 = ''")
                                                  : SB_RECORDING_LIST("conference_sid = ?8");
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  // Newest first, as Twilio lists recordings; keyset paging runs downward.
  auto p = (*conn)->prepare(sql);
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, filter.account_sid).bind(2, filter.call_sid);
  s.bind(3, created.lowest).bind(4, created.highest);
  bind_page_desc(s, 5, page);
  s.bind(8, filter.conference_sid);
  return collect<Recording>(**conn, s, page.limit, read_recording);
}

#undef SB_RECORDING_LIST

Result<std::optional<Conference>> SqliteStore::find_conference(std::string_view account_sid,
                                                               std::string_view sid) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_CONFERENCE_COLUMNS
                            " FROM conferences WHERE sid = ?1 AND account_sid = ?2");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, sid).bind(2, account_sid);
  return one<Conference>(**conn, s, read_conference);
}

// One statement per combination of the FriendlyName and Status filters, as SB_MESSAGE_LIST. With
// a name, conferences_name finds the few rows of that name (named explicitly: with no ANALYZE
// statistics the planner would rather walk the account's every conference in date order to skip
// a sort); without one, conferences_account yields the rows in order. Newest first by
// date_created, then id; the keyset cursor is the last row's id, and the page resumes below that
// row's (date_created, id).
#define SB_CONFERENCE_LIST(TABLE, NAME, STATUS)                                      \
  "SELECT " SB_CONFERENCE_COLUMNS " FROM " TABLE " WHERE account_sid = ?1 AND " NAME \
  " AND " STATUS                                                                     \
  " AND date_created BETWEEN ?4 AND ?5 AND date_updated BETWEEN ?6 AND ?7"           \
  " AND (?8 = 0 OR (date_created, id) <"                                             \
  " (SELECT date_created, id FROM conferences WHERE id = ?8))"                       \
  " ORDER BY date_created DESC, id DESC LIMIT ?9 OFFSET ?10"
#define SB_BY_NAME "conferences INDEXED BY conferences_name"

Result<Page<Conference>> SqliteStore::list_conferences(const ConferenceFilter& filter,
                                                       const PageRequest& page) {
  const DateBounds created =
      date_bounds(filter.created_before, filter.created_after, filter.created_on_day_start);
  const DateBounds updated =
      date_bounds(filter.updated_before, filter.updated_after, filter.updated_on_day_start);
  const bool name = !filter.friendly_name.empty(), status = !filter.status.empty();
  const char* sql = name && status
                        ? SB_CONFERENCE_LIST(SB_BY_NAME, "friendly_name = ?2", "status = ?3")
                    : name   ? SB_CONFERENCE_LIST(SB_BY_NAME, "friendly_name = ?2", "?3 = ''")
                    : status ? SB_CONFERENCE_LIST("conferences", "?2 = ''", "status = ?3")
                             : SB_CONFERENCE_LIST("conferences", "?2 = ''", "?3 = ''");
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare(sql);
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, filter.account_sid).bind(2, filter.friendly_name).bind(3, filter.status);
  s.bind(4, created.lowest).bind(5, created.highest);
  s.bind(6, updated.lowest).bind(7, updated.highest);
  bind_page(s, 8, page);
  return collect<Conference>(**conn, s, page.limit, read_conference);
}

#undef SB_BY_NAME
#undef SB_CONFERENCE_LIST

Result<std::optional<Queue>> SqliteStore::find_queue(std::string_view account_sid,
                                                     std::string_view sid) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_QUEUE_COLUMNS
                            " FROM queues WHERE sid = ?1 AND account_sid = ?2");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, sid).bind(2, account_sid);
  return one<Queue>(**conn, s, read_queue);
}

Result<std::optional<Queue>> SqliteStore::find_queue_by_name(std::string_view account_sid,
                                                             std::string_view friendly_name) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_QUEUE_COLUMNS
                            " FROM queues WHERE account_sid = ?1 AND friendly_name = ?2");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, account_sid).bind(2, friendly_name);
  return one<Queue>(**conn, s, read_queue);
}

Result<Page<Queue>> SqliteStore::list_queues(std::string_view account_sid,
                                             const PageRequest& page) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_QUEUE_COLUMNS
                            " FROM queues WHERE account_sid = ?1"
                            " AND id > ?2 ORDER BY id LIMIT ?3 OFFSET ?4");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, account_sid);
  bind_page(s, 2, page);
  return collect<Queue>(**conn, s, page.limit, read_queue);
}

Result<std::optional<Message>> SqliteStore::find_message(std::string_view account_sid,
                                                         std::string_view sid) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_MESSAGE_COLUMNS
                            " FROM messages WHERE sid = ?1 AND account_sid = ?2");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, sid).bind(2, account_sid);
  return one<Message>(**conn, s, read_message);
}

// One statement per combination of the To and From filters: an `(?2 = '' OR to_number = ?2)`
// term would hide the (account_sid, to_number, id) index from the planner. An unused filter's
// parameter is still named (`?2 = ''`), so that every variant binds the same way.
#define SB_MESSAGE_LIST(TO, FROM)                                                           \
  "SELECT " SB_MESSAGE_COLUMNS " FROM messages WHERE account_sid = ?1 AND " TO " AND " FROM \
  " AND (CASE WHEN date_sent > 0 THEN date_sent ELSE date_created END) BETWEEN ?4 AND ?5"   \
  " AND id < ?6 ORDER BY id DESC LIMIT ?7 OFFSET ?8"

Result<Page<Message>> SqliteStore::list_messages(const MessageFilter& filter,
                                                 const PageRequest& page) {
  // The date filters narrow the date sent (the date created while unsent).
  const DateBounds sent =
      date_bounds(filter.sent_before, filter.sent_after, filter.sent_on_day_start);
  const bool to = !filter.to.empty(), from = !filter.from.empty();
  const char* sql = to && from ? SB_MESSAGE_LIST("to_number = ?2", "from_number = ?3")
                    : to       ? SB_MESSAGE_LIST("to_number = ?2", "?3 = ''")
                    : from     ? SB_MESSAGE_LIST("?2 = ''", "from_number = ?3")
                               : SB_MESSAGE_LIST("?2 = ''", "?3 = ''");
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  // Newest first, as Twilio lists messages; keyset paging runs downward.
  auto p = (*conn)->prepare(sql);
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, filter.account_sid).bind(2, filter.to).bind(3, filter.from);
  s.bind(4, sent.lowest).bind(5, sent.highest);
  bind_page_desc(s, 6, page);
  return collect<Message>(**conn, s, page.limit, read_message);
}

#undef SB_MESSAGE_LIST

Result<std::vector<Message>> SqliteStore::list_unfinished_messages(std::size_t limit) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_MESSAGE_COLUMNS
                            " FROM messages WHERE status IN ('queued', 'accepted', 'sending',"
                            " 'scheduled') AND direction <> 'inbound' ORDER BY id LIMIT ?1");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, static_cast<std::int64_t>(
                std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max())));
  std::vector<Message> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(read_message(s));
  if (rc != SQLITE_DONE) return (*conn)->last_error();
  return out;
}

Result<std::optional<MessageMedia>> SqliteStore::find_message_media(std::string_view account_sid,
                                                                    std::string_view message_sid,
                                                                    std::string_view sid) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_MEDIA_COLUMNS
                            ", data FROM message_media WHERE sid = ?1 AND account_sid = ?2"
                            " AND message_sid = ?3");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, sid).bind(2, account_sid).bind(3, message_sid);
  return one<MessageMedia>(**conn, s, read_media_with_data);
}

Result<Page<MessageMedia>> SqliteStore::list_message_media(std::string_view account_sid,
                                                           std::string_view message_sid,
                                                           const PageRequest& page) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare("SELECT " SB_MEDIA_COLUMNS
                            " FROM message_media WHERE message_sid = ?1 AND account_sid = ?2"
                            " AND id > ?3 ORDER BY id LIMIT ?4 OFFSET ?5");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, message_sid).bind(2, account_sid);
  bind_page(s, 3, page);
  return collect<MessageMedia>(**conn, s, page.limit, read_media);
}

Result<bool> SqliteStore::is_opted_out(std::string_view account_sid, std::string_view number,
                                       std::string_view address) {
  auto conn = borrow_reader();
  if (!conn) return conn.error();
  auto p = (*conn)->prepare(
      "SELECT 1 FROM message_opt_outs WHERE account_sid = ?1 AND number = ?2 AND address = ?3");
  if (!p) return p.error();
  Statement s(*p);
  s.bind(1, account_sid).bind(2, number).bind(3, address);
  const int rc = s.step();
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return (*conn)->last_error();
}

}  // namespace sb::store
