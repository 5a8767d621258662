#include "events/history.hpp"

#include <memory>

namespace sb::events {

Result<HistoryPage> EventHistory::page(const Channel& channel,
                                       std::optional<std::string> after_event_sid,
                                       std::size_t limit) {
  return store_.read([&](Db& db) -> Result<HistoryPage> {
    HistoryPage page;
    std::int64_t after = 0;
    if (after_event_sid) {
      auto st = db.prepare("SELECT seq FROM events WHERE channel_sid=?1 AND sid=?2");
      if (!st) return st.error();
      (*st)->bind(1, channel.sid).bind(2, *after_event_sid);
      if ((*st)->row()) {
        after = (*st)->integer(0);
      } else {
        page.gap = true;
      }
    }
    auto st = db.prepare(
        "SELECT seq, sid, body FROM events WHERE channel_sid=?1 AND seq > ?2 ORDER BY seq LIMIT "
        "?3");
    if (!st) return st.error();
    (*st)->bind(1, channel.sid).bind(2, after).bind(3, static_cast<std::int64_t>(limit + 1));
    while ((*st)->row()) {
      if (page.items.size() == limit) {
        page.has_more = true;
        break;
      }
      StreamItem item;
      item.seq = (*st)->integer(0);
      item.event_sid = (*st)->text(1);
      item.json = (*st)->text(2);
      auto v = parse_json_or_null(item.json);
      if (v.is_object()) item.body = std::make_shared<const Body>(std::move(v.get_object()));
      page.items.push_back(std::move(item));
    }
    return page;
  });
}

Result<json::array> EventHistory::deliveries(const Subscriber& sub, std::size_t limit) {
  return store_.read([&](Db& db) -> Result<json::array> {
    json::array out;
    auto st = db.prepare(
        "SELECT id, event_sid, status, attempts, next_attempt_ms, last_status, last_error,"
        " created_ms, updated_ms FROM outbox WHERE target_sid=?1 ORDER BY id DESC LIMIT ?2");
    if (!st) return st.error();
    (*st)->bind(1, sub.sid).bind(2, static_cast<std::int64_t>(limit));
    std::vector<std::int64_t> ids;
    while ((*st)->row()) {
      json::object o;
      ids.push_back((*st)->integer(0));
      o["event_sid"] = (*st)->text(1);
      o["webhook_id"] = (*st)->text(1);
      o["status"] = (*st)->text(2);
      o["attempt_count"] = (*st)->integer(3);
      const auto next = (*st)->integer(4);
      o["next_attempt"] = o["status"] == "pending" && next > 0 ? json::value(rfc3339_ms(next))
                                                               : json::value(nullptr);
      o["last_status_code"] = (*st)->integer(5);
      o["last_error"] = (*st)->text(6);
      o["date_created"] = rfc3339_ms((*st)->integer(7));
      o["date_updated"] = rfc3339_ms((*st)->integer(8));
      out.push_back(std::move(o));
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
      auto at = db.prepare(
          "SELECT attempt, status_code, error, duration_ms, time_ms, next_retry_ms FROM attempts"
          " WHERE outbox_id=?1 ORDER BY id");
      if (!at) return at.error();
      (*at)->bind(1, ids[i]);
      json::array attempts;
      while ((*at)->row()) {
        json::object a;
        a["attempt"] = (*at)->integer(0);
        a["status_code"] = (*at)->integer(1);
        a["error"] = (*at)->text(2);
        a["duration_ms"] = (*at)->integer(3);
        a["date"] = rfc3339_ms((*at)->integer(4));
        const auto next = (*at)->integer(5);
        a["next_retry"] = next > 0 ? json::value(rfc3339_ms(next)) : json::value(nullptr);
        attempts.push_back(std::move(a));
      }
      out[i].get_object()["attempts"] = std::move(attempts);
    }
    return out;
  });
}

asio::awaitable<Result<std::vector<OutboxItem>>> EventHistory::replay(SubscriberPtr sub,
                                                                      std::int64_t from_ms,
                                                                      std::int64_t to_ms) {
  if (sub->type != "webhook") {
    co_return Error::bad_request(codes::kInvalidParameter,
                                 "Only webhook subscribers can be replayed");
  }
  auto rows = store_.read([&](Db& db) -> Result<std::vector<OutboxItem>> {
    std::vector<OutboxItem> items;
    auto st = db.prepare(
        "SELECT sid, time_ms, body FROM events WHERE channel_sid=?1 AND time_ms >= ?2 AND"
        " time_ms <= ?3 ORDER BY seq LIMIT 10000");
    if (!st) return st.error();
    (*st)->bind(1, sub->channel_sid).bind(2, from_ms).bind(3, to_ms);
    const auto now = clock_.now_ms();
    while ((*st)->row()) {
      std::string body = (*st)->text(2);
      auto v = parse_json_or_null(body);
      if (!v.is_object() || !sub->attributes.filter.passes(v.get_object())) continue;
      items.push_back({0, sub->sid, sub->channel_sid, sub->url, (*st)->text(0),
                       std::make_shared<const std::string>(std::move(body)), 0, now,
                       (*st)->integer(1)});
    }
    return items;
  });
  if (!rows) co_return rows.error();
  auto items = std::make_shared<std::vector<OutboxItem>>(std::move(*rows));
  const auto now = clock_.now_ms();
  EventStore::Job job = [items, now](Db& db) -> Status {
    for (auto& item : *items) {
      if (Status s = insert_outbox(db, item, now); !s) return s;
    }
    return Ok{};
  };
  Status s = co_await commit(store_, std::move(job));
  if (!s) co_return s.error();
  co_return std::move(*items);
}

}  // namespace sb::events
