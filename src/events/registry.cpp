#include "events/registry.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "core/sid.hpp"
#include "events/delivery_policy.hpp"

namespace sb::events {

namespace {

Status upsert_channel(Db& db, const Channel& c, bool insert) {
  auto st = insert ? db.prepare(
                         "INSERT INTO channels(sid, account_sid, name, attributes, signing_secret,"
                         " date_created, date_updated) VALUES(?1,?2,?3,?4,?5,?6,?7)")
                   : db.prepare(
                         "UPDATE channels SET account_sid=?2, name=?3, attributes=?4,"
                         " signing_secret=?5, date_created=?6, date_updated=?7 WHERE sid=?1");
  if (!st) return st.error();
  (*st)
      ->bind(1, c.sid)
      .bind(2, c.account_sid)
      .bind(3, c.name)
      .bind(4, json::serialize(c.attributes.raw))
      .bind(5, c.signing_secret)
      .bind(6, c.date_created)
      .bind(7, c.date_updated);
  if (Status s = step_done(db, **st, "channel"); !s) {
    if (s.error().status == 409) {
      return Error{codes::kInvalidParameter, 409,
                   "A channel named '" + c.name + "' already exists"};
    }
    return s;
  }
  return Ok{};
}

Status upsert_subscriber(Db& db, const Subscriber& s, bool insert) {
  auto st = insert ? db.prepare(
                         "INSERT INTO subscribers(sid, account_sid, channel_sid, type, url, secret,"
                         " previous_secret, previous_expires_ms, attributes, status, status_reason,"
                         " last_success_ms, date_created, date_updated)"
                         " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)")
                   : db.prepare(
                         "UPDATE subscribers SET account_sid=?2, channel_sid=?3, type=?4, url=?5,"
                         " secret=?6, previous_secret=?7, previous_expires_ms=?8, attributes=?9,"
                         " status=?10, status_reason=?11, last_success_ms=?12, date_created=?13,"
                         " date_updated=?14 WHERE sid=?1");
  if (!st) return st.error();
  (*st)
      ->bind(1, s.sid)
      .bind(2, s.account_sid)
      .bind(3, s.channel_sid)
      .bind(4, s.type)
      .bind(5, s.url)
      .bind(6, s.secret)
      .bind(7, s.previous_secret)
      .bind(8, s.previous_expires_ms)
      .bind(9, json::serialize(s.attributes.raw))
      .bind(10, s.status)
      .bind(11, s.status_reason)
      .bind(12, s.last_success_ms)
      .bind(13, s.date_created)
      .bind(14, s.date_updated);
  return step_done(db, **st, "subscriber");
}

}  // namespace

ChannelRegistry::ChannelRegistry(EventStore& store, const Clock& clock,
                                 std::int64_t rotation_overlap_ms)
    : store_(store), clock_(clock), rotation_overlap_ms_(rotation_overlap_ms) {}

Status ChannelRegistry::load(Db& db) {
  std::unique_lock lock(mu_);
  {
    auto st = db.prepare(
        "SELECT sid, account_sid, name, attributes, signing_secret, date_created, date_updated"
        " FROM channels");
    if (!st) return st.error();
    while ((*st)->row()) {
      auto c = std::make_shared<Channel>();
      c->sid = (*st)->text(0);
      c->account_sid = (*st)->text(1);
      c->name = (*st)->text(2);
      auto attrs = parse_channel_attributes(parse_json_or_null((*st)->text(3)));
      if (attrs) c->attributes = std::move(*attrs);
      c->signing_secret = (*st)->text(4);
      c->date_created = (*st)->integer(5);
      c->date_updated = (*st)->integer(6);
      put_channel(c);
    }
  }
  auto st = db.prepare(
      "SELECT sid, account_sid, channel_sid, type, url, secret, previous_secret,"
      " previous_expires_ms, attributes, status, status_reason, last_success_ms, date_created,"
      " date_updated FROM subscribers");
  if (!st) return st.error();
  while ((*st)->row()) {
    auto s = std::make_shared<Subscriber>();
    s->sid = (*st)->text(0);
    s->account_sid = (*st)->text(1);
    s->channel_sid = (*st)->text(2);
    s->type = (*st)->text(3);
    s->url = (*st)->text(4);
    s->secret = (*st)->text(5);
    s->previous_secret = (*st)->text(6);
    s->previous_expires_ms = (*st)->integer(7);
    auto attrs = parse_subscriber_attributes(parse_json_or_null((*st)->text(8)));
    if (attrs) s->attributes = std::move(*attrs);
    s->status = (*st)->text(9);
    s->status_reason = (*st)->text(10);
    s->last_success_ms = (*st)->integer(11);
    s->date_created = (*st)->integer(12);
    s->date_updated = (*st)->integer(13);
    put_subscriber(s);
  }
  return Ok{};
}

void ChannelRegistry::put_channel(const ChannelPtr& c) {
  channels_[{c->account_sid, c->name}] = c;
  channels_by_sid_[c->sid] = c;
}

void ChannelRegistry::put_subscriber(const SubscriberPtr& s) {
  subscribers_[s->sid] = s;
  auto& list = webhooks_by_channel_[s->channel_sid];
  std::erase_if(list, [&](const SubscriberPtr& o) { return o->sid == s->sid; });
  if (s->type == "webhook") list.push_back(s);
}

void ChannelRegistry::remove_subscriber(const SubscriberPtr& s) {
  subscribers_.erase(s->sid);
  if (auto it = webhooks_by_channel_.find(s->channel_sid); it != webhooks_by_channel_.end()) {
    std::erase_if(it->second, [&](const SubscriberPtr& o) { return o->sid == s->sid; });
  }
}

// ---- channels ----

ChannelPtr ChannelRegistry::find_channel(std::string_view account_sid,
                                         std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = channels_.find({std::string(account_sid), std::string(name)});
  return it == channels_.end() ? nullptr : it->second;
}

ChannelPtr ChannelRegistry::resolve_channel(std::string_view account_sid,
                                            std::string_view ref) const {
  if (is_sid(ref, "CH")) {
    auto c = channel_by_sid(ref);
    return c && c->account_sid == account_sid ? c : nullptr;
  }
  return find_channel(account_sid, ref);
}

ChannelPtr ChannelRegistry::channel_by_sid(std::string_view sid) const {
  std::shared_lock lock(mu_);
  auto it = channels_by_sid_.find(std::string(sid));
  return it == channels_by_sid_.end() ? nullptr : it->second;
}

std::vector<ChannelPtr> ChannelRegistry::list_channels(std::string_view account_sid) const {
  std::shared_lock lock(mu_);
  std::vector<ChannelPtr> out;
  for (auto it = channels_.lower_bound({std::string(account_sid), ""});
       it != channels_.end() && it->first.first == account_sid; ++it) {
    out.push_back(it->second);
  }
  return out;
}

asio::awaitable<Result<ChannelPtr>> ChannelRegistry::create_channel(std::string account_sid,
                                                                    std::string name,
                                                                    json::value attributes) {
  if (Status s = validate_channel_name(name); !s) co_return s.error();
  auto attrs = parse_channel_attributes(attributes);
  if (!attrs) co_return attrs.error();
  auto c = std::make_shared<Channel>();
  c->sid = make_sid("CH");
  c->account_sid = std::move(account_sid);
  c->name = std::move(name);
  c->attributes = std::move(*attrs);
  c->signing_secret = generate_secret();
  c->date_created = c->date_updated = clock_.now_unix();
  if (find_channel(c->account_sid, c->name)) {
    co_return Error{codes::kInvalidParameter, 409,
                    "A channel named '" + c->name + "' already exists"};
  }
  EventStore::Job job = [c](Db& db) { return upsert_channel(db, *c, true); };
  Status s = co_await commit(store_, std::move(job));
  if (!s) co_return s.error();
  {
    std::unique_lock lock(mu_);
    put_channel(c);
  }
  co_return ChannelPtr(c);
}

asio::awaitable<Result<ChannelPtr>> ChannelRegistry::update_channel(
    ChannelPtr channel, std::optional<json::value> attributes) {
  auto c = std::make_shared<Channel>(*channel);
  if (attributes) {
    auto attrs = parse_channel_attributes(*attributes);
    if (!attrs) co_return attrs.error();
    c->attributes = std::move(*attrs);
  }
  c->date_updated = clock_.now_unix();
  EventStore::Job job = [c](Db& db) { return upsert_channel(db, *c, false); };
  Status s = co_await commit(store_, std::move(job));
  if (!s) co_return s.error();
  {
    std::unique_lock lock(mu_);
    put_channel(c);
  }
  co_return ChannelPtr(c);
}

asio::awaitable<Status> ChannelRegistry::delete_channel(ChannelPtr channel) {
  const std::string sid = channel->sid;
  EventStore::Job job = [sid](Db& db) -> Status {
    return run_for_sid(
        db,
        {"DELETE FROM channels WHERE sid=?1", "DELETE FROM subscribers WHERE channel_sid=?1",
         "DELETE FROM events WHERE channel_sid=?1",
         "UPDATE outbox SET status='cancelled' WHERE channel_sid=?1 AND status='pending'"},
        sid, "delete channel");
  };
  Status s = co_await commit(store_, std::move(job));
  if (!s) co_return s;
  std::unique_lock lock(mu_);
  channels_.erase({channel->account_sid, channel->name});
  channels_by_sid_.erase(sid);
  std::erase_if(subscribers_, [&](const auto& kv) { return kv.second->channel_sid == sid; });
  webhooks_by_channel_.erase(sid);
  co_return Ok{};
}

// ---- subscribers ----

SubscriberPtr ChannelRegistry::find_subscriber(std::string_view account_sid,
                                               std::string_view sid) const {
  auto s = subscriber(sid);
  return s && s->account_sid == account_sid ? s : nullptr;
}

SubscriberPtr ChannelRegistry::subscriber(std::string_view sid) const {
  std::shared_lock lock(mu_);
  auto it = subscribers_.find(std::string(sid));
  return it == subscribers_.end() ? nullptr : it->second;
}

std::vector<SubscriberPtr> ChannelRegistry::list_subscribers(std::string_view channel_sid) const {
  std::vector<SubscriberPtr> out;
  {
    std::shared_lock lock(mu_);
    for (const auto& [_, s] : subscribers_) {
      if (s->channel_sid == channel_sid) out.push_back(s);
    }
  }
  std::sort(out.begin(), out.end(), [](const SubscriberPtr& a, const SubscriberPtr& b) {
    return a->date_created != b->date_created ? a->date_created < b->date_created : a->sid < b->sid;
  });
  return out;
}

asio::awaitable<Result<SubscriberPtr>> ChannelRegistry::create_subscriber(ChannelPtr channel,
                                                                          std::string type,
                                                                          std::string url,
                                                                          std::string secret,
                                                                          json::value attributes) {
  auto attrs = parse_subscriber_attributes(attributes);
  if (!attrs) co_return attrs.error();
  auto s = std::make_shared<Subscriber>();
  s->sid = make_sid("SB");
  s->account_sid = channel->account_sid;
  s->channel_sid = channel->sid;
  s->type = std::move(type);
  s->url = std::move(url);
  s->secret = std::move(secret);
  s->attributes = std::move(*attrs);
  s->date_created = s->date_updated = clock_.now_unix();
  EventStore::Job job = [s](Db& db) { return upsert_subscriber(db, *s, true); };
  Status st = co_await commit(store_, std::move(job));
  if (!st) co_return st.error();
  {
    std::unique_lock lock(mu_);
    put_subscriber(s);
  }
  co_return SubscriberPtr(s);
}

asio::awaitable<Result<SubscriberPtr>> ChannelRegistry::update_subscriber(SubscriberPtr sub,
                                                                          SubscriberUpdate u) {
  auto s = std::make_shared<Subscriber>(*sub);
  if (u.attributes) {
    auto attrs = parse_subscriber_attributes(*u.attributes);
    if (!attrs) co_return attrs.error();
    s->attributes = std::move(*attrs);
  }
  if (u.url) s->url = *u.url;
  if (u.secret && *u.secret != s->secret) {
    s->previous_secret = s->secret;
    s->previous_expires_ms = clock_.now_ms() + rotation_overlap_ms_;
    s->secret = *u.secret;
  }
  if (u.status) {
    s->status = *u.status;
    s->status_reason = *u.status == "active" ? "" : "disabled through the API";
  }
  s->date_updated = clock_.now_unix();
  EventStore::Job job = [s](Db& db) { return upsert_subscriber(db, *s, false); };
  Status st = co_await commit(store_, std::move(job));
  if (!st) co_return st.error();
  {
    std::unique_lock lock(mu_);
    if (!subscribers_.count(s->sid)) co_return Error::not_found("Subscriber was deleted");
    put_subscriber(s);
  }
  co_return SubscriberPtr(s);
}

asio::awaitable<Status> ChannelRegistry::delete_subscriber(SubscriberPtr sub) {
  const std::string sid = sub->sid;
  EventStore::Job job = [sid](Db& db) -> Status {
    return run_for_sid(
        db,
        {"DELETE FROM subscribers WHERE sid=?1",
         "UPDATE outbox SET status='cancelled' WHERE target_sid=?1 AND status='pending'"},
        sid, "delete subscriber");
  };
  Status s = co_await commit(store_, std::move(job));
  if (!s) co_return s;
  std::unique_lock lock(mu_);
  remove_subscriber(sub);
  co_return Ok{};
}

// ---- deliveries ----

void ChannelRegistry::record_success(std::string_view sid, std::int64_t now_ms) {
  std::unique_lock lock(mu_);
  auto it = subscribers_.find(std::string(sid));
  if (it == subscribers_.end() || it->second->status != "active") return;
  auto updated = std::make_shared<Subscriber>(*it->second);
  updated->last_success_ms = now_ms;
  put_subscriber(updated);
}

SubscriberPtr ChannelRegistry::disable(std::string_view sid, std::string reason) {
  std::shared_ptr<Subscriber> s;
  {
    std::unique_lock lock(mu_);
    auto it = subscribers_.find(std::string(sid));
    if (it == subscribers_.end() || it->second->status != "active") return nullptr;
    s = std::make_shared<Subscriber>(*it->second);
    s->status = "disabled";
    s->status_reason = std::move(reason);
    s->date_updated = clock_.now_unix();
    put_subscriber(s);
  }
  store_.write([s](Db& db) { return upsert_subscriber(db, *s, false); }, nullptr);
  spdlog::warn("events: subscriber {} disabled: {}", s->sid, s->status_reason);
  return s;
}

}  // namespace sb::events
