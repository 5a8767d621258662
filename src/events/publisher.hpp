// The publisher: runs events through their channel's pipeline on the events executor, commits
// history, outbox rows and the idempotency record in one write, then hands the committed
// events to the live streams (in commit order, on the writer thread) and the webhook
// deliveries to the outbox. Also the daemon's own fire-and-forget events (publish_system).
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "events/event.hpp"
#include "events/event_store.hpp"
#include "events/outbox.hpp"
#include "events/pipeline.hpp"
#include "events/registry.hpp"
#include "events/stream_fanout.hpp"

namespace sb::events {

struct Published {
  json::value response;  // the API's JSON
  bool replayed = false;
};

class Publisher {
 public:
  // Committed webhook deliveries, called on the events executor.
  using OutboxSink = std::function<void(std::vector<OutboxItem>)>;

  Publisher(asio::any_io_executor executor, EventStore& store, ChannelRegistry& registry,
            StreamFanout& streams, const Clock& clock, std::size_t max_system_backlog);
  // Set before the first publish.
  void use_delegates(DelegateInvoker& delegates) { delegates_ = &delegates; }
  void to_outbox(OutboxSink sink) { outbox_ = std::move(sink); }

  // Publishes `bodies` on `channel` as `publisher_kind` ("account", "token", "system"); from any
  // executor, run on the events executor. Completes once every history and outbox row is
  // committed. With an idempotency key a repeat returns the first response (replayed = true).
  asio::awaitable<Result<Published>> publish(ChannelPtr channel, std::string publisher_kind,
                                             std::vector<Body> bodies,
                                             std::optional<std::string> idempotency_key,
                                             bool batch);
  // Any thread, never blocks: creates the channel (and its ancestors) with default attributes
  // when missing. Beyond `max_system_backlog` waiting, events are dropped (logged).
  void publish_system(std::string account_sid, std::string channel, std::string type,
                      json::value data);

 private:
  // The state publishing coroutines' guards touch; shared, so a coroutine frame destroyed with
  // the executor after the publisher is gone still finds it.
  struct Shared {
    std::set<std::pair<std::string, std::string>> idempotency_in_flight;  // executor only
    std::atomic<std::size_t> system_backlog{0};
  };

  asio::awaitable<Result<Published>> publish_here(ChannelPtr channel, std::string kind,
                                                  std::vector<Body> bodies,
                                                  std::optional<std::string> key, bool batch);
  asio::awaitable<void> system_publish(std::string account_sid, std::string channel,
                                       std::string type, json::value data);

  asio::any_io_executor executor_;
  EventStore& store_;
  ChannelRegistry& registry_;
  StreamFanout& streams_;
  const Clock& clock_;
  const std::size_t max_system_backlog_;
  DelegateInvoker* delegates_ = nullptr;
  OutboxSink outbox_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
};

}  // namespace sb::events
