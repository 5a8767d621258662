// The event router as the API and the daemon see it: a thin facade over its parts (registry,
// publisher, webhook outbox and dispatcher, stream fan-out, history and replay, tokens), each
// in its own file with its own state and lock. It owns events.db and the events thread (an
// io_context where the pipeline, delegates and webhook deliveries run); everything public is
// safe to call from any worker thread.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/time.hpp"
#include "events/attributes.hpp"
#include "events/delivery_policy.hpp"
#include "events/event.hpp"
#include "events/event_store.hpp"
#include "events/history.hpp"
#include "events/http_delegate.hpp"
#include "events/outbox.hpp"
#include "events/pipeline.hpp"
#include "events/publisher.hpp"
#include "events/registry.hpp"
#include "events/stream_fanout.hpp"
#include "events/stream_queue.hpp"
#include "events/tokens.hpp"
#include "http/client.hpp"

namespace sb::events {

struct ServiceOptions {
  std::vector<std::int64_t> retry_schedule_ms = default_retry_schedule();
  std::size_t max_in_flight = 64;                 // webhook requests at once
  std::int64_t rotation_overlap_ms = 86'400'000;  // old secret still signs this long
  std::size_t max_system_backlog = 10'000;        // publish_system calls waiting, beyond: dropped
  bool verify_tls = true;
};

class EventService final {
 public:
  using SubscriberUpdate = events::SubscriberUpdate;
  using Published = events::Published;
  using OutboxItem = events::OutboxItem;

  static Result<std::unique_ptr<EventService>> open(const std::string& db_path,
                                                    ServiceOptions options, const Clock& clock);
  // For tests: a delegate/webhook HTTP client of the caller's (used on the events thread).
  void use_http_client(std::unique_ptr<http::HttpClient> client);
  ~EventService();

  void start();  // makes the token key if needed, starts dispatching and the events thread
  void stop();   // stops dispatching, joins the thread, commits and closes events.db
  // Any thread: ends every live stream (WebSocket clients get close 1001, going away); the
  // daemon calls it first when it drains, so clients learn to reconnect elsewhere.
  void close_streams() { streams_.close_all(); }
  asio::any_io_executor executor() { return io_.get_executor(); }

  // ---- channels ----
  asio::awaitable<Result<ChannelPtr>> create_channel(std::string account_sid, std::string name,
                                                     json::value attributes) {
    return registry_.create_channel(std::move(account_sid), std::move(name), std::move(attributes));
  }
  asio::awaitable<Result<ChannelPtr>> update_channel(ChannelPtr channel,
                                                     std::optional<json::value> attributes) {
    return registry_.update_channel(std::move(channel), std::move(attributes));
  }
  // And ends its live streams.
  asio::awaitable<Status> delete_channel(ChannelPtr channel);
  ChannelPtr find_channel(std::string_view account_sid, std::string_view name) const {
    return registry_.find_channel(account_sid, name);
  }
  // A CH… SID or a unique name.
  ChannelPtr resolve_channel(std::string_view account_sid, std::string_view ref) const {
    return registry_.resolve_channel(account_sid, ref);
  }
  std::vector<ChannelPtr> list_channels(std::string_view account_sid) const {
    return registry_.list_channels(account_sid);
  }

  // ---- subscribers ----
  asio::awaitable<Result<SubscriberPtr>> create_subscriber(ChannelPtr channel, std::string type,
                                                           std::string url, std::string secret,
                                                           json::value attributes) {
    return registry_.create_subscriber(std::move(channel), std::move(type), std::move(url),
                                       std::move(secret), std::move(attributes));
  }
  asio::awaitable<Result<SubscriberPtr>> update_subscriber(SubscriberPtr sub, SubscriberUpdate u) {
    return registry_.update_subscriber(std::move(sub), std::move(u));
  }
  asio::awaitable<Status> delete_subscriber(SubscriberPtr sub) {
    return registry_.delete_subscriber(std::move(sub));
  }
  SubscriberPtr find_subscriber(std::string_view account_sid, std::string_view sid) const {
    return registry_.find_subscriber(account_sid, sid);
  }
  std::vector<SubscriberPtr> list_subscribers(std::string_view channel_sid) const {
    return registry_.list_subscribers(channel_sid);
  }

  // ---- publishing ----
  // See Publisher::publish: completes once every history and outbox row is committed.
  asio::awaitable<Result<Published>> publish(ChannelPtr channel, std::string publisher_kind,
                                             std::vector<Body> bodies,
                                             std::optional<std::string> idempotency_key,
                                             bool batch) {
    return publisher_.publish(std::move(channel), std::move(publisher_kind), std::move(bodies),
                              std::move(idempotency_key), batch);
  }
  // The call router's hook: fire-and-forget from any thread, never blocks; creates the channel
  // with default attributes when it does not exist.
  void publish_system(std::string account_sid, std::string channel, std::string type,
                      json::value data) {
    publisher_.publish_system(std::move(account_sid), std::move(channel), std::move(type),
                              std::move(data));
  }

  // ---- history and streams ----
  Result<HistoryPage> history(const Channel& channel, std::optional<std::string> after_event_sid,
                              std::size_t limit) {
    return history_.page(channel, std::move(after_event_sid), limit);
  }
  std::shared_ptr<StreamQueue> open_stream(const Channel& channel, const Subscriber* subscriber,
                                           asio::any_io_executor executor);
  void close_stream(const std::string& channel_sid, const std::shared_ptr<StreamQueue>& q) {
    streams_.close(channel_sid, q);
  }
  RateLimit stream_rate_limit(const Channel& channel, const Subscriber* subscriber) const;

  // ---- deliveries, replay ----
  Result<json::array> deliveries(const Subscriber& sub, std::size_t limit) {
    return history_.deliveries(sub, limit);
  }
  // Re-queues the channel's events with time in [from_ms, to_ms] for `sub`; returns how many.
  asio::awaitable<Result<std::int64_t>> replay(SubscriberPtr sub, std::int64_t from_ms,
                                               std::int64_t to_ms);

  // ---- tokens ----
  std::string issue_token(const AccessToken& token) const { return tokens_.issue(token); }
  std::optional<AccessToken> verify_token(std::string_view token) const {
    return tokens_.verify(token);
  }

  const Clock& clock() const { return clock_; }
  // Re-evaluates due webhook deliveries now (after a test clock moved); any thread.
  void kick() { dispatcher_.kick(); }
  // Blocks until every events.db write queued so far is committed (tests, tools).
  void flush_store() { store_->flush(); }
  std::size_t pending_webhooks() const { return dispatcher_.pending(); }

 private:
  EventService(std::unique_ptr<EventStore> store, ServiceOptions options, const Clock& clock);
  Status load();
  // The dispatcher gave up on an endpoint: disable it and say so on the system channel.
  void disable_target(const std::string& target_sid, std::string reason);

  std::unique_ptr<EventStore> store_;
  ServiceOptions options_;
  const Clock& clock_;

  // Declared before the parts: coroutine frames still queued when the io_context is destroyed
  // hold only shared state of theirs, and the parts' timers go before the io_context does.
  asio::io_context io_{1};
  std::thread thread_;
  std::unique_ptr<http::HttpClient> client_;
  std::unique_ptr<DelegateInvoker> delegates_;

  ChannelRegistry registry_;
  StreamFanout streams_;
  WebhookDispatcher dispatcher_;
  Publisher publisher_;
  EventHistory history_;
  TokenSigner tokens_;
  std::atomic<bool> started_{false};
};

}  // namespace sb::events
