// History and replay: a channel's stored events (pages, resuming after an event id, with a gap
// signal when that id has been pruned), a subscriber's delivery log with its attempts, and the
// re-queueing of a time window of history for one webhook subscriber. Reads on the caller's
// thread from a reader connection; replay's rows are committed before they are handed on.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "events/event_store.hpp"
#include "events/outbox.hpp"
#include "events/pipeline.hpp"
#include "events/registry.hpp"
#include "events/stream_queue.hpp"

namespace sb::events {

struct HistoryPage {
  std::vector<StreamItem> items;
  bool gap = false;  // the id resumed from is no longer (or never was) in history
  bool has_more = false;
};

class EventHistory {
 public:
  EventHistory(EventStore& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Up to `limit` events of the channel, oldest first, after `after_event_sid` (from the start
  // without one).
  Result<HistoryPage> page(const Channel& channel, std::optional<std::string> after_event_sid,
                           std::size_t limit);
  // The subscriber's latest `limit` deliveries, newest first, each with its attempts (the
  // API's JSON).
  Result<json::array> deliveries(const Subscriber& sub, std::size_t limit);
  // Commits new outbox rows for the channel's events with time in [from_ms, to_ms] that pass
  // the subscriber's filter (10,000 at most), and returns them for the dispatcher.
  asio::awaitable<Result<std::vector<OutboxItem>>> replay(SubscriberPtr sub, std::int64_t from_ms,
                                                          std::int64_t to_ms);

 private:
  EventStore& store_;
  const Clock& clock_;
};

}  // namespace sb::events
