#include "store/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <set>
#include <thread>

#include "core/sid.hpp"
#include "store/migrations.hpp"
#include "support/temp_dir.hpp"

namespace sb::store {
namespace {

Account make_account(std::string owner = "") {
  Account a;
  a.sid = make_sid("AC");
  a.owner_sid = std::move(owner);
  a.friendly_name = "acct";
  a.auth_token = "0123456789abcdef0123456789abcdef";
  a.date_created = a.date_updated = 1000;
  return a;
}

IncomingNumber make_number(const std::string& account, const std::string& phone) {
  IncomingNumber n;
  n.sid = make_sid("PN");
  n.account_sid = account;
  n.phone_number = phone;
  n.friendly_name = "num " + phone;
  n.hooks.voice_url = "https://app.example/voice";
  n.hooks.voice_method = "GET";
  n.date_created = n.date_updated = 2000;
  return n;
}

Recording make_recording(const std::string& account, const std::string& call,
                         std::int64_t created) {
  Recording r;
  r.sid = make_sid("RE");
  r.account_sid = account;
  r.call_sid = call;
  r.status = "completed";
  r.source = "RecordVerb";
  r.channels = 1;
  r.duration = 7;
  r.start_time = created - 7;
  r.media_path = r.sid + ".wav";
  r.date_created = r.date_updated = created;
  return r;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteStore::open(dir_.file("sb.db"));
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(s.value());
    main_ = make_account();
    ASSERT_TRUE(store_->write_sync(InsertAccount{main_}));
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
  Account main_;
};

TEST_F(SqliteStoreTest, AccountRoundTripAndUpdate) {
  auto found = store_->find_account(main_.sid);
  ASSERT_TRUE(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->auth_token, main_.auth_token);
  EXPECT_TRUE((*found)->is_main());

  Account changed = **found;
  changed.friendly_name = "renamed";
  changed.status = "suspended";
  changed.secondary_auth_token = "fedcba9876543210fedcba9876543210";
  changed.secondary_created = 1234;
  ASSERT_TRUE(store_->write_sync(UpdateAccount{changed}));
  auto again = store_->find_account(main_.sid);
  EXPECT_EQ((*again)->friendly_name, "renamed");
  EXPECT_EQ((*again)->status, "suspended");
  EXPECT_EQ((*again)->secondary_auth_token, "fedcba9876543210fedcba9876543210");
  EXPECT_EQ((*again)->secondary_created, 1234);
  EXPECT_FALSE((*again)->outbound_deny_private.has_value());  // follows the daemon by default
  EXPECT_FALSE((*again)->enforce_media_auth);
  changed.outbound_deny_private = false;
  changed.enforce_media_auth = true;
  ASSERT_TRUE(store_->write_sync(UpdateAccount{changed}));
  again = store_->find_account(main_.sid);
  EXPECT_EQ((*again)->outbound_deny_private, std::optional<bool>(false));
  EXPECT_TRUE((*again)->enforce_media_auth);
  changed.outbound_deny_private.reset();
  ASSERT_TRUE(store_->write_sync(UpdateAccount{changed}));
  again = store_->find_account(main_.sid);
  EXPECT_FALSE((*again)->outbound_deny_private.has_value());

  auto missing = store_->find_account(make_sid("AC"));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  Account ghost = make_account();
  auto s = store_->write_sync(UpdateAccount{ghost});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().status, 404);
}

TEST_F(SqliteStoreTest, ListAccountsShowsSelfAndSubaccountsOnly) {
  Account sub1 = make_account(main_.sid), sub2 = make_account(main_.sid);
  Account other = make_account();
  for (auto* a : {&sub1, &sub2, &other}) ASSERT_TRUE(store_->write_sync(InsertAccount{*a}));
  auto page = store_->list_accounts({main_.sid, "", ""}, {0, 0, 50});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->items.size(), 3u);
  EXPECT_EQ(page->items[0].sid, main_.sid);
  auto from_sub = store_->list_accounts({sub1.sid, "", ""}, {0, 0, 50});
  ASSERT_EQ(from_sub->items.size(), 1u);
  EXPECT_EQ(from_sub->items[0].sid, sub1.sid);
  auto first = store_->first_main_account();
  ASSERT_TRUE(first && first->has_value());
  EXPECT_EQ((*first)->sid, main_.sid);
}

TEST_F(SqliteStoreTest, PhoneNumbersAreUniqueAcrossAccounts) {
  Account sub = make_account(main_.sid);
  ASSERT_TRUE(store_->write_sync(InsertAccount{sub}));
  ASSERT_TRUE(store_->write_sync(InsertNumber{make_number(main_.sid, "+14155550100")}));
  auto dup = store_->write_sync(InsertNumber{make_number(sub.sid, "+14155550100")});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().status, kConflict);
  auto by_phone = store_->find_number_by_phone("+14155550100");
  ASSERT_TRUE(by_phone && by_phone->has_value());
  EXPECT_EQ((*by_phone)->account_sid, main_.sid);
  EXPECT_EQ((*by_phone)->hooks.voice_method, "GET");
}

TEST_F(SqliteStoreTest, NumbersAreScopedToTheirAccount) {
  Account sub = make_account(main_.sid);
  ASSERT_TRUE(store_->write_sync(InsertAccount{sub}));
  auto n = make_number(main_.sid, "1000");
  ASSERT_TRUE(store_->write_sync(InsertNumber{n}));
  EXPECT_TRUE(store_->find_number(main_.sid, n.sid)->has_value());
  EXPECT_FALSE(store_->find_number(sub.sid, n.sid)->has_value());
  EXPECT_FALSE(store_->write_sync(DeleteNumber{sub.sid, n.sid}));  // not its number
  EXPECT_TRUE(store_->find_number(main_.sid, n.sid)->has_value());
  EXPECT_TRUE(store_->write_sync(DeleteNumber{main_.sid, n.sid}));
  EXPECT_FALSE(store_->find_number(main_.sid, n.sid)->has_value());
}

TEST_F(SqliteStoreTest, ListNumbersPagesByKeysetAndOffsetWithFilters) {
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(store_->write_sync(
        InsertNumber{make_number(main_.sid, "+1415555010" + std::to_string(i))}));
  }
  ASSERT_TRUE(store_->write_sync(InsertNumber{make_number(main_.sid, "sales")}));
  NumberFilter all{main_.sid, "", ""};
  auto p1 = store_->list_numbers(all, {0, 0, 3});
  ASSERT_EQ(p1->items.size(), 3u);
  EXPECT_TRUE(p1->has_more);
  auto p2 = store_->list_numbers(all, {p1->items.back().id, 0, 3});
  ASSERT_EQ(p2->items.size(), 3u);
  EXPECT_EQ(p2->items[0].phone_number, "+14155550103");
  auto p3 = store_->list_numbers(all, {p2->items.back().id, 0, 3});
  ASSERT_EQ(p3->items.size(), 2u);
  EXPECT_FALSE(p3->has_more);
  auto by_offset = store_->list_numbers(all, {0, 3, 3});
  EXPECT_EQ(by_offset->items[0].sid, p2->items[0].sid);

  auto wildcard = store_->list_numbers({main_.sid, "555010*", ""}, {0, 0, 50});
  EXPECT_EQ(wildcard->items.size(), 7u);
  auto exact_digit = store_->list_numbers({main_.sid, "0105", ""}, {0, 0, 50});
  ASSERT_EQ(exact_digit->items.size(), 1u);
  EXPECT_EQ(exact_digit->items[0].phone_number, "+14155550105");
  // LIKE metacharacters in the filter are literal.
  EXPECT_TRUE(store_->list_numbers({main_.sid, "%", ""}, {0, 0, 50})->items.empty());
  auto by_name = store_->list_numbers({main_.sid, "", "num sales"}, {0, 0, 50});
  ASSERT_EQ(by_name->items.size(), 1u);
}

TEST_F(SqliteStoreTest, DeletingAnApplicationClearsItFromNumbers) {
  Application app;
  app.sid = make_sid("AP");
  app.account_sid = main_.sid;
  app.friendly_name = "ivr";
  app.hooks.voice_url = "https://app.example/ivr";
  ASSERT_TRUE(store_->write_sync(InsertApplication{app}));
  auto n = make_number(main_.sid, "+14155550199");
  n.voice_application_sid = app.sid;
  ASSERT_TRUE(store_->write_sync(InsertNumber{n}));
  ASSERT_TRUE(store_->write_sync(DeleteApplication{main_.sid, app.sid}));
  EXPECT_FALSE(store_->find_application(main_.sid, app.sid)->has_value());
  EXPECT_EQ((*store_->find_number(main_.sid, n.sid))->voice_application_sid, "");
}

TEST_F(SqliteStoreTest, OneFailedWriteInABatchSparesTheOthers) {
  // Queue many writes at once so they share batches; the duplicates fail alone.
  std::atomic<int> ok{0}, conflicts{0};
  const int n = 300;
  for (int i = 0; i < n; ++i) {
    const std::string phone = "+1202555" + std::to_string(1000 + (i % 150));
    store_->write(InsertNumber{make_number(main_.sid, phone)}, [&](Status s) {
      if (s) {
        ++ok;
      } else if (s.error().status == kConflict) {
        ++conflicts;
      }
    });
  }
  store_->flush();
  EXPECT_EQ(ok.load(), 150);
  EXPECT_EQ(conflicts.load(), 150);
  EXPECT_EQ(store_->list_numbers({main_.sid, "", ""}, {0, 0, 1000})->items.size(), 150u);
}

TEST_F(SqliteStoreTest, ReadersWorkWhileTheWriterIsBusy) {
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done) {
      auto page = store_->list_numbers({main_.sid, "", ""}, {0, 0, 10});
      ASSERT_TRUE(page);
      ++reads;
    }
  });
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(store_->write_sync(
        InsertNumber{make_number(main_.sid, "+1303555" + std::to_string(1000 + i))}));
  }
  done = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
}

TEST_F(SqliteStoreTest, RecordingRoundTripUpdateAndDelete) {
  Recording r = make_recording(main_.sid, make_sid("CA"), 5000);
  r.status = "in-progress";
  r.source = "DialVerb";
  r.channels = 2;
  r.duration = 0;
  r.media_path = "/var/lib/switchboard/recordings/x.wav";
  ASSERT_TRUE(store_->write_sync(InsertRecording{r}));
  auto found = store_->find_recording(main_.sid, r.sid);
  ASSERT_TRUE(found && found->has_value());
  const Recording& f = **found;
  EXPECT_GT(f.id, 0);
  EXPECT_EQ(f.sid, r.sid);
  EXPECT_EQ(f.account_sid, main_.sid);
  EXPECT_EQ(f.call_sid, r.call_sid);
  EXPECT_EQ(f.status, "in-progress");
  EXPECT_EQ(f.source, "DialVerb");
  EXPECT_EQ(f.channels, 2);
  EXPECT_EQ(f.start_time, 4993);
  EXPECT_EQ(f.media_path, r.media_path);
  EXPECT_EQ(f.error_code, 0);
  EXPECT_EQ(f.date_created, 5000);

  Recording done = f;
  done.status = "completed";
  done.duration = 42;
  done.error_code = 13617;
  done.date_updated = 5042;
  done.call_sid = "CAchanged";  // not a mutable field
  ASSERT_TRUE(store_->write_sync(UpdateRecording{done}));
  auto after = store_->find_recording(main_.sid, r.sid);
  EXPECT_EQ((*after)->status, "completed");
  EXPECT_EQ((*after)->duration, 42);
  EXPECT_EQ((*after)->error_code, 13617);
  EXPECT_EQ((*after)->date_updated, 5042);
  EXPECT_EQ((*after)->date_created, 5000);
  EXPECT_EQ((*after)->call_sid, r.call_sid);

  // Another account sees nothing and can change nothing.
  Account other = make_account();
  ASSERT_TRUE(store_->write_sync(InsertAccount{other}));
  EXPECT_FALSE(store_->find_recording(other.sid, r.sid)->has_value());
  Recording foreign = done;
  foreign.account_sid = other.sid;
  auto update = store_->write_sync(UpdateRecording{foreign});
  ASSERT_FALSE(update);
  EXPECT_EQ(update.error().status, 404);
  auto foreign_delete = store_->write_sync(DeleteRecording{other.sid, r.sid});
  ASSERT_FALSE(foreign_delete);
  EXPECT_EQ(foreign_delete.error().status, 404);

  auto dup = store_->write_sync(InsertRecording{r});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().status, kConflict);

  ASSERT_TRUE(store_->write_sync(DeleteRecording{main_.sid, r.sid}));
  EXPECT_FALSE(store_->find_recording(main_.sid, r.sid)->has_value());
  auto again = store_->write_sync(DeleteRecording{main_.sid, r.sid});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().status, 404);
}

TEST_F(SqliteStoreTest, ListRecordingsNewestFirstWithCallAndDateFilters) {
  const std::int64_t dec1 = 1796083200;  // 2026-12-01 00:00:00 GMT
  const std::string call_a = make_sid("CA"), call_b = make_sid("CA");
  Account other = make_account();
  ASSERT_TRUE(store_->write_sync(InsertAccount{other}));
  std::vector<Recording> rows = {
      make_recording(main_.sid, call_a, dec1 - 1),      // 0: Nov 30, 23:59:59
      make_recording(main_.sid, call_a, dec1),          // 1: Dec 1, 00:00:00
      make_recording(main_.sid, call_b, dec1 + 3600),   // 2: Dec 1, 01:00
      make_recording(main_.sid, call_a, dec1 + 86400),  // 3: Dec 2, 00:00:00
      make_recording(other.sid, call_a, dec1),          // another account's
  };
  for (const auto& r : rows) ASSERT_TRUE(store_->write_sync(InsertRecording{r}));
  auto sids = [&](RecordingFilter filter, PageRequest page = {}) {
    filter.account_sid = main_.sid;
    std::vector<std::string> out;
    auto listed = store_->list_recordings(filter, page);
    EXPECT_TRUE(listed);
    for (const auto& r : listed->items) out.push_back(r.sid);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(sids({}), (V{rows[3].sid, rows[2].sid, rows[1].sid, rows[0].sid}));

  RecordingFilter by_call;
  by_call.call_sid = call_a;
  EXPECT_EQ(sids(by_call), (V{rows[3].sid, rows[1].sid, rows[0].sid}));

  RecordingFilter on_dec1;
  on_dec1.created_on_day_start = dec1;
  EXPECT_EQ(sids(on_dec1), (V{rows[2].sid, rows[1].sid}));

  RecordingFilter before;  // on or before
  before.created_before = dec1;
  EXPECT_EQ(sids(before), (V{rows[1].sid, rows[0].sid}));

  RecordingFilter after;  // on or after
  after.created_after = dec1 + 3600;
  EXPECT_EQ(sids(after), (V{rows[3].sid, rows[2].sid}));

  RecordingFilter window;
  window.created_after = dec1;
  window.created_before = dec1 + 86400;
  window.call_sid = call_a;
  EXPECT_EQ(sids(window), (V{rows[3].sid, rows[1].sid}));

  RecordingFilter empty_window;
  empty_window.created_on_day_start = dec1;
  empty_window.created_after = dec1 + 7200;
  EXPECT_TRUE(sids(empty_window).empty());

  // Keyset paging runs downward from the last id of a page; offset paging skips.
  auto p1 = store_->list_recordings({main_.sid, "", {}, {}, {}}, {0, 0, 3});
  ASSERT_TRUE(p1);
  ASSERT_EQ(p1->items.size(), 3u);
  EXPECT_TRUE(p1->has_more);
  auto p2 = store_->list_recordings({main_.sid, "", {}, {}, {}}, {p1->items.back().id, 0, 3});
  ASSERT_EQ(p2->items.size(), 1u);
  EXPECT_FALSE(p2->has_more);
  EXPECT_EQ(p2->items[0].sid, rows[0].sid);
  EXPECT_EQ(sids({}, {0, 2, 2}), (V{rows[1].sid, rows[0].sid}));

  RecordingFilter theirs;
  theirs.account_sid = other.sid;
  auto other_list = store_->list_recordings(theirs, {});
  ASSERT_EQ(other_list->items.size(), 1u);
  EXPECT_EQ(other_list->items[0].sid, rows[4].sid);
}

TEST_F(SqliteStoreTest, DataSurvivesCloseAndReopen) {
  auto n = make_number(main_.sid, "+14155550142");
  ASSERT_TRUE(store_->write_sync(InsertNumber{n}));
  store_->close();
  auto write_after_close = store_->write_sync(InsertNumber{make_number(main_.sid, "1")});
  EXPECT_FALSE(write_after_close);
  store_.reset();
  auto reopened = SqliteStore::open(dir_.file("sb.db"));
  ASSERT_TRUE(reopened);
  auto found = (*reopened)->find_number(main_.sid, n.sid);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->friendly_name, n.friendly_name);
  EXPECT_EQ((*found)->hooks.voice_url, n.hooks.voice_url);
}

ApiKey make_key(const std::string& account, std::int64_t created) {
  ApiKey k;
  k.sid = make_sid("SK");
  k.account_sid = account;
  k.friendly_name = "ci";
  k.secret_hash = "s1$00$ff";
  k.scopes = {"publish", "subscribe"};
  k.date_created = k.date_updated = created;
  return k;
}

TEST_F(SqliteStoreTest, ApiKeyRoundTripUpdateListAndDelete) {
  const ApiKey key = make_key(main_.sid, 3000);
  ASSERT_TRUE(store_->write_sync(InsertApiKey{key}));
  EXPECT_EQ(store_->write_sync(InsertApiKey{key}).error().status, kConflict);  // same SID

  auto by_sid = store_->find_api_key_by_sid(key.sid);
  ASSERT_TRUE(by_sid && by_sid->has_value());
  EXPECT_EQ((*by_sid)->account_sid, main_.sid);
  EXPECT_EQ((*by_sid)->secret_hash, "s1$00$ff");
  EXPECT_EQ((*by_sid)->scopes, key.scopes);
  EXPECT_TRUE((*by_sid)->has_scope("publish"));
  EXPECT_FALSE((*by_sid)->has_scope("rest"));
  EXPECT_EQ((*by_sid)->date_created, 3000);
  // Scoped lookups see only the key's own account.
  const Account other = make_account();
  ASSERT_TRUE(store_->write_sync(InsertAccount{other}));
  EXPECT_TRUE(store_->find_api_key(main_.sid, key.sid)->has_value());
  EXPECT_FALSE(store_->find_api_key(other.sid, key.sid)->has_value());

  ApiKey changed = **by_sid;
  changed.friendly_name = "renamed";
  changed.scopes = {"rest"};
  changed.secret_hash = "ignored";  // the hash is fixed at creation
  changed.date_updated = 3100;
  ASSERT_TRUE(store_->write_sync(UpdateApiKey{changed}));
  auto again = store_->find_api_key(main_.sid, key.sid);
  EXPECT_EQ((*again)->friendly_name, "renamed");
  EXPECT_EQ((*again)->scopes, (std::set<std::string, std::less<>>{"rest"}));
  EXPECT_EQ((*again)->secret_hash, "s1$00$ff");
  EXPECT_EQ((*again)->date_updated, 3100);
  changed.account_sid = other.sid;  // not its account: no row matches
  EXPECT_EQ(store_->write_sync(UpdateApiKey{changed}).error().status, 404);

  std::vector<std::string> sids{key.sid};
  for (int i = 0; i < 2; ++i) {
    const ApiKey k = make_key(main_.sid, 3001 + i);
    sids.push_back(k.sid);
    ASSERT_TRUE(store_->write_sync(InsertApiKey{k}));
  }
  ASSERT_TRUE(store_->write_sync(InsertApiKey{make_key(other.sid, 3005)}));
  PageRequest first;
  first.limit = 2;
  auto page = store_->list_api_keys({main_.sid}, first);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_TRUE(page->has_more);
  EXPECT_EQ(page->items[0].sid, sids[0]);  // oldest first
  PageRequest next;
  next.after_id = page->items.back().id;
  auto rest = store_->list_api_keys({main_.sid}, next);
  ASSERT_EQ(rest->items.size(), 1u);
  EXPECT_EQ(rest->items[0].sid, sids[2]);
  EXPECT_FALSE(rest->has_more);

  EXPECT_EQ(store_->write_sync(DeleteApiKey{other.sid, key.sid}).error().status, 404);
  ASSERT_TRUE(store_->write_sync(DeleteApiKey{main_.sid, key.sid}));
  EXPECT_FALSE(store_->find_api_key_by_sid(key.sid)->has_value());
  EXPECT_EQ(store_->write_sync(DeleteApiKey{main_.sid, key.sid}).error().status, 404);
}

TEST_F(SqliteStoreTest, ApiKeyNeedsAnExistingAccount) {
  EXPECT_FALSE(store_->write_sync(InsertApiKey{make_key(make_sid("AC"), 3000)}));
}

}  // namespace
}  // namespace sb::store

namespace sb::store {
namespace {

TEST_F(SqliteStoreTest, CallsLeftUnfinishedByAnEarlierProcessAreEnded) {
  auto call = [&](const std::string& status, std::int64_t start) {
    Call c;
    c.sid = make_sid("CA");
    c.account_sid = main_.sid;
    c.status = status;
    c.start_time = start;
    c.date_created = c.date_updated = 1000;
    EXPECT_TRUE(store_->write_sync(InsertCall{c}));
    return c.sid;
  };
  const auto queued = call("queued", 0);
  const auto ringing = call("ringing", 0);
  const auto up = call("in-progress", 1100);
  const auto done = call("busy", 0);
  ASSERT_TRUE(store_->write_sync(CloseInterruptedCalls{1160}));
  auto get = [&](const std::string& sid) {
    return store_->find_call(main_.sid, sid).value().value();
  };
  EXPECT_EQ(get(queued).status, "canceled");
  EXPECT_EQ(get(ringing).status, "failed");
  EXPECT_EQ(get(ringing).duration, 0);
  EXPECT_EQ(get(up).status, "completed");
  EXPECT_EQ(get(up).duration, 60);
  EXPECT_EQ(get(up).end_time, 1160);
  EXPECT_EQ(get(done).status, "busy");  // ended calls stay as they were
  EXPECT_EQ(get(done).end_time, 0);
}

}  // namespace
}  // namespace sb::store

namespace sb::store {
namespace {

TEST_F(SqliteStoreTest, SipDomainsCredentialListsAndTheirMappings) {
  CredentialList list{0, make_sid("CL"), main_.sid, "staff", 10, 10};
  ASSERT_TRUE(store_->write_sync(SaveCredentialList{list, true}));
  SipCredential alice{0,         make_sid("CR"), main_.sid, list.sid, "alice", "switchboard",
                      "md5hash", "sha256hash",   10,        10};
  ASSERT_TRUE(store_->write_sync(SaveCredential{alice, true}));
  auto dup = alice;
  dup.sid = make_sid("CR");
  EXPECT_EQ(store_->write_sync(SaveCredential{dup, true}).error().status, kConflict);

  SipDomain domain;
  domain.sid = make_sid("SD");
  domain.account_sid = main_.sid;
  domain.domain_name = "office.example.test";
  domain.voice_url = "https://app.example/sip";
  domain.sip_registration = true;
  domain.date_created = domain.date_updated = 10;
  ASSERT_TRUE(store_->write_sync(SaveSipDomain{domain, true}));
  auto taken = domain;
  taken.sid = make_sid("SD");
  EXPECT_EQ(store_->write_sync(SaveSipDomain{taken, true}).error().status, kConflict);
  auto by_name = store_->find_sip_domain_by_name("office.example.test");
  ASSERT_TRUE(by_name && by_name->has_value());
  EXPECT_EQ((*by_name)->sid, domain.sid);
  EXPECT_TRUE((*by_name)->sip_registration);

  // Not mapped yet: nobody may register or call.
  auto none = store_->find_domain_user(domain.sid, MappingKind::kRegistrations, "alice");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  DomainMapping m{0, main_.sid, domain.sid, list.sid, MappingKind::kRegistrations, "", 11, 11};
  ASSERT_TRUE(store_->write_sync(InsertDomainMapping{m}));
  EXPECT_EQ(store_->write_sync(InsertDomainMapping{m}).error().status, kConflict);
  auto user = store_->find_domain_user(domain.sid, MappingKind::kRegistrations, "alice");
  ASSERT_TRUE(user && user->has_value());
  EXPECT_EQ((*user)->ha1_md5, "md5hash");
  EXPECT_EQ((*user)->ha1_sha256, "sha256hash");
  // A registrations mapping does not let alice call.
  EXPECT_FALSE(store_->find_domain_user(domain.sid, MappingKind::kCalls, "alice")->has_value());
  auto mappings =
      store_->list_domain_mappings({main_.sid, domain.sid, MappingKind::kRegistrations}, {});
  ASSERT_TRUE(mappings);
  ASSERT_EQ(mappings->items.size(), 1u);
  EXPECT_EQ(mappings->items[0].friendly_name, "staff");

  // A new password replaces the hashes.
  alice.ha1_md5 = "md5b";
  alice.date_updated = 12;
  ASSERT_TRUE(store_->write_sync(SaveCredential{alice, false}));
  EXPECT_EQ((*store_->find_credential(main_.sid, list.sid, alice.sid))->ha1_md5, "md5b");

  // Deleting the list takes its credentials and mappings with it.
  ASSERT_TRUE(store_->write_sync(DeleteCredentialList{main_.sid, list.sid}));
  EXPECT_FALSE(
      store_->find_domain_user(domain.sid, MappingKind::kRegistrations, "alice")->has_value());
  EXPECT_TRUE(store_->list_credentials({main_.sid, list.sid, {}}, {})->items.empty());
  EXPECT_TRUE(store_->list_domain_mappings({main_.sid, domain.sid, MappingKind::kRegistrations}, {})
                  ->items.empty());
  EXPECT_EQ(store_->write_sync(DeleteCredentialList{main_.sid, list.sid}).error().status, 404);
  // Another account cannot delete the domain.
  EXPECT_EQ(store_->write_sync(DeleteSipDomain{make_sid("AC"), domain.sid}).error().status, 404);
  ASSERT_TRUE(store_->write_sync(DeleteSipDomain{main_.sid, domain.sid}));
  EXPECT_FALSE(store_->find_sip_domain_by_name("office.example.test")->has_value());
}

}  // namespace
}  // namespace sb::store

namespace sb::store {
namespace {

TEST_F(SqliteStoreTest, CallQueueTimeIsKept) {
  Call c;
  c.sid = make_sid("CA");
  c.account_sid = main_.sid;
  c.direction = "outbound-api";
  c.date_created = c.date_updated = 10;
  ASSERT_TRUE(store_->write_sync(InsertCall{c}));
  EXPECT_EQ((*store_->find_call(main_.sid, c.sid))->queue_time_ms, 0);
  c.status = "ringing";
  c.queue_time_ms = 1234;  // known once it is dialled
  ASSERT_TRUE(store_->write_sync(UpdateCall{c}));
  EXPECT_EQ((*store_->find_call(main_.sid, c.sid))->queue_time_ms, 1234);
}

}  // namespace
}  // namespace sb::store
