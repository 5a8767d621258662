#include "events/outbox.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <optional>

#include "core/sid.hpp"

namespace sb::events {

Status insert_outbox(Db& db, OutboxItem& item, std::int64_t now_ms) {
  auto st = db.prepare(
      "INSERT INTO outbox(target_sid, channel_sid, url, event_sid, event_time_ms, body, status,"
      " attempts, next_attempt_ms, created_ms, updated_ms)"
      " VALUES(?1,?2,?3,?4,?5,?6,'pending',0,?7,?8,?8)");
  if (!st) return st.error();
  (*st)
      ->bind(1, item.target_sid)
      .bind(2, item.channel_sid)
      .bind(3, item.url)
      .bind(4, item.event_sid)
      .bind(5, item.created_ms)
      .bind(6, *item.body)
      .bind(7, item.next_ms)
      .bind(8, now_ms);
  if (Status s = step_done(db, **st, "outbox"); !s) return s;
  item.id = db.last_insert_id();
  return Ok{};
}

WebhookDispatcher::WebhookDispatcher(asio::any_io_executor executor, EventStore& store,
                                     ChannelRegistry& registry, const Clock& clock,
                                     DispatchOptions options)
    : executor_(executor),
      store_(store),
      registry_(registry),
      clock_(clock),
      options_(std::move(options)),
      wake_(executor) {
  if (options_.retry_schedule_ms.empty()) options_.retry_schedule_ms = default_retry_schedule();
}

Status WebhookDispatcher::load(Db& db) {
  auto st = db.prepare(
      "SELECT id, target_sid, channel_sid, url, event_sid, event_time_ms, body, attempts,"
      " next_attempt_ms FROM outbox WHERE status='pending' ORDER BY id");
  if (!st) return st.error();
  while ((*st)->row()) {
    OutboxItem item;
    item.id = (*st)->integer(0);
    item.target_sid = (*st)->text(1);
    item.channel_sid = (*st)->text(2);
    item.url = (*st)->text(3);
    item.event_sid = (*st)->text(4);
    item.created_ms = (*st)->integer(5);
    item.body = std::make_shared<const std::string>((*st)->text(6));
    item.attempts = static_cast<int>((*st)->integer(7));
    item.next_ms = (*st)->integer(8);
    due_.emplace(item.next_ms, std::move(item));
  }
  update_pending();
  return Ok{};
}

void WebhookDispatcher::start() { asio::co_spawn(executor_, dispatch_loop(), asio::detached); }

void WebhookDispatcher::stop() {
  asio::post(executor_, [this] {
    stopping_ = true;
    wake_.cancel();
  });
}

void WebhookDispatcher::kick() {
  asio::post(executor_, [this] { wake_.cancel(); });
}

void WebhookDispatcher::enqueue(std::vector<OutboxItem> items) {
  if (items.empty()) return;
  for (auto& item : items) due_.emplace(item.next_ms, std::move(item));
  update_pending();
  wake_.cancel();
}

void WebhookDispatcher::post(std::vector<OutboxItem> items) {
  asio::post(executor_, [this, items = std::move(items)]() mutable { enqueue(std::move(items)); });
}

const std::vector<std::int64_t>& WebhookDispatcher::schedule_for(const Subscriber* sub) const {
  if (sub && !sub->attributes.retry_schedule_ms.empty()) return sub->attributes.retry_schedule_ms;
  return options_.retry_schedule_ms;
}

asio::awaitable<void> WebhookDispatcher::dispatch_loop() {
  while (!stopping_) {
    const std::int64_t now = clock_.now_ms();
    while (in_flight_ < options_.max_in_flight && !due_.empty() && due_.begin()->first <= now) {
      OutboxItem item = std::move(due_.begin()->second);
      due_.erase(due_.begin());
      // A channel's own webhook has no subscriber row; its rate limit is the channel's.
      SubscriberPtr sub = registry_.subscriber(item.target_sid);
      ChannelPtr ch = registry_.channel_by_sid(item.channel_sid);
      const bool gone = is_sid(item.target_sid, "SB") ? (!sub || sub->status != "active") : !ch;
      if (gone) {
        const std::int64_t id = item.id;
        const std::string reason =
            sub ? "endpoint disabled: " + sub->status_reason : "endpoint deleted";
        store_.write(
            [id, reason, now](Db& db) -> Status {
              auto st = db.prepare(
                  "UPDATE outbox SET status='cancelled', last_error=?2, updated_ms=?3 WHERE id=?1");
              if (!st) return st.error();
              (*st)->bind(1, id).bind(2, reason).bind(3, now);
              return step_done(db, **st, "outbox");
            },
            nullptr);
        continue;
      }
      const RateLimit limit = sub && sub->attributes.rate_limit ? *sub->attributes.rate_limit
                              : ch                              ? ch->attributes.rate_limit
                                                                : RateLimit{};
      if (limit.enabled()) {
        auto [bit, fresh] = buckets_.try_emplace(item.target_sid, limit, now);
        if (!bit->second.try_take(now)) {
          const auto wait = bit->second.wait_ms(now);
          item.next_ms = now + wait;
          due_.emplace(item.next_ms, std::move(item));
          continue;
        }
      }
      ++in_flight_;
      asio::co_spawn(executor_, deliver(std::move(item)), asio::detached);
    }
    update_pending();
    if (in_flight_ >= options_.max_in_flight || due_.empty()) {
      wake_.expires_after(std::chrono::hours(1));
    } else {
      wake_.expires_after(
          std::chrono::milliseconds(std::max<std::int64_t>(0, due_.begin()->first - now)));
    }
    boost::system::error_code ec;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> WebhookDispatcher::deliver(OutboxItem item) {
  SubscriberPtr sub = registry_.subscriber(item.target_sid);
  ChannelPtr ch = registry_.channel_by_sid(item.channel_sid);
  std::vector<std::string> secrets;
  std::int64_t timeout_ms = 15000;
  const std::int64_t start = clock_.now_ms();
  if (sub) {
    secrets.push_back(sub->secret);
    if (!sub->previous_secret.empty() && sub->previous_expires_ms > start) {
      secrets.push_back(sub->previous_secret);
    }
    timeout_ms = sub->attributes.timeout_ms;
  } else if (ch && ch->attributes.webhook) {
    secrets.push_back(ch->attributes.webhook->secret.empty() ? ch->signing_secret
                                                             : ch->attributes.webhook->secret);
  } else if (ch) {
    secrets.push_back(ch->signing_secret);
  }
  const std::int64_t ts = start / 1000;
  http::ClientRequest req;
  req.method = "POST";
  req.url = item.url;
  req.headers = {{"Content-Type", "application/cloudevents+json"},
                 {"webhook-id", item.event_sid},
                 {"webhook-timestamp", std::to_string(ts)},
                 {"webhook-signature", signature_header(secrets, item.event_sid, ts, *item.body)}};
  req.body = *item.body;
  if (ch) req.account_sid = ch->account_sid;  // the channel's account's outbound policy
  http::ConnectionSettings settings;
  settings.connect_timeout = std::chrono::milliseconds(std::min<std::int64_t>(timeout_ms, 5000));
  settings.read_timeout = std::chrono::milliseconds(timeout_ms);
  settings.total_timeout = std::chrono::milliseconds(timeout_ms);
  settings.retry_count = 0;
  req.settings = settings;
  req.max_body_bytes = 64 * 1024;
  // The client is destroyed only when the router stops: its fetches then end with
  // operation_aborted, and the row stays pending, retried after restart.
  std::optional<Result<http::ClientResponse>> fetched;
  try {
    fetched.emplace(co_await client_->fetch(std::move(req)));
  } catch (const boost::system::system_error& e) {
    if (e.code() != asio::error::operation_aborted) throw;
    co_return;
  }
  if (stopping_) co_return;  // the row stays pending; retried after restart
  const Result<http::ClientResponse>& res = *fetched;
  const std::int64_t now = clock_.now_ms();
  const int status = res ? res->status : 0;
  const std::string error =
      res ? (res->ok() ? "" : "HTTP " + std::to_string(status)) : res.error().message;
  std::optional<std::string> retry_after;
  if (res) {
    if (auto h = res->header("Retry-After")) retry_after = std::string(*h);
  }
  const int attempt = item.attempts + 1;
  const auto outcome = classify_attempt(status, retry_after, attempt, schedule_for(sub.get()), now);
  const char* row_status = "pending";
  std::int64_t next = 0;
  switch (outcome.kind) {
    case AttemptOutcome::Kind::kDelivered:
      row_status = "delivered";
      break;
    case AttemptOutcome::Kind::kRetry:
      next = outcome.next_attempt_ms;
      break;
    case AttemptOutcome::Kind::kExhausted:
    case AttemptOutcome::Kind::kGone:
      row_status = "failed";
      break;
  }
  const std::int64_t id = item.id;
  const std::string target = item.target_sid;
  const bool delivered = outcome.kind == AttemptOutcome::Kind::kDelivered;
  store_.write(
      [=](Db& db) -> Status {
        {
          auto st = db.prepare(
              "UPDATE outbox SET status=?2, attempts=?3, next_attempt_ms=?4, last_status=?5,"
              " last_error=?6, updated_ms=?7 WHERE id=?1 AND status='pending'");
          if (!st) return st.error();
          (*st)
              ->bind(1, id)
              .bind(2, std::string_view(row_status))
              .bind(3, attempt)
              .bind(4, next)
              .bind(5, status)
              .bind(6, error)
              .bind(7, now);
          if (Status s = step_done(db, **st, "outbox"); !s) return s;
        }
        {
          auto st = db.prepare(
              "INSERT INTO attempts(outbox_id, target_sid, attempt, status_code, error, "
              "duration_ms,"
              " time_ms, next_retry_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
          if (!st) return st.error();
          (*st)
              ->bind(1, id)
              .bind(2, target)
              .bind(3, attempt)
              .bind(4, status)
              .bind(5, error)
              .bind(6, now - start)
              .bind(7, start)
              .bind(8, next);
          if (Status s = step_done(db, **st, "attempt"); !s) return s;
        }
        if (delivered) {
          auto st = db.prepare("UPDATE subscribers SET last_success_ms=?2 WHERE sid=?1");
          if (!st) return st.error();
          (*st)->bind(1, target).bind(2, now);
          return step_done(db, **st, "subscriber");
        }
        return Ok{};
      },
      nullptr);
  if (delivered && sub) registry_.record_success(sub->sid, now);
  if (outcome.kind == AttemptOutcome::Kind::kRetry) {
    item.attempts = attempt;
    item.next_ms = outcome.next_attempt_ms;
    due_.emplace(item.next_ms, std::move(item));
  } else if (outcome.kind == AttemptOutcome::Kind::kGone) {
    if (on_disable_) on_disable_(target, "endpoint answered 410 Gone");
  } else if (outcome.kind == AttemptOutcome::Kind::kExhausted) {
    // Disabled only when nothing reached it since this message was first accepted.
    if (sub && sub->last_success_ms < item.created_ms && on_disable_) {
      on_disable_(target,
                  "every retry failed (last: " + (error.empty() ? std::string("?") : error) + ")");
    }
  }
  --in_flight_;
  update_pending();
  wake_.cancel();
}

}  // namespace sb::events
