// The durable webhook outbox and its dispatcher: pending deliveries (rows of events.db's
// outbox, loaded again after a restart), sent as signed CloudEvents POSTs within a concurrency
// bound and each target's rate limit, retried on the subscriber's schedule, and the endpoints
// that answer 410 or never succeed disabled. Its state belongs to one executor (the events
// thread); enqueue from elsewhere with post().
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/time.hpp"
#include "events/delivery_policy.hpp"
#include "events/event_store.hpp"
#include "events/registry.hpp"
#include "http/client.hpp"

namespace sb::events {

struct OutboxItem {
  std::int64_t id = 0;
  std::string target_sid;  // SB… or, for a channel's webhook attribute, its CH…
  std::string channel_sid;
  std::string url;
  std::string event_sid;
  std::shared_ptr<const std::string> body;
  int attempts = 0;
  std::int64_t next_ms = 0;
  std::int64_t created_ms = 0;
};

// Inserts `item` as a pending row (its id is filled in), in the caller's write job.
Status insert_outbox(Db& db, OutboxItem& item, std::int64_t now_ms);

struct DispatchOptions {
  std::vector<std::int64_t> retry_schedule_ms = default_retry_schedule();
  std::size_t max_in_flight = 64;  // webhook requests at once
};

class WebhookDispatcher {
 public:
  WebhookDispatcher(asio::any_io_executor executor, EventStore& store, ChannelRegistry& registry,
                    const Clock& clock, DispatchOptions options);
  // The client deliveries go through (used on the executor); set before start().
  void use_client(http::HttpClient& client) { client_ = &client; }
  // Called on the executor when a delivery's outcome disabled its endpoint (410 Gone, or
  // every retry failed for an endpoint that never succeeded since the message was accepted).
  void on_disable(std::function<void(const std::string& target_sid, std::string reason)> f) {
    on_disable_ = std::move(f);
  }

  // Reads the pending rows (before start()).
  Status load(Db& db);
  // Starts the dispatch loop on the executor.
  void start();
  // Stops dispatching: deliveries in flight are abandoned (their rows stay pending and are
  // retried after a restart). Call from any thread before the executor stops.
  void stop();

  // On the executor: committed deliveries to send.
  void enqueue(std::vector<OutboxItem> items);
  // Any thread: the same, posted to the executor.
  void post(std::vector<OutboxItem> items);
  // Any thread: re-evaluates due deliveries now (after a test clock moved).
  void kick();
  // Any thread: deliveries waiting or in flight.
  std::size_t pending() const { return pending_count_.load(); }

 private:
  asio::awaitable<void> dispatch_loop();
  asio::awaitable<void> deliver(OutboxItem item);
  const std::vector<std::int64_t>& schedule_for(const Subscriber* sub) const;
  void update_pending() { pending_count_ = due_.size() + in_flight_; }

  asio::any_io_executor executor_;
  EventStore& store_;
  ChannelRegistry& registry_;
  const Clock& clock_;
  DispatchOptions options_;
  http::HttpClient* client_ = nullptr;
  std::function<void(const std::string&, std::string)> on_disable_;

  // Executor only.
  std::multimap<std::int64_t, OutboxItem> due_;
  std::unordered_map<std::string, TokenBucket> buckets_;
  std::size_t in_flight_ = 0;
  asio::steady_timer wake_;
  bool stopping_ = false;
  std::atomic<std::size_t> pending_count_{0};
};

}  // namespace sb::events
