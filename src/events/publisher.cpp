#include "events/publisher.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>

#include "core/log.hpp"
#include "core/sid.hpp"

namespace sb::events {

namespace {

struct PlannedEvent {
  EventHeader header;
  std::vector<ChannelDelivery> deliveries;
  std::vector<std::string> jsons;  // CloudEvent per delivery
  std::vector<std::int64_t> seqs;  // filled by the job
};

struct Plan {
  std::vector<PlannedEvent> events;
  std::vector<OutboxItem> outbox;
  std::string account_sid;
  std::optional<std::string> idempotency_key;
  std::string response;
  std::int64_t now_ms = 0;
};

Status run_plan(Db& db, Plan& plan) {
  std::map<std::string, History> touched;
  for (auto& e : plan.events) {
    e.seqs.clear();
    for (std::size_t i = 0; i < e.deliveries.size(); ++i) {
      const auto& d = e.deliveries[i];
      {
        auto st = db.prepare(
            "INSERT INTO events(sid, account_sid, channel_sid, type, time_ms, body)"
            " VALUES(?1,?2,?3,?4,?5,?6)");
        if (!st) return st.error();
        (*st)
            ->bind(1, e.header.id)
            .bind(2, e.header.account_sid)
            .bind(3, d.channel->sid)
            .bind(4, body_type(d.body))
            .bind(5, e.header.time_ms)
            .bind(6, e.jsons[i]);
        if (Status s = step_done(db, **st, "event"); !s) return s;
      }
      e.seqs.push_back(db.last_insert_id());
      touched[d.channel->sid] = d.channel->attributes.history;
      db.prune_credit()[d.channel->sid] += 1;
    }
  }
  for (auto& item : plan.outbox) {
    if (Status s = insert_outbox(db, item, plan.now_ms); !s) return s;
  }
  for (const auto& [sid, h] : touched) {
    std::int64_t& credit = db.prune_credit()[sid];
    if (credit < std::max<std::int64_t>(1, h.max_events / 64)) continue;
    credit = 0;
    {
      auto st = db.prepare(
          "DELETE FROM events WHERE channel_sid=?1 AND seq <= (SELECT seq FROM events WHERE"
          " channel_sid=?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)");
      if (!st) return st.error();
      (*st)->bind(1, sid).bind(2, h.max_events);
      if (Status s = step_done(db, **st, "prune"); !s) return s;
    }
    {
      auto st = db.prepare("DELETE FROM events WHERE channel_sid=?1 AND time_ms < ?2");
      if (!st) return st.error();
      (*st)->bind(1, sid).bind(2, plan.now_ms - h.max_age_s * 1000);
      if (Status s = step_done(db, **st, "prune"); !s) return s;
    }
  }
  if (plan.idempotency_key) {
    auto st = db.prepare(
        "INSERT INTO idempotency(account_sid, key, response, created_ms) VALUES(?1,?2,?3,?4)");
    if (!st) return st.error();
    (*st)
        ->bind(1, plan.account_sid)
        .bind(2, *plan.idempotency_key)
        .bind(3, plan.response)
        .bind(4, plan.now_ms);
    if (Status s = step_done(db, **st, "idempotency"); !s) return s;
  }
  return Ok{};
}

// The plan's committed events as stream items, for the channels someone streams. The plan is
// done with each event's JSON and body once its rows are written: the item takes them over.
std::vector<std::pair<std::string, StreamItemPtr>> stream_items(Plan& plan,
                                                                const StreamFanout& streams) {
  std::vector<std::pair<std::string, StreamItemPtr>> committed;
  for (auto& e : plan.events) {
    for (std::size_t i = 0; i < e.deliveries.size(); ++i) {
      auto& d = e.deliveries[i];
      if (!streams.has_streams(d.channel->sid)) continue;
      auto item = std::make_shared<StreamItem>();
      item->seq = e.seqs[i];
      item->event_sid = e.header.id;
      item->json = std::move(e.jsons[i]);
      item->body = std::make_shared<const Body>(std::move(d.body));
      committed.emplace_back(d.channel->sid, std::move(item));
    }
  }
  return committed;
}

}  // namespace

Publisher::Publisher(asio::any_io_executor executor, EventStore& store, ChannelRegistry& registry,
                     StreamFanout& streams, const Clock& clock, std::size_t max_system_backlog)
    : executor_(std::move(executor)),
      store_(store),
      registry_(registry),
      streams_(streams),
      clock_(clock),
      max_system_backlog_(max_system_backlog) {}

asio::awaitable<Result<Published>> Publisher::publish(ChannelPtr channel,
                                                      std::string publisher_kind,
                                                      std::vector<Body> bodies,
                                                      std::optional<std::string> idempotency_key,
                                                      bool batch) {
  // co_spawn needs a default-constructible result: carry it in an optional.
  std::optional<Result<Published>> result = co_await asio::co_spawn(
      executor_,
      [](Publisher* self, ChannelPtr ch, std::string kind, std::vector<Body> b,
         std::optional<std::string> key,
         bool is_batch) -> asio::awaitable<std::optional<Result<Published>>> {
        auto r = co_await self->publish_here(std::move(ch), std::move(kind), std::move(b),
                                             std::move(key), is_batch);
        co_return std::optional<Result<Published>>(std::move(r));
      }(this, std::move(channel), std::move(publisher_kind), std::move(bodies),
                        std::move(idempotency_key), batch),
      asio::use_awaitable);
  co_return std::move(*result);
}

asio::awaitable<Result<Published>> Publisher::publish_here(ChannelPtr channel, std::string kind,
                                                           std::vector<Body> bodies,
                                                           std::optional<std::string> key,
                                                           bool batch) {
  const std::string account = channel->account_sid;
  if (!channel->attributes.permissions.may_publish(kind)) {
    co_return Error{codes::kAuthenticationFailed, 403,
                    "Publishing on channel '" + channel->name + "' is not permitted for " + kind};
  }
  struct InFlightGuard {
    std::shared_ptr<Shared> shared;
    std::optional<std::pair<std::string, std::string>> k;
    ~InFlightGuard() {
      if (k) shared->idempotency_in_flight.erase(*k);
    }
  } guard{shared_, std::nullopt};
  if (key) {
    std::pair<std::string, std::string> k{account, *key};
    if (!shared_->idempotency_in_flight.insert(k).second) {
      co_return Error{codes::kInvalidParameter, 409,
                      "A request with this Idempotency-Key is in progress"};
    }
    guard.k = k;
    auto stored = store_.read([&](Db& db) -> Result<std::optional<std::string>> {
      auto st = db.prepare("SELECT response FROM idempotency WHERE account_sid=?1 AND key=?2");
      if (!st) return st.error();
      (*st)->bind(1, account).bind(2, *key);
      if ((*st)->row()) return std::optional<std::string>((*st)->text(0));
      return std::optional<std::string>();
    });
    if (!stored) co_return stored.error();
    if (*stored) co_return Published{parse_json_or_null(**stored), true};
  }

  auto plan = std::make_shared<Plan>();
  plan->account_sid = account;
  plan->idempotency_key = key;
  plan->now_ms = clock_.now_ms();
  json::array out;
  for (auto& body : bodies) {
    EventHeader header{make_sid(kEventPrefix), account, channel->name, clock_.now_ms()};
    auto r = co_await run_pipeline(registry_, *delegates_, channel, kind, header, std::move(body));
    if (!r) co_return r.error();
    PlannedEvent pe;
    pe.header = header;
    json::array channels;
    for (auto& d : r->deliveries) {
      pe.jsons.push_back(serialize_cloudevent(header, d.channel->name, d.body));
      channels.push_back(json::value(d.channel->name));
    }
    for (std::size_t i = 0; i < r->deliveries.size(); ++i) {
      const auto& d = r->deliveries[i];
      std::shared_ptr<const std::string> body_text;  // shared by the channel's subscribers
      registry_.for_each_webhook(d.channel->sid, [&](const SubscriberPtr& sub) {
        if (sub->status != "active" || !sub->attributes.filter.passes(d.body)) return;
        if (!body_text) body_text = std::make_shared<const std::string>(pe.jsons[i]);
        plan->outbox.push_back({0, sub->sid, d.channel->sid, sub->url, header.id, body_text, 0,
                                plan->now_ms, header.time_ms});
      });
    }
    for (auto& w : r->webhooks) {
      plan->outbox.push_back({0, w.channel->sid, w.channel->sid, w.url, header.id,
                              std::make_shared<const std::string>(
                                  serialize_cloudevent(header, w.channel->name, w.body)),
                              0, plan->now_ms, header.time_ms});
    }
    json::object summary;
    summary["sid"] = header.id;
    summary["type"] = r->deliveries.empty() ? json::value(nullptr)
                                            : json::value(body_type(r->deliveries.front().body));
    summary["time"] = rfc3339_ms(header.time_ms);
    summary["channels"] = std::move(channels);
    summary["dropped"] =
        r->deliveries.empty() || r->deliveries.front().channel->sid != channel->sid;
    summary["webhooks"] = static_cast<std::int64_t>(plan->outbox.size());
    out.push_back(std::move(summary));
    pe.deliveries = std::move(r->deliveries);
    plan->events.push_back(std::move(pe));
  }
  json::value response;
  if (batch) {
    json::object o;
    o["events"] = std::move(out);
    response = std::move(o);
  } else {
    response = std::move(out.at(0));
  }
  plan->response = json::serialize(response);

  EventStore::Job job = [plan](Db& db) { return run_plan(db, *plan); };
  // On the writer thread in commit order, so streams see history order.
  auto to_streams = [this, plan](const Status& s) {
    if (!s) return;
    auto committed = stream_items(*plan, streams_);
    if (!committed.empty()) streams_.fan_out(committed);
  };
  Status committed = co_await commit(store_, std::move(job), std::move(to_streams));
  if (!committed) {
    spdlog::error("events publish: {}", committed.error().message);
    co_return Error{codes::kServiceUnavailable, 503, "Events could not be stored"};
  }
  if (outbox_) outbox_(std::move(plan->outbox));
  co_return Published{std::move(response), false};
}

void Publisher::publish_system(std::string account_sid, std::string channel, std::string type,
                               json::value data) {
  if (shared_->system_backlog.fetch_add(1) >= max_system_backlog_) {
    shared_->system_backlog.fetch_sub(1);
    spdlog::warn("events: system event {} on {} dropped (backlog full)", type, channel);
    return;
  }
  asio::co_spawn(
      executor_,
      system_publish(std::move(account_sid), std::move(channel), std::move(type), std::move(data)),
      asio::detached);
}

asio::awaitable<void> Publisher::system_publish(std::string account_sid, std::string channel,
                                                std::string type, json::value data) {
  struct Done {
    std::shared_ptr<Shared> shared;
    ~Done() { shared->system_backlog.fetch_sub(1); }
  } done{shared_};
  // The platform's channels come with their ancestors ("calls" for "calls.completed"), so a
  // subscriber of the parent sees every call event without creating each child first.
  for (auto dot = channel.find('.'); dot != std::string::npos; dot = channel.find('.', dot + 1)) {
    const std::string parent = channel.substr(0, dot);
    if (registry_.find_channel(account_sid, parent)) continue;
    auto made = co_await registry_.create_channel(account_sid, parent, json::value());
    if (!made && !registry_.find_channel(account_sid, parent)) {
      spdlog::warn("events: system channel {}: {}", parent, made.error().message);
    }
  }
  ChannelPtr ch = registry_.find_channel(account_sid, channel);
  if (!ch) {
    auto created = co_await registry_.create_channel(account_sid, channel, json::value());
    if (!created) {
      ch = registry_.find_channel(account_sid, channel);  // lost a race: use the winner's
    } else {
      ch = *created;
    }
    if (!ch) {
      spdlog::warn("events: system channel {}: {}", channel,
                   created ? "missing" : created.error().message);
      co_return;
    }
  }
  Body body;
  body["type"] = type;
  body["source"] = "switchboard";
  body["data"] = std::move(data);
  body["metadata"] = json::object();
  std::vector<Body> bodies;
  bodies.push_back(std::move(body));
  auto r = co_await publish_here(ch, "system", std::move(bodies), std::nullopt, false);
  if (!r) spdlog::warn("events: system event {} on {}: {}", type, channel, r.error().message);
}

}  // namespace sb::events
