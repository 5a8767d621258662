// Messages, their media and messaging opt-outs in the SQLite store (and through the cache):
// every field round-trips, the media go and come with their message, the list filters and
// paging, the start-up list of unfinished messages, and opt-outs scoped to account and number.
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

Message make_message(const std::string& account, std::int64_t created) {
  Message m;
  m.sid = make_sid(sid_prefix::kMessage);
  m.account_sid = account;
  m.from = "+14155550100";
  m.to = "+14155550199";
  m.body = "hello";
  m.date_created = m.date_updated = created;
  return m;
}

MessageMedia make_media(std::string content_type, std::string data, std::int64_t created) {
  MessageMedia m;
  m.sid = make_sid(sid_prefix::kMedia);
  m.content_type = std::move(content_type);
  m.data = std::move(data);
  m.date_created = m.date_updated = created;
  return m;
}

// Every field, so that one comparison checks the whole row.
std::string describe(const Message& m) {
  std::string urls;
  for (const auto& u : m.media_urls) urls += "[" + u + "]";
  return std::to_string(m.id) + "|" + m.sid + "|" + m.account_sid + "|" + m.messaging_service_sid +
         "|" + m.from + "|" + m.to + "|" + m.body + "|" + m.status + "|" + m.direction + "|" +
         std::to_string(m.num_segments) + "|" + std::to_string(m.num_media) + "|" +
         std::to_string(m.error_code) + "|" + m.error_message + "|" + m.status_callback + "|" +
         m.status_callback_method + "|" + m.application_sid + "|" +
         std::to_string(m.media_urls.size()) + urls + "|" + std::to_string(m.validity_period) +
         "|" + std::to_string(m.send_at) + "|" + std::to_string(m.date_created) + "|" +
         std::to_string(m.date_updated) + "|" + std::to_string(m.date_sent);
}

class MessageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteStore::open(dir_.file("sb.db"));
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(s.value());
  }

  Message get(const std::string& sid, const std::string& account = kAccount) {
    auto found = store_->find_message(account, sid);
    EXPECT_TRUE(found) << found.error().message;
    EXPECT_TRUE(found && found->has_value()) << sid;
    return found && found->has_value() ? **found : Message{};
  }

  Sids listed(MessageFilter filter, PageRequest page = {}) {
    if (filter.account_sid.empty()) filter.account_sid = kAccount;
    auto rows = store_->list_messages(filter, page);
    EXPECT_TRUE(rows) << rows.error().message;
    Sids out;
    if (rows) {
      for (const auto& m : rows->items) out.push_back(m.sid);
    }
    return out;
  }

  Sids unfinished(std::size_t limit) {
    auto rows = store_->list_unfinished_messages(limit);
    EXPECT_TRUE(rows) << rows.error().message;
    Sids out;
    if (rows) {
      for (const auto& m : *rows) out.push_back(m.sid);
    }
    return out;
  }

  bool opted_out(const std::string& account, const std::string& number,
                 const std::string& address) {
    auto r = store_->is_opted_out(account, number, address);
    EXPECT_TRUE(r) << r.error().message;
    return r && *r;
  }

  static inline const std::string kAccount = "AC0123456789abcdef0123456789abcdef";
  static inline const std::string kOther = "ACfedcba9876543210fedcba9876543210";
  testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(MessageStoreTest, EveryFieldRoundTrips) {
  Message m = make_message(kAccount, 1000);
  m.messaging_service_sid = "MG0123456789abcdef0123456789abcdef";
  m.from = "whatsapp:+14155550100";
  m.to = "+447700900123";
  m.body = "line one\nline two, \"quoted\" \xe2\x9c\x93";
  m.status = "sending";
  m.direction = "outbound-reply";
  m.num_segments = 3;
  m.num_media = 2;
  m.error_code = 30007;
  m.error_message = "Carrier violation";
  m.status_callback = "https://app.example/status?a=1,2";
  m.status_callback_method = "GET";
  m.application_sid = "AP0123456789abcdef0123456789abcdef";
  m.media_urls = {"https://cdn.example/a.jpg?x=1,2,3",
                  "https://cdn.example/b\nc.png",
                  "",
                  "https://cdn.example/\"q\"\\back\tslash",
                  "https://cdn.example/\xe2\x9c\x93/\xff\x01raw",
                  std::string("https://cdn.example/nul\0byte", 28),
                  "[\"not\",\"an\",\"array\"]"};
  m.validity_period = 600;
  m.send_at = 1900;
  m.date_created = 1000;
  m.date_updated = 1001;
  m.date_sent = 1002;
  ASSERT_TRUE(store_->write_sync(InsertMessage{m, {}}));

  Message found = get(m.sid);
  EXPECT_GT(found.id, 0);
  m.id = found.id;  // the only field the store chooses
  EXPECT_EQ(describe(found), describe(m));
  EXPECT_EQ(found.media_urls, m.media_urls);
  ASSERT_EQ(found.media_urls.size(), 7u);
  EXPECT_EQ(found.media_urls[5].size(), 28u);  // the NUL byte survives

  // An empty list comes back empty, the defaults as they were.
  Message plain = make_message(kAccount, 1003);
  ASSERT_TRUE(store_->write_sync(InsertMessage{plain, {}}));
  Message plain_found = get(plain.sid);
  EXPECT_TRUE(plain_found.media_urls.empty());
  plain.id = plain_found.id;
  EXPECT_EQ(describe(plain_found), describe(plain));
  EXPECT_EQ(plain_found.status, "queued");
  EXPECT_EQ(plain_found.direction, "outbound-api");
  EXPECT_EQ(plain_found.num_segments, 1);
  EXPECT_EQ(plain_found.validity_period, 36000);
  EXPECT_EQ(plain_found.status_callback_method, "POST");

  // A message is its account's alone; an unknown SID is no row, not an error.
  auto theirs = store_->find_message(kOther, m.sid);
  ASSERT_TRUE(theirs);
  EXPECT_FALSE(theirs->has_value());
  auto missing = store_->find_message(kAccount, make_sid(sid_prefix::kMessage));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST_F(MessageStoreTest, MediaAreStoredWithTheirMessage) {
  Message m = make_message(kAccount, 1000);
  m.direction = "inbound";
  m.status = "received";
  m.num_media = 3;
  const std::string jpeg("\xff\xd8\xff\xe0\0\x10JFIF\0", 11);
  MessageMedia image = make_media("image/jpeg", jpeg, 1000);
  MessageMedia text = make_media("text/plain", "hi, there\n", 1000);
  MessageMedia empty = make_media("application/octet-stream", "", 1000);
  // The media rows take the message's account and SID, whatever the items said.
  image.account_sid = kOther;
  image.message_sid = "SMnot-this-one";
  ASSERT_TRUE(store_->write_sync(InsertMessage{m, {image, text, empty}}));

  auto one = store_->find_message_media(kAccount, m.sid, image.sid);
  ASSERT_TRUE(one && one->has_value());
  EXPECT_GT((*one)->id, 0);
  EXPECT_EQ((*one)->sid, image.sid);
  EXPECT_EQ((*one)->account_sid, kAccount);
  EXPECT_EQ((*one)->message_sid, m.sid);
  EXPECT_EQ((*one)->content_type, "image/jpeg");
  EXPECT_EQ((*one)->data, jpeg);
  EXPECT_EQ((*one)->data.size(), 11u);
  EXPECT_EQ((*one)->date_created, 1000);
  EXPECT_EQ((*one)->date_updated, 1000);
  auto none = store_->find_message_media(kAccount, m.sid, empty.sid);
  ASSERT_TRUE(none && none->has_value());
  EXPECT_EQ((*none)->data, "");
  EXPECT_EQ((*store_->find_message_media(kAccount, m.sid, text.sid))->data, "hi, there\n");

  // Scoped to the account and the message.
  EXPECT_FALSE(store_->find_message_media(kOther, m.sid, image.sid)->has_value());
  Message other_message = make_message(kAccount, 1001);
  ASSERT_TRUE(store_->write_sync(InsertMessage{other_message, {}}));
  EXPECT_FALSE(store_->find_message_media(kAccount, other_message.sid, image.sid)->has_value());

  // Listed oldest first, without their bytes; keyset and offset paging.
  auto all = store_->list_message_media(kAccount, m.sid, {});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->items.size(), 3u);
  EXPECT_FALSE(all->has_more);
  EXPECT_EQ(all->items[0].sid, image.sid);
  EXPECT_EQ(all->items[1].sid, text.sid);
  EXPECT_EQ(all->items[2].sid, empty.sid);
  EXPECT_EQ(all->items[0].content_type, "image/jpeg");
  EXPECT_EQ(all->items[0].message_sid, m.sid);
  for (const auto& item : all->items) EXPECT_EQ(item.data, "");
  auto first = store_->list_message_media(kAccount, m.sid, {0, 0, 2});
  ASSERT_EQ(first->items.size(), 2u);
  EXPECT_TRUE(first->has_more);
  auto rest = store_->list_message_media(kAccount, m.sid, {first->items.back().id, 0, 2});
  ASSERT_EQ(rest->items.size(), 1u);
  EXPECT_FALSE(rest->has_more);
  EXPECT_EQ(rest->items[0].sid, empty.sid);
  auto skipped = store_->list_message_media(kAccount, m.sid, {0, 1, 1});
  ASSERT_EQ(skipped->items.size(), 1u);
  EXPECT_EQ(skipped->items[0].sid, text.sid);
  EXPECT_TRUE(store_->list_message_media(kOther, m.sid, {})->items.empty());
  EXPECT_TRUE(store_->list_message_media(kAccount, other_message.sid, {})->items.empty());
}

TEST_F(MessageStoreTest, UpdateWritesTheMutableFieldsOnly) {
  Message m = make_message(kAccount, 1000);
  m.media_urls = {"https://cdn.example/a.jpg"};
  m.status_callback = "https://app.example/cb";
  ASSERT_TRUE(store_->write_sync(InsertMessage{m, {}}));
  Message changed = get(m.sid);
  const Message before = changed;
  changed.body = "edited";
  changed.status = "undelivered";
  changed.error_code = 30003;
  changed.error_message = "Unreachable";
  changed.num_segments = 2;
  changed.num_media = 1;
  changed.date_sent = 1010;
  changed.date_updated = 1020;
  changed.send_at = 1030;
  // Not mutable: these stay as inserted.
  changed.from = "+10000000000";
  changed.to = "+19999999999";
  changed.direction = "inbound";
  changed.messaging_service_sid = "MGchanged";
  changed.status_callback = "https://elsewhere.example/";
  changed.status_callback_method = "GET";
  changed.application_sid = "APchanged";
  changed.media_urls = {"https://elsewhere.example/x.png"};
  changed.validity_period = 5;
  changed.date_created = 1;
  ASSERT_TRUE(store_->write_sync(UpdateMessage{changed}));

  Message expected = before;
  expected.body = "edited";
  expected.status = "undelivered";
  expected.error_code = 30003;
  expected.error_message = "Unreachable";
  expected.num_segments = 2;
  expected.num_media = 1;
  expected.date_sent = 1010;
  expected.date_updated = 1020;
  expected.send_at = 1030;
  EXPECT_EQ(describe(get(m.sid)), describe(expected));

  // Another account's, or a missing message: not found, and nothing changes.
  Message foreign = changed;
  foreign.account_sid = kOther;
  foreign.status = "failed";
  auto s = store_->write_sync(UpdateMessage{foreign});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().status, 404);
  EXPECT_EQ(get(m.sid).status, "undelivered");
  auto ghost = store_->write_sync(UpdateMessage{make_message(kAccount, 1)});
  ASSERT_FALSE(ghost);
  EXPECT_EQ(ghost.error().status, 404);
}

TEST_F(MessageStoreTest, DeletingAMessageDeletesItsMedia) {
  Message m = make_message(kAccount, 1000);
  MessageMedia a = make_media("image/png", "png-bytes", 1000);
  MessageMedia b = make_media("image/gif", "gif-bytes", 1000);
  ASSERT_TRUE(store_->write_sync(InsertMessage{m, {a, b}}));
  Message kept = make_message(kAccount, 1001);
  MessageMedia kept_media = make_media("image/png", "kept", 1001);
  ASSERT_TRUE(store_->write_sync(InsertMessage{kept, {kept_media}}));

  // Not another account's to delete.
  auto foreign = store_->write_sync(DeleteMessage{kOther, m.sid});
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().status, 404);
  EXPECT_EQ(store_->list_message_media(kAccount, m.sid, {})->items.size(), 2u);

  ASSERT_TRUE(store_->write_sync(DeleteMessage{kAccount, m.sid}));
  EXPECT_FALSE(store_->find_message(kAccount, m.sid)->has_value());
  EXPECT_FALSE(store_->find_message_media(kAccount, m.sid, a.sid)->has_value());
  EXPECT_TRUE(store_->list_message_media(kAccount, m.sid, {})->items.empty());
  auto again = store_->write_sync(DeleteMessage{kAccount, m.sid});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().status, 404);
  // The other message keeps its media; the deleted media's SIDs are free again.
  EXPECT_EQ((*store_->find_message_media(kAccount, kept.sid, kept_media.sid))->data, "kept");
  Message reused = make_message(kAccount, 1002);
  ASSERT_TRUE(store_->write_sync(InsertMessage{reused, {a}}));
}

TEST_F(MessageStoreTest, DeletingOneMediaItem) {
  Message m = make_message(kAccount, 1000);
  MessageMedia a = make_media("image/png", "a", 1000);
  MessageMedia b = make_media("image/png", "b", 1000);
  ASSERT_TRUE(store_->write_sync(InsertMessage{m, {a, b}}));
  auto foreign = store_->write_sync(DeleteMessageMedia{kOther, m.sid, a.sid});
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().status, 404);
  auto wrong_message =
      store_->write_sync(DeleteMessageMedia{kAccount, make_sid(sid_prefix::kMessage), a.sid});
  ASSERT_FALSE(wrong_message);
  EXPECT_EQ(wrong_message.error().status, 404);

  ASSERT_TRUE(store_->write_sync(DeleteMessageMedia{kAccount, m.sid, a.sid}));
  EXPECT_FALSE(store_->find_message_media(kAccount, m.sid, a.sid)->has_value());
  auto left = store_->list_message_media(kAccount, m.sid, {});
  ASSERT_EQ(left->items.size(), 1u);
  EXPECT_EQ(left->items[0].sid, b.sid);
  EXPECT_TRUE(store_->find_message(kAccount, m.sid)->has_value());  // the message stays
  auto again = store_->write_sync(DeleteMessageMedia{kAccount, m.sid, a.sid});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().status, 404);
}

TEST_F(MessageStoreTest, ADuplicateSidConflictsAndWritesNothing) {
  Message m = make_message(kAccount, 1000);
  MessageMedia media = make_media("image/png", "first", 1000);
  ASSERT_TRUE(store_->write_sync(InsertMessage{m, {media}}));
  Message dup = m;
  dup.body = "second";
  auto s = store_->write_sync(InsertMessage{dup, {}});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().status, kConflict);
  EXPECT_EQ(get(m.sid).body, "hello");

  // A clash in the media undoes the message too: one transaction.
  Message fresh = make_message(kAccount, 1001);
  MessageMedia fine = make_media("image/png", "fine", 1001);
  auto clash = store_->write_sync(InsertMessage{fresh, {fine, media}});
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().status, kConflict);
  EXPECT_FALSE(store_->find_message(kAccount, fresh.sid)->has_value());
  EXPECT_FALSE(store_->find_message_media(kAccount, fresh.sid, fine.sid)->has_value());
  EXPECT_EQ(listed({}), (Sids{m.sid}));
  // The first message's media is untouched.
  EXPECT_EQ((*store_->find_message_media(kAccount, m.sid, media.sid))->data, "first");
}

TEST_F(MessageStoreTest, ListFiltersByToFromAndDateSentNewestFirst) {
  const std::int64_t dec1 = 1796083200;  // 2026-12-01 00:00:00 GMT
  const std::int64_t day = 86400;
  auto add = [&](const std::string& from, const std::string& to, std::int64_t created,
                 std::int64_t sent, const std::string& account = kAccount) {
    Message m = make_message(account, created);
    m.from = from;
    m.to = to;
    m.date_sent = sent;
    EXPECT_TRUE(store_->write_sync(InsertMessage{m, {}}));
    return m.sid;
  };
  const std::string a = "+14155550001", b = "+14155550002", c = "+14155550003";
  const Sids rows = {
      add(a, b, dec1 - day, dec1 - 1),  // 0: sent Nov 30, 23:59:59
      add(a, c, dec1 - day, dec1),      // 1: sent Dec 1, 00:00:00 (created a day before)
      add(b, a, dec1 + 3600, 0),        // 2: unsent, created Dec 1, 01:00: counts as sent then
      add(a, b, dec1 + 7200, dec1 + day - 1),  // 3: sent Dec 1, 23:59:59
      add(c, b, dec1 - 5, dec1 + day),         // 4: sent Dec 2 (created Nov 30)
      add(a, b, dec1, dec1, kOther),           // another account's
  };
  EXPECT_EQ(listed({}), (Sids{rows[4], rows[3], rows[2], rows[1], rows[0]}));

  MessageFilter to_b;
  to_b.to = b;
  EXPECT_EQ(listed(to_b), (Sids{rows[4], rows[3], rows[0]}));
  MessageFilter from_a;
  from_a.from = a;
  EXPECT_EQ(listed(from_a), (Sids{rows[3], rows[1], rows[0]}));
  MessageFilter a_to_b;
  a_to_b.from = a;
  a_to_b.to = b;
  EXPECT_EQ(listed(a_to_b), (Sids{rows[3], rows[0]}));
  MessageFilter nobody;
  nobody.to = "+10000000000";
  EXPECT_TRUE(listed(nobody).empty());

  MessageFilter on_dec1;  // DateSent=2026-12-01
  on_dec1.sent_on_day_start = dec1;
  EXPECT_EQ(listed(on_dec1), (Sids{rows[3], rows[2], rows[1]}));
  MessageFilter on_nov30;  // by date_sent, not date_created
  on_nov30.sent_on_day_start = dec1 - day;
  EXPECT_EQ(listed(on_nov30), (Sids{rows[0]}));

  MessageFilter before;  // DateSent<=: on or before
  before.sent_before = dec1;
  EXPECT_EQ(listed(before), (Sids{rows[1], rows[0]}));
  MessageFilter after;  // DateSent>=: on or after
  after.sent_after = dec1 + 3600;
  EXPECT_EQ(listed(after), (Sids{rows[4], rows[3], rows[2]}));
  MessageFilter window;
  window.sent_after = dec1;
  window.sent_before = dec1 + 3600;
  EXPECT_EQ(listed(window), (Sids{rows[2], rows[1]}));
  MessageFilter window_to_b;
  window_to_b.sent_after = dec1;
  window_to_b.to = b;
  EXPECT_EQ(listed(window_to_b), (Sids{rows[4], rows[3]}));
  MessageFilter empty_window;
  empty_window.sent_on_day_start = dec1;
  empty_window.sent_after = dec1 + day;
  EXPECT_TRUE(listed(empty_window).empty());

  // Keyset paging runs downward from a page's last id; offset paging skips.
  auto p1 = store_->list_messages({kAccount, "", "", {}, {}, {}}, {0, 0, 2});
  ASSERT_TRUE(p1);
  ASSERT_EQ(p1->items.size(), 2u);
  EXPECT_TRUE(p1->has_more);
  EXPECT_EQ(p1->items[0].sid, rows[4]);
  EXPECT_EQ(p1->items[1].sid, rows[3]);
  auto p2 = store_->list_messages({kAccount, "", "", {}, {}, {}}, {p1->items.back().id, 0, 2});
  ASSERT_EQ(p2->items.size(), 2u);
  EXPECT_TRUE(p2->has_more);
  EXPECT_EQ(p2->items[0].sid, rows[2]);
  auto p3 = store_->list_messages({kAccount, "", "", {}, {}, {}}, {p2->items.back().id, 0, 2});
  ASSERT_EQ(p3->items.size(), 1u);
  EXPECT_FALSE(p3->has_more);
  EXPECT_EQ(p3->items[0].sid, rows[0]);
  EXPECT_EQ(listed({}, {0, 3, 5}), (Sids{rows[1], rows[0]}));
  MessageFilter to_b_page;
  to_b_page.to = b;
  EXPECT_EQ(listed(to_b_page, {0, 0, 1}), (Sids{rows[4]}));

  MessageFilter theirs;
  theirs.account_sid = kOther;
  EXPECT_EQ(listed(theirs), (Sids{rows[5]}));
}

TEST_F(MessageStoreTest, UnfinishedMessagesAreTheOutboundOnesStillToSendOldestFirst) {
  auto add = [&](const std::string& status, const std::string& direction,
                 const std::string& account = kAccount) {
    Message m = make_message(account, 1000);
    m.status = status;
    m.direction = direction;
    EXPECT_TRUE(store_->write_sync(InsertMessage{m, {}}));
    return m.sid;
  };
  const auto queued = add("queued", "outbound-api");
  add("sent", "outbound-api");
  const auto scheduled = add("scheduled", "outbound-api");
  add("delivered", "outbound-api");
  add("received", "inbound");
  add("queued", "inbound");  // never an inbound one, whatever its status
  const auto accepted = add("accepted", "outbound-reply", kOther);  // every account's
  add("undelivered", "outbound-api");
  add("failed", "outbound-api");
  add("canceled", "outbound-api");
  add("receiving", "inbound");
  const auto sending = add("sending", "outbound-call");
  add("read", "outbound-api");
  EXPECT_EQ(unfinished(100), (Sids{queued, scheduled, accepted, sending}));
  EXPECT_EQ(unfinished(2), (Sids{queued, scheduled}));
  EXPECT_TRUE(unfinished(0).empty());

  // Once sent, a message is no longer unfinished.
  Message done = get(queued);
  done.status = "sent";
  ASSERT_TRUE(store_->write_sync(UpdateMessage{done}));
  EXPECT_EQ(unfinished(100), (Sids{scheduled, accepted, sending}));
}

TEST_F(MessageStoreTest, OptOutsAreScopedToAccountNumberAndAddress) {
  const std::string ours = "+14155550100", theirs = "+14155550199";
  EXPECT_FALSE(opted_out(kAccount, ours, theirs));
  ASSERT_TRUE(store_->write_sync(SetOptOut{kAccount, ours, theirs, true, 1000}));
  EXPECT_TRUE(opted_out(kAccount, ours, theirs));
  EXPECT_FALSE(opted_out(kOther, ours, theirs));              // another account
  EXPECT_FALSE(opted_out(kAccount, "+14155550101", theirs));  // another of our numbers
  EXPECT_FALSE(opted_out(kAccount, ours, "+14155550198"));    // another far party
  EXPECT_FALSE(opted_out(kAccount, theirs, ours));            // the roles matter
  ASSERT_TRUE(store_->write_sync(SetOptOut{kAccount, ours, theirs, true, 1100}));  // again
  EXPECT_TRUE(opted_out(kAccount, ours, theirs));

  ASSERT_TRUE(store_->write_sync(SetOptOut{kOther, ours, theirs, true, 1200}));
  ASSERT_TRUE(store_->write_sync(SetOptOut{kAccount, ours, theirs, false, 1300}));
  EXPECT_FALSE(opted_out(kAccount, ours, theirs));
  EXPECT_TRUE(opted_out(kOther, ours, theirs));  // only that account's row went
  // Opting in when not opted out is no error.
  ASSERT_TRUE(store_->write_sync(SetOptOut{kAccount, ours, theirs, false, 1400}));
  EXPECT_FALSE(opted_out(kAccount, ours, theirs));
  ASSERT_TRUE(store_->write_sync(SetOptOut{kAccount, ours, theirs, true, 1500}));
  EXPECT_TRUE(opted_out(kAccount, ours, theirs));
}

TEST_F(MessageStoreTest, MessagesSurviveCloseAndReopen) {
  Message m = make_message(kAccount, 1000);
  m.media_urls = {"https://cdn.example/a,b.jpg"};
  MessageMedia media = make_media("image/png", std::string("\0\1\2", 3), 1000);
  ASSERT_TRUE(store_->write_sync(InsertMessage{m, {media}}));
  ASSERT_TRUE(store_->write_sync(SetOptOut{kAccount, m.from, m.to, true, 1000}));
  store_->close();
  store_.reset();
  auto reopened = SqliteStore::open(dir_.file("sb.db"));
  ASSERT_TRUE(reopened) << reopened.error().message;
  store_ = std::move(reopened.value());
  EXPECT_EQ(get(m.sid).media_urls, m.media_urls);
  EXPECT_EQ((*store_->find_message_media(kAccount, m.sid, media.sid))->data,
            std::string("\0\1\2", 3));
  EXPECT_TRUE(opted_out(kAccount, m.from, m.to));
}

// The cache keeps no messages: every read reaches the store beneath, and writes pass through.
TEST_F(MessageStoreTest, TheCachePassesMessagesThrough) {
  testing::CountingStore counting(*store_);
  auto cache = CachedStore::open(counting);
  ASSERT_TRUE(cache) << cache.error().message;
  CachedStore& cached = **cache;
  Message m = make_message(kAccount, 1000);
  MessageMedia media = make_media("text/plain", "bytes", 1000);
  ASSERT_TRUE(cached.write_sync(InsertMessage{m, {media}}));
  ASSERT_TRUE(cached.write_sync(SetOptOut{kAccount, m.from, m.to, true, 1000}));
  counting.reset();

  auto found = cached.find_message(kAccount, m.sid);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->body, "hello");
  MessageFilter filter;
  filter.account_sid = kAccount;
  filter.to = m.to;
  auto listed = cached.list_messages(filter, {});
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0].sid, m.sid);
  auto pending = cached.list_unfinished_messages(10);
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].sid, m.sid);
  auto item = cached.find_message_media(kAccount, m.sid, media.sid);
  ASSERT_TRUE(item && item->has_value());
  EXPECT_EQ((*item)->data, "bytes");
  auto items = cached.list_message_media(kAccount, m.sid, {});
  ASSERT_TRUE(items);
  ASSERT_EQ(items->items.size(), 1u);
  EXPECT_EQ(items->items[0].sid, media.sid);
  auto out = cached.is_opted_out(kAccount, m.from, m.to);
  ASSERT_TRUE(out);
  EXPECT_TRUE(*out);
  auto in = cached.is_opted_out(kAccount, m.to, m.from);
  ASSERT_TRUE(in);
  EXPECT_FALSE(*in);
  EXPECT_EQ(counting.reads(), 7);

  Message changed = **found;
  changed.status = "delivered";
  ASSERT_TRUE(cached.write_sync(UpdateMessage{changed}));
  EXPECT_EQ((*cached.find_message(kAccount, m.sid))->status, "delivered");
  ASSERT_TRUE(cached.write_sync(DeleteMessageMedia{kAccount, m.sid, media.sid}));
  EXPECT_TRUE(cached.list_message_media(kAccount, m.sid, {})->items.empty());
  ASSERT_TRUE(cached.write_sync(DeleteMessage{kAccount, m.sid}));
  EXPECT_FALSE(store_->find_message(kAccount, m.sid)->has_value());
}

}  // namespace
}  // namespace sb::store
