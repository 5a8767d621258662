// CachedStore over a real SqliteStore: what it loads, read-your-writes for every write that
// changes a cached table, failed writes, one batch applied in order, concurrent readers, and
// that the hot reads never reach SQLite.
#include "store/cached_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <latch>
#include <thread>

#include "core/sid.hpp"
#include "store/sqlite_store.hpp"
#include "support/counting_store.hpp"
#include "support/temp_dir.hpp"

namespace sb::store {
namespace {

// Every field, so that one comparison checks the whole row.
std::string describe(const WebhookSettings& h) {
  return h.voice_url + "|" + h.voice_method + "|" + h.voice_fallback_url + "|" +
         h.voice_fallback_method + "|" + h.status_callback + "|" + h.status_callback_method + "|" +
         h.sms_url + "|" + h.sms_method + "|" + h.sms_fallback_url + "|" + h.sms_fallback_method;
}
std::string describe(const Account& a) {
  return std::to_string(a.id) + "|" + a.sid + "|" + a.owner_sid + "|" + a.friendly_name + "|" +
         a.auth_token + "|" + a.status + "|" + a.type + "|" + std::to_string(a.date_created) + "|" +
         std::to_string(a.date_updated) + "|" + a.secondary_auth_token + "|" +
         std::to_string(a.secondary_created) + "|" +
         (a.outbound_deny_private ? (*a.outbound_deny_private ? "deny" : "allow") : "default") +
         "|" + (a.enforce_media_auth ? "media-auth" : "open");
}
std::string describe(const ApiKey& k) {
  std::string scopes;
  for (const auto& s : k.scopes) scopes += s + ",";
  return std::to_string(k.id) + "|" + k.sid + "|" + k.account_sid + "|" + k.friendly_name + "|" +
         k.secret_hash + "|" + scopes + "|" + std::to_string(k.date_created) + "|" +
         std::to_string(k.date_updated);
}
std::string describe(const IncomingNumber& n) {
  return std::to_string(n.id) + "|" + n.sid + "|" + n.account_sid + "|" + n.phone_number + "|" +
         n.friendly_name + "|" + n.voice_application_sid + "|" + n.sms_application_sid + "|" +
         describe(n.hooks) + "|" + std::to_string(n.date_created) + "|" +
         std::to_string(n.date_updated);
}
std::string describe(const Application& a) {
  return std::to_string(a.id) + "|" + a.sid + "|" + a.account_sid + "|" + a.friendly_name + "|" +
         a.sms_status_callback + "|" + describe(a.hooks) + "|" + std::to_string(a.date_created) +
         "|" + std::to_string(a.date_updated);
}
template <typename T>
std::string describe(const Result<std::optional<T>>& found) {
  if (!found) return "error: " + found.error().message;
  return found->has_value() ? describe(**found) : "none";
}

Account make_account(const std::string& owner, const std::string& status = "active") {
  Account a;
  a.sid = make_sid("AC");
  a.owner_sid = owner;
  a.friendly_name = "account";
  a.auth_token = make_sid("XX").substr(2);
  a.status = status;
  a.date_created = a.date_updated = 1000;
  return a;
}

ApiKey make_key(const std::string& account) {
  ApiKey k;
  k.sid = make_sid("SK");
  k.account_sid = account;
  k.friendly_name = "key";
  k.secret_hash = "s1$salt$digest";
  k.scopes = {"rest", "publish"};
  k.date_created = k.date_updated = 1100;
  return k;
}

IncomingNumber make_number(const std::string& account, const std::string& phone,
                           const std::string& app = "") {
  IncomingNumber n;
  n.sid = make_sid("PN");
  n.account_sid = account;
  n.phone_number = phone;
  n.friendly_name = "number " + phone;
  n.voice_application_sid = app;
  n.hooks.voice_url = "https://app.example/" + phone;
  n.date_created = n.date_updated = 1200;
  return n;
}

Application make_application(const std::string& account) {
  Application a;
  a.sid = make_sid("AP");
  a.account_sid = account;
  a.friendly_name = "app";
  a.hooks.voice_url = "https://app.example/voice";
  a.hooks.status_callback = "https://app.example/status";
  a.date_created = a.date_updated = 1300;
  return a;
}

class CachedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStore::open(dir_.file("cache.db"));
    ASSERT_TRUE(opened) << opened.error().message;
    sqlite_ = std::move(opened.value());
    counting_ = std::make_unique<testing::CountingStore>(*sqlite_);
    main_ = make_account("");
    sub_ = make_account(main_.sid);
    closed_ = make_account("", "closed");
    for (const auto& a : {main_, sub_, closed_}) add(InsertAccount{a});
    key_ = make_key(sub_.sid);
    add(InsertApiKey{key_});
    app_ = make_application(main_.sid);
    add(InsertApplication{app_});
    number_ = make_number(main_.sid, "+14155550100", app_.sid);
    add(InsertNumber{number_});
    sub_number_ = make_number(sub_.sid, "1000");
    add(InsertNumber{sub_number_});
  }

  void TearDown() override {
    if (cache_) expect_in_step();
  }

  // Written straight to SQLite, before the cache opens (or around it).
  void add(Mutation m) { ASSERT_TRUE(sqlite_->write_sync(std::move(m))); }

  void open_cache() {
    auto opened = CachedStore::open(*counting_);
    ASSERT_TRUE(opened) << opened.error().message;
    cache_ = std::move(opened.value());
  }

  // Writes through the cache; `read` runs inside the write's completion, where the caller's
  // completion would, and its answer is returned with the write's outcome.
  template <typename Read>
  std::pair<Status, std::string> write_then_read(Mutation m, Read read) {
    std::promise<std::pair<Status, std::string>> seen;
    cache_->write(std::move(m), [&](Status s) { seen.set_value({std::move(s), read()}); });
    return seen.get_future().get();
  }

  // Every row the test knows of reads the same through the cache as from SQLite.
  void expect_in_step() {
    for (const auto& sid : accounts_known()) {
      EXPECT_EQ(describe(cache_->find_account(sid)), describe(sqlite_->find_account(sid))) << sid;
    }
    for (const auto& sid : keys_) {
      EXPECT_EQ(describe(cache_->find_api_key_by_sid(sid)),
                describe(sqlite_->find_api_key_by_sid(sid)));
    }
    for (const auto& account : accounts_known()) {
      for (const auto& sid : numbers_) {
        EXPECT_EQ(describe(cache_->find_number(account, sid)),
                  describe(sqlite_->find_number(account, sid)));
      }
      for (const auto& sid : applications_) {
        EXPECT_EQ(describe(cache_->find_application(account, sid)),
                  describe(sqlite_->find_application(account, sid)));
      }
      for (const auto& sid : keys_) {
        EXPECT_EQ(describe(cache_->find_api_key(account, sid)),
                  describe(sqlite_->find_api_key(account, sid)));
      }
    }
    for (const auto& phone : phones_) {
      EXPECT_EQ(describe(cache_->find_number_by_phone(phone)),
                describe(sqlite_->find_number_by_phone(phone)))
          << phone;
    }
  }

  std::vector<std::string> accounts_known() const {
    std::vector<std::string> out = {main_.sid, sub_.sid, closed_.sid};
    out.insert(out.end(), accounts_.begin(), accounts_.end());
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStore> sqlite_;
  std::unique_ptr<testing::CountingStore> counting_;
  std::unique_ptr<CachedStore> cache_;  // destroyed first: it flushes into the others
  Account main_, sub_, closed_;
  ApiKey key_;
  Application app_;
  IncomingNumber number_, sub_number_;
  // Further rows the checks look at (created by tests, or asked for and absent).
  std::vector<std::string> accounts_, keys_, numbers_, applications_;
  std::vector<std::string> phones_ = {"+14155550100", "14155550100", "1000", "2000"};

  void track_setup_rows() {
    keys_ = {key_.sid};
    numbers_ = {number_.sid, sub_number_.sid};
    applications_ = {app_.sid};
  }
};

TEST_F(CachedStoreTest, LoadsEveryHotRowAtOpenAndServesItWithoutReadingSqlite) {
  // A subaccount of a subaccount too: the load walks the whole tree.
  Account deep = make_account(sub_.sid, "suspended");
  add(InsertAccount{deep});
  Application other_app = make_application(closed_.sid);
  add(InsertApplication{other_app});
  open_cache();
  track_setup_rows();
  accounts_ = {deep.sid};
  applications_.push_back(other_app.sid);

  const auto n = cache_->counts();
  EXPECT_EQ(n.accounts, 4u);
  EXPECT_EQ(n.api_keys, 1u);
  EXPECT_EQ(n.numbers, 2u);
  EXPECT_EQ(n.applications, 2u);

  counting_->reset();
  expect_in_step();
  auto closed = cache_->find_account(closed_.sid);
  ASSERT_TRUE(closed && closed->has_value());
  EXPECT_EQ((*closed)->status, "closed");  // inactive accounts are kept: auth refuses them
  EXPECT_EQ((*cache_->find_account(deep.sid))->owner_sid, sub_.sid);
  EXPECT_GT((*cache_->find_account(main_.sid))->id, 0);
  // A row of another account is invisible, as in SQLite.
  EXPECT_FALSE(cache_->find_number(sub_.sid, number_.sid)->has_value());
  EXPECT_FALSE(cache_->find_application(sub_.sid, app_.sid)->has_value());
  EXPECT_FALSE(cache_->find_api_key(main_.sid, key_.sid)->has_value());
  // The cache answered every one of those (expect_in_step reads SQLite directly).
  EXPECT_EQ(counting_->reads(), 0);
}

TEST_F(CachedStoreTest, EveryWriteIsVisibleInItsOwnCompletion) {
  open_cache();
  track_setup_rows();

  Account added = make_account(main_.sid);
  accounts_.push_back(added.sid);
  auto [s1, r1] = write_then_read(InsertAccount{added},
                                  [&] { return describe(cache_->find_account(added.sid)); });
  ASSERT_TRUE(s1) << s1.error().message;
  EXPECT_EQ(r1, describe(sqlite_->find_account(added.sid)));  // with SQLite's row id
  expect_in_step();

  Account changed = added;
  changed.friendly_name = "renamed";
  changed.auth_token = make_sid("XX").substr(2);
  changed.status = "suspended";
  changed.date_updated = 5000;
  changed.secondary_auth_token = "0123456789abcdef0123456789abcdef";
  changed.secondary_created = 4999;
  changed.outbound_deny_private = true;
  changed.enforce_media_auth = true;
  changed.type = "Trial";  // not a column UpdateAccount writes: SQLite keeps "Full"
  auto [s2, r2] = write_then_read(UpdateAccount{changed},
                                  [&] { return describe(cache_->find_account(added.sid)); });
  ASSERT_TRUE(s2);
  EXPECT_NE(r2.find("renamed"), std::string::npos);
  EXPECT_NE(r2.find("suspended"), std::string::npos);
  EXPECT_NE(r2.find("0123456789abcdef0123456789abcdef|4999|deny|media-auth"), std::string::npos);
  EXPECT_EQ(r2, describe(sqlite_->find_account(added.sid)));
  expect_in_step();

  ApiKey key = make_key(added.sid);
  keys_.push_back(key.sid);
  auto [s3, r3] = write_then_read(InsertApiKey{key},
                                  [&] { return describe(cache_->find_api_key_by_sid(key.sid)); });
  ASSERT_TRUE(s3);
  EXPECT_EQ(r3, describe(sqlite_->find_api_key_by_sid(key.sid)));
  key.friendly_name = "renamed key";
  key.scopes = {"subscribe"};
  key.date_updated = 5100;
  auto [s4, r4] = write_then_read(UpdateApiKey{key},
                                  [&] { return describe(cache_->find_api_key_by_sid(key.sid)); });
  ASSERT_TRUE(s4);
  EXPECT_NE(r4.find("|renamed key|"), std::string::npos) << r4;
  EXPECT_NE(r4.find("|subscribe,|"), std::string::npos) << r4;
  expect_in_step();
  auto [s5, r5] = write_then_read(DeleteApiKey{added.sid, key.sid},
                                  [&] { return describe(cache_->find_api_key_by_sid(key.sid)); });
  ASSERT_TRUE(s5);
  EXPECT_EQ(r5, "none");
  expect_in_step();

  Application app = make_application(added.sid);
  applications_.push_back(app.sid);
  auto [s6, r6] = write_then_read(InsertApplication{app}, [&] {
    return describe(cache_->find_application(added.sid, app.sid));
  });
  ASSERT_TRUE(s6);
  EXPECT_EQ(r6, describe(sqlite_->find_application(added.sid, app.sid)));
  app.friendly_name = "renamed app";
  app.sms_status_callback = "https://app.example/sms-status";
  app.hooks.voice_url = "https://app.example/v2";
  app.date_updated = 5200;
  auto [s7, r7] = write_then_read(UpdateApplication{app}, [&] {
    return describe(cache_->find_application(added.sid, app.sid));
  });
  ASSERT_TRUE(s7);
  EXPECT_NE(r7.find("https://app.example/v2"), std::string::npos);
  expect_in_step();

  IncomingNumber number = make_number(added.sid, "+14155550199", app.sid);
  number.sms_application_sid = app.sid;
  numbers_.push_back(number.sid);
  phones_.push_back(number.phone_number);
  auto [s8, r8] = write_then_read(
      InsertNumber{number}, [&] { return describe(cache_->find_number_by_phone("+14155550199")); });
  ASSERT_TRUE(s8);
  EXPECT_EQ(r8, describe(sqlite_->find_number(added.sid, number.sid)));
  expect_in_step();

  number.friendly_name = "renamed number";
  number.hooks.voice_url = "https://app.example/number-v2";
  number.voice_application_sid = "";
  number.date_updated = 5300;
  number.phone_number = "+14155550198";  // not a column UpdateNumber writes
  phones_.push_back(number.phone_number);
  auto [s9, r9] = write_then_read(UpdateNumber{number}, [&] {
    return describe(cache_->find_number_by_phone("+14155550199")) + " / " +
           describe(cache_->find_number_by_phone("+14155550198"));
  });
  ASSERT_TRUE(s9);
  EXPECT_NE(r9.find("renamed number"), std::string::npos);
  EXPECT_NE(r9.find("+14155550199|"), std::string::npos);
  EXPECT_NE(r9.find(" / none"), std::string::npos) << r9;
  expect_in_step();

  // Deleting the application clears it from the number (its SMS side still pointed at it).
  auto [s10, r10] = write_then_read(DeleteApplication{added.sid, app.sid}, [&] {
    return describe(cache_->find_application(added.sid, app.sid)) + " / " +
           describe(cache_->find_number(added.sid, number.sid));
  });
  ASSERT_TRUE(s10);
  EXPECT_EQ(r10.substr(0, 7), "none / ");
  EXPECT_EQ(r10.substr(7), describe(sqlite_->find_number(added.sid, number.sid)));
  EXPECT_TRUE((*cache_->find_number(added.sid, number.sid))->sms_application_sid.empty());
  expect_in_step();

  auto [s11, r11] = write_then_read(DeleteNumber{added.sid, number.sid}, [&] {
    return describe(cache_->find_number(added.sid, number.sid)) + " / " +
           describe(cache_->find_number_by_phone("+14155550199"));
  });
  ASSERT_TRUE(s11);
  EXPECT_EQ(r11, "none / none");
  expect_in_step();
  // The phone number is free again, and a new number takes it.
  IncomingNumber again = make_number(sub_.sid, "+14155550199");
  numbers_.push_back(again.sid);
  ASSERT_TRUE(cache_->write_sync(InsertNumber{again}));
  EXPECT_EQ((*cache_->find_number_by_phone("+14155550199"))->sid, again.sid);
}

TEST_F(CachedStoreTest, DeletingAnApplicationClearsEveryNumberThatPointedAtIt) {
  IncomingNumber sms_only = make_number(main_.sid, "2000");
  sms_only.sms_application_sid = app_.sid;
  add(InsertNumber{sms_only});
  open_cache();
  track_setup_rows();
  numbers_.push_back(sms_only.sid);
  ASSERT_TRUE(cache_->write_sync(DeleteApplication{main_.sid, app_.sid}));
  EXPECT_FALSE(cache_->find_application(main_.sid, app_.sid)->has_value());
  EXPECT_EQ((*cache_->find_number_by_phone("+14155550100"))->voice_application_sid, "");
  EXPECT_EQ((*cache_->find_number_by_phone("2000"))->sms_application_sid, "");
  // The other fields stay as they were.
  EXPECT_EQ((*cache_->find_number_by_phone("+14155550100"))->hooks.voice_url,
            number_.hooks.voice_url);
}

TEST_F(CachedStoreTest, FailedWritesLeaveTheCacheAsItWas) {
  open_cache();
  track_setup_rows();
  const std::string before_phone = describe(cache_->find_number_by_phone("+14155550100"));
  const std::string before_main = describe(cache_->find_account(main_.sid));
  const std::string before_app = describe(cache_->find_application(main_.sid, app_.sid));

  // A phone number already taken: conflict, and neither row changes.
  IncomingNumber clash = make_number(sub_.sid, "+14155550100");
  numbers_.push_back(clash.sid);
  auto s1 = cache_->write_sync(InsertNumber{clash});
  ASSERT_FALSE(s1);
  EXPECT_EQ(s1.error().status, kConflict);
  EXPECT_EQ(describe(cache_->find_number_by_phone("+14155550100")), before_phone);
  EXPECT_FALSE(cache_->find_number(sub_.sid, clash.sid)->has_value());

  // A duplicate account SID: the row keeps its token.
  Account twin = main_;
  twin.auth_token = "ffffffffffffffffffffffffffffffff";
  EXPECT_FALSE(cache_->write_sync(InsertAccount{twin}));
  EXPECT_EQ(describe(cache_->find_account(main_.sid)), before_main);

  // Updates and deletes of rows that are not the named account's: 404, nothing changes.
  Account ghost = make_account(main_.sid);
  accounts_.push_back(ghost.sid);
  EXPECT_FALSE(cache_->write_sync(UpdateAccount{ghost}));
  EXPECT_FALSE(cache_->find_account(ghost.sid)->has_value());
  IncomingNumber moved = number_;
  moved.account_sid = sub_.sid;
  moved.friendly_name = "stolen";
  EXPECT_FALSE(cache_->write_sync(UpdateNumber{moved}));
  EXPECT_EQ(describe(cache_->find_number_by_phone("+14155550100")), before_phone);
  EXPECT_FALSE(cache_->write_sync(DeleteApplication{sub_.sid, app_.sid}));
  EXPECT_EQ(describe(cache_->find_application(main_.sid, app_.sid)), before_app);
  EXPECT_EQ(describe(cache_->find_number_by_phone("+14155550100")), before_phone);
  EXPECT_FALSE(cache_->write_sync(DeleteApiKey{main_.sid, key_.sid}));
  EXPECT_TRUE(cache_->find_api_key_by_sid(key_.sid)->has_value());
  EXPECT_FALSE(cache_->write_sync(DeleteNumber{sub_.sid, number_.sid}));
  EXPECT_EQ(describe(cache_->find_number_by_phone("+14155550100")), before_phone);

  // The store refuses every write once closed.
  sqlite_->close();
  Account late = make_account(main_.sid);
  accounts_.push_back(late.sid);
  auto s2 = cache_->write_sync(InsertAccount{late});
  ASSERT_FALSE(s2);
  EXPECT_EQ(s2.error().status, 503);
  EXPECT_FALSE(cache_->find_account(late.sid)->has_value());
}

TEST_F(CachedStoreTest, OneBatchIsAppliedInOrder) {
  open_cache();
  track_setup_rows();
  // The first write's completion holds the writer until the rest are queued, so that they are
  // committed as one batch and their completions run back to back.
  std::latch queued(1);
  Account first = make_account(main_.sid);
  accounts_.push_back(first.sid);
  std::vector<std::future<Status>> outcomes;
  auto queue = [&](Mutation m) {
    auto p = std::make_shared<std::promise<Status>>();
    outcomes.push_back(p->get_future());
    cache_->write(std::move(m), [p](Status s) { p->set_value(std::move(s)); });
  };
  cache_->write(InsertAccount{first}, [&](Status s) {
    EXPECT_TRUE(s);
    queued.wait();
  });

  // The phone number moves from one number to another within the batch.
  IncomingNumber a = make_number(main_.sid, "3000");
  IncomingNumber b = make_number(sub_.sid, "3000");
  Application app = make_application(main_.sid);
  IncomingNumber c = make_number(main_.sid, "3001", app.sid);
  numbers_.insert(numbers_.end(), {a.sid, b.sid, c.sid});
  applications_.push_back(app.sid);
  phones_.insert(phones_.end(), {"3000", "3001"});
  queue(InsertNumber{a});
  queue(DeleteNumber{main_.sid, a.sid});
  queue(InsertNumber{b});
  b.friendly_name = "b, renamed";
  queue(UpdateNumber{b});
  queue(InsertNumber{make_number(main_.sid, "3000")});  // fails: b holds it
  queue(InsertApplication{app});
  queue(InsertNumber{c});
  queue(DeleteApplication{main_.sid, app.sid});
  queued.count_down();
  cache_->flush();

  std::vector<bool> ok;
  for (auto& f : outcomes) ok.push_back(f.get().ok());
  EXPECT_EQ(ok, (std::vector<bool>{true, true, true, true, false, true, true, true}));
  auto holder = cache_->find_number_by_phone("3000");
  ASSERT_TRUE(holder && holder->has_value());
  EXPECT_EQ((*holder)->sid, b.sid);
  EXPECT_EQ((*holder)->friendly_name, "b, renamed");
  EXPECT_EQ((*cache_->find_number_by_phone("3001"))->voice_application_sid, "");
  // expect_in_step (TearDown) compares every row, ids included, with SQLite.
}

TEST_F(CachedStoreTest, ConcurrentReadersSeeAWholeOldOrNewRowNeverATornOne) {
  open_cache();
  track_setup_rows();
  constexpr int kVersions = 200;
  constexpr int kReaders = 3;
  std::atomic<bool> done{false};
  std::atomic<long> reads{0};
  std::latch started(kReaders);
  // Each row carries its version in several fields; a reader checks that they agree and that
  // versions never go backwards.
  auto version_of = [](const std::string& text, std::string_view prefix) {
    return text.rfind(prefix, 0) == 0 ? std::stoi(text.substr(prefix.size())) : -1;
  };
  std::vector<std::thread> readers;
  std::vector<std::string> failures(kReaders);
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      int last_account = -1, last_number = -1, last_app = -1;
      bool first = true;
      while (!done.load() || first) {
        if (first) started.count_down();
        auto account = cache_->find_account(main_.sid);
        auto number = cache_->find_number_by_phone("+14155550100");
        auto app = cache_->find_application(main_.sid, app_.sid);
        auto key = cache_->find_api_key_by_sid(key_.sid);
        if (!account || !number || !app || !key || !account->has_value() || !number->has_value() ||
            !app->has_value() || !key->has_value()) {
          failures[r] = "a row went missing";
          break;
        }
        const int va = version_of((*account)->friendly_name, "v");
        const int vn = version_of((*number)->friendly_name, "v");
        const int vp = version_of((*app)->friendly_name, "v");
        if (va < 0) {  // the setup's row, before the first update
          if ((*account)->friendly_name != "account") failures[r] = "bad account row";
        } else if ((*account)->auth_token != "token" + std::to_string(va) ||
                   (*account)->date_updated != 10000 + va) {
          failures[r] = "torn account row at version " + std::to_string(va);
        }
        if (vn >= 0 &&
            ((*number)->hooks.voice_url != "https://app.example/" + std::to_string(vn) ||
             (*number)->hooks.status_callback != "https://cb.example/" + std::to_string(vn) ||
             (*number)->date_updated != 10000 + vn)) {
          failures[r] = "torn number row at version " + std::to_string(vn);
        }
        if (vp >= 0 &&
            ((*app)->hooks.voice_url != "https://app.example/" + std::to_string(vp) ||
             (*app)->sms_status_callback != "https://sms.example/" + std::to_string(vp))) {
          failures[r] = "torn application row at version " + std::to_string(vp);
        }
        if (va < last_account || vn < last_number || vp < last_app) {
          failures[r] = "a version went backwards";
        }
        last_account = std::max(last_account, va);
        last_number = std::max(last_number, vn);
        last_app = std::max(last_app, vp);
        if (!failures[r].empty()) break;
        reads.fetch_add(1);
        first = false;
      }
    });
  }
  started.wait();  // every reader is reading before the first write
  for (int v = 1; v <= kVersions; ++v) {
    Account a = main_;
    a.friendly_name = "v" + std::to_string(v);
    a.auth_token = "token" + std::to_string(v);
    a.date_updated = 10000 + v;
    IncomingNumber n = number_;
    n.friendly_name = "v" + std::to_string(v);
    n.hooks.voice_url = "https://app.example/" + std::to_string(v);
    n.hooks.status_callback = "https://cb.example/" + std::to_string(v);
    n.date_updated = 10000 + v;
    Application p = app_;
    p.friendly_name = "v" + std::to_string(v);
    p.hooks.voice_url = "https://app.example/" + std::to_string(v);
    p.sms_status_callback = "https://sms.example/" + std::to_string(v);
    // Three writes in flight at once, so batches and readers interleave.
    std::promise<void> p1, p2, p3;
    cache_->write(UpdateAccount{a}, [&](Status s) {
      EXPECT_TRUE(s);
      p1.set_value();
    });
    cache_->write(UpdateNumber{n}, [&](Status s) {
      EXPECT_TRUE(s);
      p2.set_value();
    });
    cache_->write(UpdateApplication{p}, [&](Status s) {
      EXPECT_TRUE(s);
      p3.set_value();
    });
    p1.get_future().wait();
    p2.get_future().wait();
    p3.get_future().wait();
  }
  done.store(true);
  for (auto& t : readers) t.join();
  for (const auto& f : failures) EXPECT_EQ(f, "");
  EXPECT_GE(reads.load(), kReaders);
  EXPECT_EQ((*cache_->find_account(main_.sid))->friendly_name, "v" + std::to_string(kVersions));
}

TEST_F(CachedStoreTest, OtherReadsAndWritesPassThrough) {
  open_cache();
  track_setup_rows();
  Call call;
  call.sid = make_sid("CA");
  call.account_sid = main_.sid;
  call.to = "+14155550100";
  ASSERT_TRUE(cache_->write_sync(InsertCall{call}));
  auto found = cache_->find_call(main_.sid, call.sid);
  ASSERT_TRUE(found && found->has_value());
  CallFilter filter;
  filter.account_sid = main_.sid;
  EXPECT_EQ(cache_->list_calls(filter, {})->items.size(), 1u);
  NumberFilter numbers;
  numbers.account_sid = main_.sid;
  EXPECT_EQ(cache_->list_numbers(numbers, {})->items.size(), 1u);
  EXPECT_EQ((*cache_->first_main_account())->sid, main_.sid);
  AccountFilter accounts;
  accounts.visible_to = main_.sid;
  EXPECT_EQ(cache_->list_accounts(accounts, {})->items.size(), 2u);
}

TEST_F(CachedStoreTest, ReadBacksRunOnTheWritersThreadNotTheCallers) {
  open_cache();
  track_setup_rows();
  counting_->reset();
  Account added = make_account(main_.sid);
  accounts_.push_back(added.sid);
  ASSERT_TRUE(cache_->write_sync(InsertAccount{added}));
  EXPECT_TRUE(cache_->find_account(added.sid)->has_value());
  // The row id was read back in the completion, on the writer's thread.
  EXPECT_EQ(counting_->reads_on(std::this_thread::get_id()), 0);
  EXPECT_EQ(counting_->reads(), 1);
}

TEST_F(CachedStoreTest, DestroyingTheCacheWaitsForItsQueuedWrites) {
  open_cache();
  std::atomic<int> completed{0};
  for (int i = 0; i < 20; ++i) {
    cache_->write(InsertNumber{make_number(main_.sid, "4" + std::to_string(i))},
                  [&](Status s) { completed.fetch_add(s ? 1 : 0); });
  }
  cache_.reset();
  EXPECT_EQ(completed.load(), 20);
}

}  // namespace
}  // namespace sb::store
