// Conferences, queues and conference recordings in the SQLite store (and through the cache):
// every field round-trips, updates write only the mutable fields, the list filters, ordering and
// paging, account scoping, closing the conferences a previous process left open, and queue names
// unique per account.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/sid.hpp"
#include "store/cached_store.hpp"
#include "store/sqlite_store.hpp"
#include "support/counting_store.hpp"
#include "support/temp_dir.hpp"

namespace sb::store {
namespace {

using Sids = std::vector<std::string>;

constexpr std::int64_t kDec1 = 1796083200;  // 2026-12-01 00:00:00 GMT
constexpr std::int64_t kDay = 86400;

Conference make_conference(const std::string& account, const std::string& name,
                           std::int64_t created) {
  Conference c;
  c.sid = make_sid("CF");
  c.account_sid = account;
  c.friendly_name = name;
  c.date_created = c.date_updated = created;
  return c;
}

Queue make_queue(const std::string& account, const std::string& name, std::int64_t created) {
  Queue q;
  q.sid = make_sid("QU");
  q.account_sid = account;
  q.friendly_name = name;
  q.date_created = q.date_updated = created;
  return q;
}

Recording make_recording(const std::string& account, const std::string& call,
                         const std::string& conference, std::int64_t created) {
  Recording r;
  r.sid = make_sid("RE");
  r.account_sid = account;
  r.call_sid = call;
  r.conference_sid = conference;
  r.source = conference.empty() ? "RecordVerb" : "Conference";
  r.media_path = r.sid + ".wav";
  r.date_created = r.date_updated = created;
  return r;
}

// Every field, so that one comparison checks the whole row.
std::string describe(const Conference& c) {
  return std::to_string(c.id) + "|" + c.sid + "|" + c.account_sid + "|" + c.friendly_name + "|" +
         c.status + "|" + c.region + "|" + c.reason_conference_ended + "|" +
         c.call_sid_ending_conference + "|" + std::to_string(c.date_created) + "|" +
         std::to_string(c.date_updated);
}

std::string describe(const Queue& q) {
  return std::to_string(q.id) + "|" + q.sid + "|" + q.account_sid + "|" + q.friendly_name + "|" +
         std::to_string(q.max_size) + "|" + std::to_string(q.date_created) + "|" +
         std::to_string(q.date_updated);
}

class ConferenceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    auto s = SqliteStore::open(dir_.file("sb.db"));
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(s.value());
  }

  Conference get_conference(const std::string& sid, const std::string& account = kAccount) {
    auto found = store_->find_conference(account, sid);
    EXPECT_TRUE(found) << found.error().message;
    EXPECT_TRUE(found && found->has_value()) << sid;
    return found && found->has_value() ? **found : Conference{};
  }

  Queue get_queue(const std::string& sid, const std::string& account = kAccount) {
    auto found = store_->find_queue(account, sid);
    EXPECT_TRUE(found) << found.error().message;
    EXPECT_TRUE(found && found->has_value()) << sid;
    return found && found->has_value() ? **found : Queue{};
  }

  Sids conferences(ConferenceFilter filter, PageRequest page = {}) {
    if (filter.account_sid.empty()) filter.account_sid = kAccount;
    auto rows = store_->list_conferences(filter, page);
    EXPECT_TRUE(rows) << rows.error().message;
    Sids out;
    if (rows) {
      for (const auto& c : rows->items) out.push_back(c.sid);
    }
    return out;
  }

  Sids queues(const std::string& account, PageRequest page = {}) {
    auto rows = store_->list_queues(account, page);
    EXPECT_TRUE(rows) << rows.error().message;
    Sids out;
    if (rows) {
      for (const auto& q : rows->items) out.push_back(q.sid);
    }
    return out;
  }

  Sids recordings(RecordingFilter filter, PageRequest page = {}) {
    if (filter.account_sid.empty()) filter.account_sid = kAccount;
    auto rows = store_->list_recordings(filter, page);
    EXPECT_TRUE(rows) << rows.error().message;
    Sids out;
    if (rows) {
      for (const auto& r : rows->items) out.push_back(r.sid);
    }
    return out;
  }

  std::string insert(const Conference& c) {
    EXPECT_TRUE(store_->write_sync(InsertConference{c}));
    return c.sid;
  }

  static inline const std::string kAccount = "AC0123456789abcdef0123456789abcdef";
  static inline const std::string kOther = "ACfedcba9876543210fedcba9876543210";
  testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(ConferenceStoreTest, EveryConferenceFieldRoundTrips) {
  Conference c = make_conference(kAccount, "Room 1234 \"blue\", \xe2\x9c\x93", 1000);
  c.status = "completed";
  c.region = "ie1";
  c.reason_conference_ended = "participant-with-end-conference-on-exit-left";
  c.call_sid_ending_conference = "CA0123456789abcdef0123456789abcdef";
  c.date_created = 1000;
  c.date_updated = 1234;
  ASSERT_TRUE(store_->write_sync(InsertConference{c}));

  Conference found = get_conference(c.sid);
  EXPECT_GT(found.id, 0);
  c.id = found.id;  // the only field the store chooses
  EXPECT_EQ(describe(found), describe(c));

  // A bare row keeps the model's defaults.
  Conference plain = make_conference(kAccount, "plain", 1001);
  ASSERT_TRUE(store_->write_sync(InsertConference{plain}));
  Conference plain_found = get_conference(plain.sid);
  EXPECT_GT(plain_found.id, found.id);
  plain.id = plain_found.id;
  EXPECT_EQ(describe(plain_found), describe(plain));
  EXPECT_EQ(plain_found.status, "init");
  EXPECT_EQ(plain_found.region, "");
  EXPECT_EQ(plain_found.reason_conference_ended, "");

  // A conference is its account's alone; an unknown SID is no row, not an error.
  auto theirs = store_->find_conference(kOther, c.sid);
  ASSERT_TRUE(theirs);
  EXPECT_FALSE(theirs->has_value());
  auto missing = store_->find_conference(kAccount, make_sid("CF"));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());

  // A duplicate SID conflicts and changes nothing.
  Conference dup = plain;
  dup.friendly_name = "another";
  auto s = store_->write_sync(InsertConference{dup});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().status, kConflict);
  EXPECT_EQ(get_conference(plain.sid).friendly_name, "plain");
}

TEST_F(ConferenceStoreTest, ConferenceUpdateWritesTheMutableFieldsOnly) {
  Conference c = make_conference(kAccount, "room", 1000);
  ASSERT_TRUE(store_->write_sync(InsertConference{c}));
  Conference changed = get_conference(c.sid);
  const Conference before = changed;
  changed.status = "completed";
  changed.region = "us1";
  changed.reason_conference_ended = "conference-ended-via-api";
  changed.call_sid_ending_conference = "CA0123456789abcdef0123456789abcdef";
  changed.date_updated = 1500;
  // Not mutable: these stay as inserted.
  changed.friendly_name = "renamed";
  changed.date_created = 1;
  ASSERT_TRUE(store_->write_sync(UpdateConference{changed}));

  Conference expected = before;
  expected.status = "completed";
  expected.region = "us1";
  expected.reason_conference_ended = "conference-ended-via-api";
  expected.call_sid_ending_conference = "CA0123456789abcdef0123456789abcdef";
  expected.date_updated = 1500;
  EXPECT_EQ(describe(get_conference(c.sid)), describe(expected));

  // Another account's, or a missing conference: not found, and nothing changes.
  Conference foreign = changed;
  foreign.account_sid = kOther;
  foreign.status = "in-progress";
  auto s = store_->write_sync(UpdateConference{foreign});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().status, 404);
  EXPECT_EQ(get_conference(c.sid).status, "completed");
  auto ghost = store_->write_sync(UpdateConference{make_conference(kAccount, "ghost", 1)});
  ASSERT_FALSE(ghost);
  EXPECT_EQ(ghost.error().status, 404);
}

TEST_F(ConferenceStoreTest, ListConferencesFiltersByNameStatusAndDates) {
  auto add = [&](const std::string& name, const std::string& status, std::int64_t created,
                 std::int64_t updated, const std::string& account = kAccount) {
    Conference c = make_conference(account, name, created);
    c.status = status;
    c.date_updated = updated;
    return insert(c);
  };
  const Sids rows = {
      add("alpha", "completed", kDec1 - 1, kDec1 + kDay),               // 0: created Nov 30
      add("beta", "in-progress", kDec1, kDec1),                         // 1: created Dec 1 00:00
      add("alpha", "in-progress", kDec1 + 3600, kDec1 + 3600),          // 2: Dec 1 01:00
      add("alpha", "init", kDec1 + kDay - 1, kDec1 + kDay - 1),         // 3: Dec 1 23:59:59
      add("gamma", "completed", kDec1 + kDay, kDec1 + 2 * kDay),        // 4: created Dec 2
      add("alpha", "in-progress", kDec1 + 3600, kDec1 + 3600, kOther),  // another account's
  };
  EXPECT_EQ(conferences({}), (Sids{rows[4], rows[3], rows[2], rows[1], rows[0]}));

  ConferenceFilter alpha;  // FriendlyName: exact
  alpha.friendly_name = "alpha";
  EXPECT_EQ(conferences(alpha), (Sids{rows[3], rows[2], rows[0]}));
  ConferenceFilter prefix;
  prefix.friendly_name = "alph";
  EXPECT_TRUE(conferences(prefix).empty());
  ConferenceFilter in_progress;
  in_progress.status = "in-progress";
  EXPECT_EQ(conferences(in_progress), (Sids{rows[2], rows[1]}));
  ConferenceFilter alpha_in_progress;
  alpha_in_progress.friendly_name = "alpha";
  alpha_in_progress.status = "in-progress";
  EXPECT_EQ(conferences(alpha_in_progress), (Sids{rows[2]}));
  ConferenceFilter alpha_completed;
  alpha_completed.friendly_name = "alpha";
  alpha_completed.status = "completed";
  EXPECT_EQ(conferences(alpha_completed), (Sids{rows[0]}));

  ConferenceFilter created_dec1;  // DateCreated=2026-12-01
  created_dec1.created_on_day_start = kDec1;
  EXPECT_EQ(conferences(created_dec1), (Sids{rows[3], rows[2], rows[1]}));
  ConferenceFilter created_before;  // DateCreated<: on or before
  created_before.created_before = kDec1;
  EXPECT_EQ(conferences(created_before), (Sids{rows[1], rows[0]}));
  ConferenceFilter created_after;  // DateCreated>: on or after
  created_after.created_after = kDec1 + kDay - 1;
  EXPECT_EQ(conferences(created_after), (Sids{rows[4], rows[3]}));
  ConferenceFilter created_window;
  created_window.created_after = kDec1;
  created_window.created_before = kDec1 + 3600;
  EXPECT_EQ(conferences(created_window), (Sids{rows[2], rows[1]}));

  ConferenceFilter updated_dec2;  // DateUpdated=2026-12-02: by date_updated, not date_created
  updated_dec2.updated_on_day_start = kDec1 + kDay;
  EXPECT_EQ(conferences(updated_dec2), (Sids{rows[0]}));
  ConferenceFilter updated_before;
  updated_before.updated_before = kDec1 + 3600;
  EXPECT_EQ(conferences(updated_before), (Sids{rows[2], rows[1]}));
  ConferenceFilter updated_after;
  updated_after.updated_after = kDec1 + kDay;
  EXPECT_EQ(conferences(updated_after), (Sids{rows[4], rows[0]}));

  // Filters combine; an empty window lists nothing.
  ConferenceFilter mixed;
  mixed.friendly_name = "alpha";
  mixed.created_on_day_start = kDec1;
  mixed.updated_before = kDec1 + 3600;
  EXPECT_EQ(conferences(mixed), (Sids{rows[2]}));
  ConferenceFilter empty_window;
  empty_window.created_on_day_start = kDec1;
  empty_window.created_after = kDec1 + kDay;
  EXPECT_TRUE(conferences(empty_window).empty());
  ConferenceFilter nobody;
  nobody.status = "ringing";
  EXPECT_TRUE(conferences(nobody).empty());

  ConferenceFilter theirs;
  theirs.account_sid = kOther;
  EXPECT_EQ(conferences(theirs), (Sids{rows[5]}));
  ConferenceFilter theirs_named;
  theirs_named.account_sid = kOther;
  theirs_named.friendly_name = "beta";
  EXPECT_TRUE(conferences(theirs_named).empty());
}

// Newest first by date_created, whatever the insertion order, and by id among equal dates; the
// keyset cursor (a page's last id) resumes below that row in the same order.
TEST_F(ConferenceStoreTest, ListConferencesNewestFirstWithPaging) {
  const std::string mid = insert(make_conference(kAccount, "r", 2000));
  const std::string newest = insert(make_conference(kAccount, "r", 3000));
  const std::string oldest = insert(make_conference(kAccount, "r", 1000));  // inserted late
  const std::string tie_first = insert(make_conference(kAccount, "r", 2000));
  const std::string tie_last = insert(make_conference(kAccount, "r", 2000));
  insert(make_conference(kOther, "r", 2500));
  const Sids all = {newest, tie_last, tie_first, mid, oldest};
  EXPECT_EQ(conferences({}), all);

  ConferenceFilter filter;
  filter.account_sid = kAccount;
  Sids walked;
  PageRequest page{0, 0, 2};
  const std::vector<std::size_t> sizes = {2, 2, 1};
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    auto p = store_->list_conferences(filter, page);
    ASSERT_TRUE(p) << p.error().message;
    ASSERT_EQ(p->items.size(), sizes[i]) << "page " << i;
    EXPECT_EQ(p->has_more, i + 1 < sizes.size()) << "page " << i;
    for (const auto& c : p->items) walked.push_back(c.sid);
    page.after_id = p->items.back().id;
  }
  EXPECT_EQ(walked, all);

  // The same with a filter in force (another statement), and offset paging.
  ConferenceFilter named;
  named.friendly_name = "r";
  auto first = store_->list_conferences({kAccount, "r", "", {}, {}, {}, {}, {}, {}}, {0, 0, 3});
  ASSERT_TRUE(first);
  ASSERT_EQ(first->items.size(), 3u);
  EXPECT_TRUE(first->has_more);
  EXPECT_EQ(conferences(named, {first->items.back().id, 0, 3}), (Sids{mid, oldest}));
  EXPECT_EQ(conferences({}, {0, 3, 10}), (Sids{mid, oldest}));
  EXPECT_EQ(conferences(named, {0, 1, 2}), (Sids{tie_last, tie_first}));
  auto last = store_->list_conferences(filter, {0, 4, 1});
  ASSERT_TRUE(last);
  ASSERT_EQ(last->items.size(), 1u);
  EXPECT_FALSE(last->has_more);
  EXPECT_EQ(last->items[0].sid, oldest);
}

TEST_F(ConferenceStoreTest, CloseInterruptedConferencesCompletesTheOpenOnes) {
  auto add = [&](const std::string& status, const std::string& account = kAccount) {
    Conference c = make_conference(account, "room " + status, 1000);
    c.status = status;
    c.date_updated = 1100;
    if (status == "completed") {
      c.reason_conference_ended = "conference-ended-via-api";
      c.call_sid_ending_conference = "CA0123456789abcdef0123456789abcdef";
    }
    return insert(c);
  };
  const std::string waiting = add("init");
  const std::string running = add("in-progress");
  const std::string theirs = add("in-progress", kOther);  // every account's
  const std::string ended = add("completed");
  ASSERT_TRUE(store_->write_sync(CloseInterruptedConferences{5000}));

  for (const auto& [sid, account] :
       {std::pair{waiting, kAccount}, std::pair{running, kAccount}, std::pair{theirs, kOther}}) {
    Conference c = get_conference(sid, account);
    EXPECT_EQ(c.status, "completed") << sid;
    EXPECT_EQ(c.reason_conference_ended, "last-participant-left") << sid;
    EXPECT_EQ(c.call_sid_ending_conference, "") << sid;
    EXPECT_EQ(c.date_updated, 5000) << sid;
    EXPECT_EQ(c.date_created, 1000) << sid;
  }
  // One that had ended keeps how and when it ended.
  Conference done = get_conference(ended);
  EXPECT_EQ(done.status, "completed");
  EXPECT_EQ(done.reason_conference_ended, "conference-ended-via-api");
  EXPECT_EQ(done.call_sid_ending_conference, "CA0123456789abcdef0123456789abcdef");
  EXPECT_EQ(done.date_updated, 1100);

  ConferenceFilter open;
  open.status = "in-progress";
  EXPECT_TRUE(conferences(open).empty());
  // Nothing left to close is no error.
  ASSERT_TRUE(store_->write_sync(CloseInterruptedConferences{6000}));
  EXPECT_EQ(get_conference(running).date_updated, 5000);
}

TEST_F(ConferenceStoreTest, QueuesAreFoundBySidAndByNameInTheirAccount) {
  Queue q = make_queue(kAccount, "support \"tier 1\" \xe2\x9c\x93", 1000);
  q.max_size = 25;
  q.date_updated = 1001;
  ASSERT_TRUE(store_->write_sync(InsertQueue{q}));
  Queue found = get_queue(q.sid);
  EXPECT_GT(found.id, 0);
  q.id = found.id;
  EXPECT_EQ(describe(found), describe(q));

  Queue plain = make_queue(kAccount, "plain", 1002);
  ASSERT_TRUE(store_->write_sync(InsertQueue{plain}));
  EXPECT_EQ(get_queue(plain.sid).max_size, 1000);  // the default

  auto by_name = store_->find_queue_by_name(kAccount, q.friendly_name);
  ASSERT_TRUE(by_name && by_name->has_value());
  EXPECT_EQ(describe(**by_name), describe(q));
  auto other_name = store_->find_queue_by_name(kAccount, "plain");
  ASSERT_TRUE(other_name && other_name->has_value());
  EXPECT_EQ((*other_name)->sid, plain.sid);
  auto prefix = store_->find_queue_by_name(kAccount, "support");
  ASSERT_TRUE(prefix);
  EXPECT_FALSE(prefix->has_value());

  // Another account sees neither, by SID or by name.
  auto theirs = store_->find_queue(kOther, q.sid);
  ASSERT_TRUE(theirs);
  EXPECT_FALSE(theirs->has_value());
  auto theirs_by_name = store_->find_queue_by_name(kOther, q.friendly_name);
  ASSERT_TRUE(theirs_by_name);
  EXPECT_FALSE(theirs_by_name->has_value());
  auto missing = store_->find_queue(kAccount, make_sid("QU"));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST_F(ConferenceStoreTest, QueueNamesAreUniquePerAccount) {
  Queue sales = make_queue(kAccount, "sales", 1000);
  Queue support = make_queue(kAccount, "support", 1000);
  ASSERT_TRUE(store_->write_sync(InsertQueue{sales}));
  ASSERT_TRUE(store_->write_sync(InsertQueue{support}));

  // Insert: the account's name again conflicts; another account may have it.
  Queue again = make_queue(kAccount, "sales", 1001);
  auto s = store_->write_sync(InsertQueue{again});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().status, kConflict);
  EXPECT_FALSE(store_->find_queue(kAccount, again.sid)->has_value());
  Queue theirs = make_queue(kOther, "sales", 1001);
  ASSERT_TRUE(store_->write_sync(InsertQueue{theirs}));
  EXPECT_EQ((*store_->find_queue_by_name(kOther, "sales"))->sid, theirs.sid);
  EXPECT_EQ((*store_->find_queue_by_name(kAccount, "sales"))->sid, sales.sid);
  Queue dup_sid = make_queue(kAccount, "fresh", 1001);
  dup_sid.sid = sales.sid;
  auto dup = store_->write_sync(InsertQueue{dup_sid});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().status, kConflict);

  // Update: taking another queue's name conflicts and changes nothing.
  Queue renamed = get_queue(support.sid);
  renamed.friendly_name = "sales";
  renamed.max_size = 7;
  auto clash = store_->write_sync(UpdateQueue{renamed});
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().status, kConflict);
  EXPECT_EQ(get_queue(support.sid).friendly_name, "support");
  EXPECT_EQ(get_queue(support.sid).max_size, 1000);
  // Keeping its own name is no clash, and a name given up is free again.
  Queue same = get_queue(support.sid);
  same.max_size = 8;
  ASSERT_TRUE(store_->write_sync(UpdateQueue{same}));
  same.friendly_name = "help";
  ASSERT_TRUE(store_->write_sync(UpdateQueue{same}));
  EXPECT_FALSE(store_->find_queue_by_name(kAccount, "support")->has_value());
  ASSERT_TRUE(store_->write_sync(InsertQueue{make_queue(kAccount, "support", 1002)}));
}

TEST_F(ConferenceStoreTest, QueueUpdateAndDelete) {
  Queue q = make_queue(kAccount, "support", 1000);
  ASSERT_TRUE(store_->write_sync(InsertQueue{q}));
  Queue changed = get_queue(q.sid);
  const Queue before = changed;
  changed.friendly_name = "help desk";
  changed.max_size = 50;
  changed.date_updated = 1500;
  changed.date_created = 1;  // not mutable
  ASSERT_TRUE(store_->write_sync(UpdateQueue{changed}));
  Queue expected = before;
  expected.friendly_name = "help desk";
  expected.max_size = 50;
  expected.date_updated = 1500;
  EXPECT_EQ(describe(get_queue(q.sid)), describe(expected));
  EXPECT_EQ((*store_->find_queue_by_name(kAccount, "help desk"))->sid, q.sid);

  // Another account's, or a missing queue: not found, and nothing changes.
  Queue foreign = changed;
  foreign.account_sid = kOther;
  foreign.max_size = 1;
  auto s = store_->write_sync(UpdateQueue{foreign});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().status, 404);
  EXPECT_EQ(get_queue(q.sid).max_size, 50);
  auto ghost = store_->write_sync(UpdateQueue{make_queue(kAccount, "ghost", 1)});
  ASSERT_FALSE(ghost);
  EXPECT_EQ(ghost.error().status, 404);

  auto not_theirs = store_->write_sync(DeleteQueue{kOther, q.sid});
  ASSERT_FALSE(not_theirs);
  EXPECT_EQ(not_theirs.error().status, 404);
  EXPECT_TRUE(store_->find_queue(kAccount, q.sid)->has_value());
  ASSERT_TRUE(store_->write_sync(DeleteQueue{kAccount, q.sid}));
  EXPECT_FALSE(store_->find_queue(kAccount, q.sid)->has_value());
  EXPECT_FALSE(store_->find_queue_by_name(kAccount, "help desk")->has_value());
  auto again = store_->write_sync(DeleteQueue{kAccount, q.sid});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().status, 404);
  auto never = store_->write_sync(DeleteQueue{kAccount, make_sid("QU")});
  ASSERT_FALSE(never);
  EXPECT_EQ(never.error().status, 404);
  // Its name is free again.
  ASSERT_TRUE(store_->write_sync(InsertQueue{make_queue(kAccount, "help desk", 1600)}));
}

TEST_F(ConferenceStoreTest, ListQueuesOldestFirstWithPaging) {
  Sids mine;
  for (int i = 0; i < 5; ++i) {
    // Creation dates against insertion order: the list is by row, oldest first.
    Queue q = make_queue(kAccount, "queue " + std::to_string(i), 2000 - i);
    ASSERT_TRUE(store_->write_sync(InsertQueue{q}));
    mine.push_back(q.sid);
    if (i == 2) {
      ASSERT_TRUE(store_->write_sync(InsertQueue{make_queue(kOther, "theirs", 1)}));
    }
  }
  EXPECT_EQ(queues(kAccount), mine);
  EXPECT_EQ(queues(kOther).size(), 1u);
  EXPECT_TRUE(queues("AC00000000000000000000000000000000").empty());

  auto p1 = store_->list_queues(kAccount, {0, 0, 2});
  ASSERT_TRUE(p1);
  ASSERT_EQ(p1->items.size(), 2u);
  EXPECT_TRUE(p1->has_more);
  EXPECT_EQ(p1->items[0].sid, mine[0]);
  EXPECT_EQ(p1->items[1].sid, mine[1]);
  auto p2 = store_->list_queues(kAccount, {p1->items.back().id, 0, 2});
  ASSERT_TRUE(p2);
  ASSERT_EQ(p2->items.size(), 2u);
  EXPECT_TRUE(p2->has_more);
  EXPECT_EQ(p2->items[0].sid, mine[2]);
  EXPECT_EQ(p2->items[1].sid, mine[3]);
  auto p3 = store_->list_queues(kAccount, {p2->items.back().id, 0, 2});
  ASSERT_TRUE(p3);
  ASSERT_EQ(p3->items.size(), 1u);
  EXPECT_FALSE(p3->has_more);
  EXPECT_EQ(p3->items[0].sid, mine[4]);
  EXPECT_EQ(queues(kAccount, {0, 3, 10}), (Sids{mine[3], mine[4]}));
  auto exact = store_->list_queues(kAccount, {0, 0, 5});
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->items.size(), 5u);
  EXPECT_FALSE(exact->has_more);
}

TEST_F(ConferenceStoreTest, RecordingsKeepAndFilterByTheirConference) {
  const std::string room = make_sid("CF"), other_room = make_sid("CF");
  const std::string call_a = make_sid("CA"), call_b = make_sid("CA");
  Recording of_room = make_recording(kAccount, call_a, room, kDec1);
  ASSERT_TRUE(store_->write_sync(InsertRecording{of_room}));
  auto found = store_->find_recording(kAccount, of_room.sid);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->conference_sid, room);
  EXPECT_EQ((*found)->source, "Conference");
  EXPECT_EQ((*found)->call_sid, call_a);

  const Sids rows = {
      of_room.sid,
      [&] {
        Recording r = make_recording(kAccount, call_a, "", kDec1 + 10);  // not of a conference
        EXPECT_TRUE(store_->write_sync(InsertRecording{r}));
        return r.sid;
      }(),
      [&] {
        Recording r = make_recording(kAccount, call_b, room, kDec1 + kDay);
        EXPECT_TRUE(store_->write_sync(InsertRecording{r}));
        return r.sid;
      }(),
      [&] {
        Recording r = make_recording(kAccount, call_b, other_room, kDec1 + 20);
        EXPECT_TRUE(store_->write_sync(InsertRecording{r}));
        return r.sid;
      }(),
      [&] {
        Recording r = make_recording(kAccount, call_a, room, kDec1 + 30);
        EXPECT_TRUE(store_->write_sync(InsertRecording{r}));
        return r.sid;
      }(),
      [&] {
        Recording r = make_recording(kOther, call_a, room, kDec1);  // another account's
        EXPECT_TRUE(store_->write_sync(InsertRecording{r}));
        return r.sid;
      }(),
  };
  auto plain = store_->find_recording(kAccount, rows[1]);
  ASSERT_TRUE(plain && plain->has_value());
  EXPECT_EQ((*plain)->conference_sid, "");

  EXPECT_EQ(recordings({}), (Sids{rows[4], rows[3], rows[2], rows[1], rows[0]}));
  RecordingFilter in_room;
  in_room.conference_sid = room;
  EXPECT_EQ(recordings(in_room), (Sids{rows[4], rows[2], rows[0]}));
  RecordingFilter in_other_room;
  in_other_room.conference_sid = other_room;
  EXPECT_EQ(recordings(in_other_room), (Sids{rows[3]}));
  RecordingFilter room_and_call;
  room_and_call.conference_sid = room;
  room_and_call.call_sid = call_b;
  EXPECT_EQ(recordings(room_and_call), (Sids{rows[2]}));
  RecordingFilter room_on_dec1;
  room_on_dec1.conference_sid = room;
  room_on_dec1.created_on_day_start = kDec1;
  EXPECT_EQ(recordings(room_on_dec1), (Sids{rows[4], rows[0]}));
  RecordingFilter no_room;
  no_room.conference_sid = make_sid("CF");
  EXPECT_TRUE(recordings(no_room).empty());
  RecordingFilter theirs;
  theirs.account_sid = kOther;
  theirs.conference_sid = room;
  EXPECT_EQ(recordings(theirs), (Sids{rows[5]}));

  // Paging within a conference's recordings.
  RecordingFilter paged = in_room;
  paged.account_sid = kAccount;
  auto p1 = store_->list_recordings(paged, {0, 0, 2});
  ASSERT_TRUE(p1);
  ASSERT_EQ(p1->items.size(), 2u);
  EXPECT_TRUE(p1->has_more);
  auto p2 = store_->list_recordings(paged, {p1->items.back().id, 0, 2});
  ASSERT_TRUE(p2);
  ASSERT_EQ(p2->items.size(), 1u);
  EXPECT_FALSE(p2->has_more);
  EXPECT_EQ(p2->items[0].sid, rows[0]);

  // An update writes the conference SID with the other mutable fields.
  Recording moved = **store_->find_recording(kAccount, rows[1]);
  moved.conference_sid = other_room;
  moved.status = "processing";
  ASSERT_TRUE(store_->write_sync(UpdateRecording{moved}));
  auto after = store_->find_recording(kAccount, rows[1]);
  ASSERT_TRUE(after && after->has_value());
  EXPECT_EQ((*after)->conference_sid, other_room);
  EXPECT_EQ((*after)->status, "processing");
  EXPECT_EQ(recordings(in_other_room), (Sids{rows[3], rows[1]}));
}

TEST_F(ConferenceStoreTest, ConferencesAndQueuesSurviveCloseAndReopen) {
  Conference c = make_conference(kAccount, "room", 1000);
  c.status = "in-progress";
  c.region = "us1";
  ASSERT_TRUE(store_->write_sync(InsertConference{c}));
  Queue q = make_queue(kAccount, "support", 1000);
  q.max_size = 3;
  ASSERT_TRUE(store_->write_sync(InsertQueue{q}));
  Recording r = make_recording(kAccount, make_sid("CA"), c.sid, 1000);
  ASSERT_TRUE(store_->write_sync(InsertRecording{r}));
  store_->close();
  store_.reset();
  open();
  ASSERT_TRUE(store_);
  Conference found = get_conference(c.sid);
  EXPECT_EQ(found.status, "in-progress");
  EXPECT_EQ(found.region, "us1");
  EXPECT_EQ(get_queue(q.sid).max_size, 3);
  EXPECT_EQ((*store_->find_recording(kAccount, r.sid))->conference_sid, c.sid);
}

// The cache keeps no conferences or queues: every read reaches the store beneath, and writes
// pass through.
TEST_F(ConferenceStoreTest, TheCachePassesConferencesAndQueuesThrough) {
  testing::CountingStore counting(*store_);
  auto cache = CachedStore::open(counting);
  ASSERT_TRUE(cache) << cache.error().message;
  CachedStore& cached = **cache;
  Conference c = make_conference(kAccount, "room", 1000);
  ASSERT_TRUE(cached.write_sync(InsertConference{c}));
  Queue q = make_queue(kAccount, "support", 1000);
  ASSERT_TRUE(cached.write_sync(InsertQueue{q}));
  counting.reset();

  auto found = cached.find_conference(kAccount, c.sid);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->friendly_name, "room");
  ConferenceFilter filter;
  filter.account_sid = kAccount;
  filter.friendly_name = "room";
  auto listed = cached.list_conferences(filter, {});
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0].sid, c.sid);
  auto queue = cached.find_queue(kAccount, q.sid);
  ASSERT_TRUE(queue && queue->has_value());
  EXPECT_EQ((*queue)->friendly_name, "support");
  auto by_name = cached.find_queue_by_name(kAccount, "support");
  ASSERT_TRUE(by_name && by_name->has_value());
  EXPECT_EQ((*by_name)->sid, q.sid);
  auto all = cached.list_queues(kAccount, {});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->items.size(), 1u);
  EXPECT_EQ(all->items[0].sid, q.sid);
  EXPECT_EQ(counting.reads(), 5);

  Conference ended = **found;
  ended.status = "completed";
  ASSERT_TRUE(cached.write_sync(UpdateConference{ended}));
  EXPECT_EQ((*cached.find_conference(kAccount, c.sid))->status, "completed");
  Conference open_one = make_conference(kAccount, "open", 1001);
  ASSERT_TRUE(cached.write_sync(InsertConference{open_one}));
  ASSERT_TRUE(cached.write_sync(CloseInterruptedConferences{2000}));
  EXPECT_EQ((*store_->find_conference(kAccount, open_one.sid))->status, "completed");
  Queue renamed = **queue;
  renamed.friendly_name = "help";
  ASSERT_TRUE(cached.write_sync(UpdateQueue{renamed}));
  EXPECT_EQ((*store_->find_queue(kAccount, q.sid))->friendly_name, "help");
  auto clash = cached.write_sync(InsertQueue{make_queue(kAccount, "help", 1002)});
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().status, kConflict);
  ASSERT_TRUE(cached.write_sync(DeleteQueue{kAccount, q.sid}));
  EXPECT_FALSE(store_->find_queue(kAccount, q.sid)->has_value());
}

}  // namespace
}  // namespace sb::store
