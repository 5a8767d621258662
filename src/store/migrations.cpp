#include "store/migrations.hpp"

#include <array>

namespace sb::store {
namespace {

constexpr std::array kMigrations = {
    Migration{1, "accounts", R"sql(
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  owner_sid TEXT NOT NULL DEFAULT '',
  friendly_name TEXT NOT NULL DEFAULT '',
  auth_token TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active',
  type TEXT NOT NULL DEFAULT 'Full',
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL
);
CREATE INDEX accounts_owner ON accounts(owner_sid);
)sql"},
    Migration{2, "incoming phone numbers and applications", R"sql(
CREATE TABLE applications (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL REFERENCES accounts(sid),
  friendly_name TEXT NOT NULL DEFAULT '',
  voice_url TEXT NOT NULL DEFAULT '',
  voice_method TEXT NOT NULL DEFAULT 'POST',
  voice_fallback_url TEXT NOT NULL DEFAULT '',
  voice_fallback_method TEXT NOT NULL DEFAULT 'POST',
  status_callback TEXT NOT NULL DEFAULT '',
  status_callback_method TEXT NOT NULL DEFAULT 'POST',
  sms_url TEXT NOT NULL DEFAULT '',
  sms_method TEXT NOT NULL DEFAULT 'POST',
  sms_fallback_url TEXT NOT NULL DEFAULT '',
  sms_fallback_method TEXT NOT NULL DEFAULT 'POST',
  sms_status_callback TEXT NOT NULL DEFAULT '',
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL
);
CREATE TABLE incoming_phone_numbers (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL REFERENCES accounts(sid),
  phone_number TEXT NOT NULL UNIQUE,
  friendly_name TEXT NOT NULL DEFAULT '',
  voice_application_sid TEXT NOT NULL DEFAULT '',
  sms_application_sid TEXT NOT NULL DEFAULT '',
  voice_url TEXT NOT NULL DEFAULT '',
  voice_method TEXT NOT NULL DEFAULT 'POST',
  voice_fallback_url TEXT NOT NULL DEFAULT '',
  voice_fallback_method TEXT NOT NULL DEFAULT 'POST',
  status_callback TEXT NOT NULL DEFAULT '',
  status_callback_method TEXT NOT NULL DEFAULT 'POST',
  sms_url TEXT NOT NULL DEFAULT '',
  sms_method TEXT NOT NULL DEFAULT 'POST',
  sms_fallback_url TEXT NOT NULL DEFAULT '',
  sms_fallback_method TEXT NOT NULL DEFAULT 'POST',
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL
);
)sql"},
    Migration{3, "per-account list indexes", R"sql(
CREATE INDEX incoming_phone_numbers_account ON incoming_phone_numbers(account_sid, id);
CREATE INDEX applications_account ON applications(account_sid, id);
CREATE INDEX incoming_phone_numbers_voice_app ON incoming_phone_numbers(voice_application_sid);
)sql"},
    Migration{4, "notifications (the debugger log of webhook and TwiML errors)", R"sql(
CREATE TABLE notifications (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL,
  call_sid TEXT NOT NULL DEFAULT '',
  log INTEGER NOT NULL DEFAULT 0,
  error_code INTEGER NOT NULL,
  message_text TEXT NOT NULL DEFAULT '',
  request_method TEXT NOT NULL DEFAULT '',
  request_url TEXT NOT NULL DEFAULT '',
  request_variables TEXT NOT NULL DEFAULT '',
  response_body TEXT NOT NULL DEFAULT '',
  response_headers TEXT NOT NULL DEFAULT '',
  date_created INTEGER NOT NULL
);
CREATE INDEX notifications_account ON notifications(account_sid, id);
CREATE INDEX notifications_call ON notifications(call_sid, id);
)sql"},
    Migration{5, "calls", R"sql(
CREATE TABLE calls (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL,
  parent_call_sid TEXT NOT NULL DEFAULT '',
  phone_number_sid TEXT NOT NULL DEFAULT '',
  to_number TEXT NOT NULL DEFAULT '',
  from_number TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  direction TEXT NOT NULL,
  answered_by TEXT NOT NULL DEFAULT '',
  forwarded_from TEXT NOT NULL DEFAULT '',
  caller_name TEXT NOT NULL DEFAULT '',
  start_time INTEGER NOT NULL DEFAULT 0,
  end_time INTEGER NOT NULL DEFAULT 0,
  duration INTEGER NOT NULL DEFAULT 0,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL
);
CREATE INDEX calls_account ON calls(account_sid, id);
CREATE INDEX calls_parent ON calls(parent_call_sid);
)sql"},
    Migration{6, "recordings", R"sql(
CREATE TABLE recordings (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL,
  call_sid TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  source TEXT NOT NULL,
  channels INTEGER NOT NULL DEFAULT 1,
  duration INTEGER NOT NULL DEFAULT 0,
  start_time INTEGER NOT NULL DEFAULT 0,
  media_path TEXT NOT NULL DEFAULT '',
  error_code INTEGER NOT NULL DEFAULT 0,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL
);
CREATE INDEX recordings_account ON recordings(account_sid, id);
CREATE INDEX recordings_call ON recordings(call_sid, id);
)sql"},
    Migration{7, "API keys (salted secret hashes and scopes)", R"sql(
CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL REFERENCES accounts(sid),
  friendly_name TEXT NOT NULL DEFAULT '',
  secret_hash TEXT NOT NULL,
  scopes TEXT NOT NULL DEFAULT 'publish,rest,subscribe',
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL
);
CREATE INDEX api_keys_account ON api_keys(account_sid, id);
)sql"},
    Migration{8, "outgoing caller IDs", R"sql(
CREATE TABLE outgoing_caller_ids (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL REFERENCES accounts(sid),
  phone_number TEXT NOT NULL,
  friendly_name TEXT NOT NULL DEFAULT '',
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL,
  UNIQUE (account_sid, phone_number)
);
CREATE INDEX outgoing_caller_ids_account ON outgoing_caller_ids(account_sid, id);
)sql"},
    Migration{9, "SIP trunks", R"sql(
CREATE TABLE sip_trunks (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL REFERENCES accounts(sid),
  friendly_name TEXT NOT NULL,
  address TEXT NOT NULL,
  transport TEXT NOT NULL DEFAULT 'udp',
  prefixes TEXT NOT NULL DEFAULT '',
  username TEXT NOT NULL DEFAULT '',
  password TEXT NOT NULL DEFAULT '',
  from_domain TEXT NOT NULL DEFAULT '',
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL
);
CREATE INDEX sip_trunks_account ON sip_trunks(account_sid, id);
)sql"},
    Migration{10, "SIP domains and credential lists", R"sql(
CREATE TABLE sip_credential_lists (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL REFERENCES accounts(sid),
  friendly_name TEXT NOT NULL,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL
);
CREATE INDEX sip_credential_lists_account ON sip_credential_lists(account_sid, id);
CREATE TABLE sip_credentials (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL,
  credential_list_sid TEXT NOT NULL REFERENCES sip_credential_lists(sid),
  username TEXT NOT NULL,
  realm TEXT NOT NULL,
  ha1_md5 TEXT NOT NULL,
  ha1_sha256 TEXT NOT NULL,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL,
  UNIQUE (credential_list_sid, username)
);
CREATE TABLE sip_domains (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL REFERENCES accounts(sid),
  domain_name TEXT NOT NULL UNIQUE,
  friendly_name TEXT NOT NULL DEFAULT '',
  voice_url TEXT NOT NULL DEFAULT '',
  voice_method TEXT NOT NULL DEFAULT 'POST',
  voice_fallback_url TEXT NOT NULL DEFAULT '',
  voice_fallback_method TEXT NOT NULL DEFAULT 'POST',
  voice_status_callback_url TEXT NOT NULL DEFAULT '',
  voice_status_callback_method TEXT NOT NULL DEFAULT 'POST',
  sip_registration INTEGER NOT NULL DEFAULT 0,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL
);
CREATE INDEX sip_domains_account ON sip_domains(account_sid, id);
CREATE TABLE sip_domain_mappings (
  id INTEGER PRIMARY KEY,
  account_sid TEXT NOT NULL,
  domain_sid TEXT NOT NULL REFERENCES sip_domains(sid),
  credential_list_sid TEXT NOT NULL REFERENCES sip_credential_lists(sid),
  kind TEXT NOT NULL,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL,
  UNIQUE (domain_sid, kind, credential_list_sid)
);
)sql"},
    Migration{11, "calls: queue_time", R"sql(
ALTER TABLE calls ADD COLUMN queue_time INTEGER NOT NULL DEFAULT 0;
)sql"},
    Migration{12, "calls: RTP figures", R"sql(
ALTER TABLE calls ADD COLUMN rtp_packets_received INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN rtp_packets_sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN rtp_bytes_received INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN rtp_bytes_sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN rtp_packets_lost INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN rtp_packets_late INTEGER NOT NULL DEFAULT 0;
)sql"},
    Migration{13, "messages, their media and messaging opt-outs", R"sql(
CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL,
  messaging_service_sid TEXT NOT NULL DEFAULT '',
  from_number TEXT NOT NULL DEFAULT '',
  to_number TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  direction TEXT NOT NULL,
  num_segments INTEGER NOT NULL DEFAULT 1,
  num_media INTEGER NOT NULL DEFAULT 0,
  error_code INTEGER NOT NULL DEFAULT 0,
  error_message TEXT NOT NULL DEFAULT '',
  status_callback TEXT NOT NULL DEFAULT '',
  status_callback_method TEXT NOT NULL DEFAULT 'POST',
  application_sid TEXT NOT NULL DEFAULT '',
  media_urls TEXT NOT NULL DEFAULT '[]',
  validity_period INTEGER NOT NULL DEFAULT 36000,
  send_at INTEGER NOT NULL DEFAULT 0,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL,
  date_sent INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX messages_account ON messages(account_sid, id);
CREATE INDEX messages_to ON messages(account_sid, to_number, id);
CREATE INDEX messages_from ON messages(account_sid, from_number, id);
CREATE INDEX messages_status ON messages(status, id);
CREATE TABLE message_media (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL,
  message_sid TEXT NOT NULL REFERENCES messages(sid),
  content_type TEXT NOT NULL,
  data BLOB NOT NULL,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL
);
CREATE INDEX message_media_message ON message_media(message_sid, id);
CREATE TABLE message_opt_outs (
  account_sid TEXT NOT NULL,
  number TEXT NOT NULL,
  address TEXT NOT NULL,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL,
  PRIMARY KEY (account_sid, number, address)
) WITHOUT ROWID;
)sql"},
    Migration{14, "conferences, queues and recordings' conference_sid", R"sql(
CREATE TABLE conferences (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL,
  friendly_name TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'init',
  region TEXT NOT NULL DEFAULT '',
  reason_conference_ended TEXT NOT NULL DEFAULT '',
  call_sid_ending_conference TEXT NOT NULL DEFAULT '',
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL
);
CREATE INDEX conferences_account ON conferences(account_sid, date_created);
CREATE INDEX conferences_name ON conferences(account_sid, friendly_name, status);
CREATE INDEX conferences_open ON conferences(status) WHERE status <> 'completed';
CREATE TABLE queues (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL,
  friendly_name TEXT NOT NULL,
  max_size INTEGER NOT NULL DEFAULT 1000,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL,
  UNIQUE (account_sid, friendly_name)
);
CREATE INDEX queues_account ON queues(account_sid, id);
ALTER TABLE recordings ADD COLUMN conference_sid TEXT NOT NULL DEFAULT '';
CREATE INDEX recordings_conference ON recordings(conference_sid, id);
)sql"},
    Migration{15, "call_events: every HTTP exchange with a call's application", R"sql(
CREATE TABLE call_events (
  id INTEGER PRIMARY KEY,
  account_sid TEXT NOT NULL,
  call_sid TEXT NOT NULL,
  type TEXT NOT NULL,
  request_method TEXT NOT NULL,
  request_url TEXT NOT NULL,
  request_variables TEXT NOT NULL,
  response_code INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  response_headers TEXT NOT NULL,
  response_body TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  error_code INTEGER NOT NULL,
  error_message TEXT NOT NULL,
  date_created_ms INTEGER NOT NULL
);
CREATE INDEX call_events_call ON call_events(call_sid, id);
)sql"},
    Migration{16, "calls: indexes for the call log's filters (To, From, Status)", R"sql(
CREATE INDEX calls_to ON calls(account_sid, to_number, id);
CREATE INDEX calls_from ON calls(account_sid, from_number, id);
CREATE INDEX calls_status ON calls(account_sid, status, id);
)sql"},
    Migration{17, "calls: the SIP signalling's summary, written as a call ends", R"sql(
ALTER TABLE calls ADD COLUMN sip_summary TEXT NOT NULL DEFAULT '';
)sql"},
    Migration{18, "calls: an index for the call log's start-time range", R"sql(
CREATE INDEX calls_start ON calls(account_sid, start_time, id);
)sql"},
    Migration{19, "accounts: a secondary auth token for rotation", R"sql(
ALTER TABLE accounts ADD COLUMN secondary_auth_token TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN secondary_created INTEGER NOT NULL DEFAULT 0;
)sql"},
    Migration{20, "accounts: per-account outbound policy and media authentication", R"sql(
ALTER TABLE accounts ADD COLUMN outbound_deny_private INTEGER;
ALTER TABLE accounts ADD COLUMN enforce_media_auth INTEGER NOT NULL DEFAULT 0;
)sql"},
    Migration{21, "trunks and SIP domains: TLS certificate checks and media encryption", R"sql(
ALTER TABLE sip_trunks ADD COLUMN tls_verify INTEGER NOT NULL DEFAULT 1;
ALTER TABLE sip_trunks ADD COLUMN srtp TEXT NOT NULL DEFAULT '';
ALTER TABLE sip_domains ADD COLUMN srtp TEXT NOT NULL DEFAULT '';
)sql"},
};

Status exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return Error::internal("sqlite: " + message);
  }
  return Ok{};
}

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

int latest_schema_version() { return kMigrations.back().version; }

int schema_version(sqlite3* db) {
  sqlite3_stmt* stmt = nullptr;
  int version = -1;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    version = sqlite3_column_int(stmt, 0);
  }
  sqlite3_finalize(stmt);
  return version;
}

Status migrate(sqlite3* db, int target) {
  if (target < 0) target = latest_schema_version();
  const int current = schema_version(db);
  if (current < 0) return Error::internal("sqlite: cannot read the schema version");
  if (current > latest_schema_version()) {
    return Error::internal("the data file has schema version " + std::to_string(current) +
                           ", newer than this binary's " + std::to_string(latest_schema_version()) +
                           "; upgrade switchboard");
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= current || m.version > target) continue;
    if (auto s = exec(db, "BEGIN IMMEDIATE"); !s) return s;
    auto s = exec(db, m.sql);
    if (s) s = exec(db, ("PRAGMA user_version = " + std::to_string(m.version)).c_str());
    if (!s) {
      exec(db, "ROLLBACK");
      return Error::internal("migration " + std::to_string(m.version) + " (" + m.description +
                             ") failed: " + s.error().message);
    }
    if (auto c = exec(db, "COMMIT"); !c) return c;
  }
  return Ok{};
}

}  // namespace sb::store
