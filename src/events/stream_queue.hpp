// The bounded queue between the router and one live stream client (WebSocket or SSE). The
// router pushes on the connection's executor (one job per worker and commit); the connection's
// coroutine waits there too. When the queue is full the overflow policy either drops the
// oldest event or ends the connection.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "events/attributes.hpp"
#include "events/event.hpp"

namespace sb::events {

namespace asio = boost::asio;

// One event as streams send it: its history sequence (for de-duplication against a resume),
// id, and CloudEvent JSON text; `body` for subscriber filters.
struct StreamItem {
  std::int64_t seq = 0;
  std::string event_sid;
  std::string json;
  std::shared_ptr<const Body> body;
};
using StreamItemPtr = std::shared_ptr<const StreamItem>;

class StreamQueue : public std::enable_shared_from_this<StreamQueue> {
 public:
  StreamQueue(asio::any_io_executor executor, std::size_t max_events, Overflow overflow,
              Filter filter);

  // On the executor: queues `item` (subscriber filter and overflow policy applied) without
  // waking the consumer. The router pushes a batch of events and then calls deliver() once,
  // so a batch costs neither a post per queue nor a wake per event.
  void push(const StreamItemPtr& item);
  // On the executor: wakes a waiting consumer, or hands the queued items to its direct sink.
  void deliver();
  const asio::any_io_executor& executor() const { return executor_; }

  // Set (on the executor) by a consumer that can send synchronously while it waits, with
  // nothing pending on its connection. deliver() then hands the queued items to the sink
  // instead of waking the consumer, which saves a coroutine round trip per event. The sink
  // runs under the queue's lock and must not call back into it. It returns true when it sent
  // everything and removed it from the deque; false leaves the consumer to be woken for the
  // rest (items it did not take stay queued). Clear it before the consumer ends.
  using DirectSink = std::function<bool(std::deque<StreamItemPtr>& items)>;
  void set_direct_sink(DirectSink sink);

  // The router's mark, on the executor: this queue is already in the worker's next flush.
  bool flush_scheduled = false;
  // Any thread: wakes the consumer, which then sees closed().
  void close();
  // Any thread: wakes a waiting consumer (it has something else to do, e.g. answer a ping).
  void notify();

  // The consumer, on `executor`: waits until an item is queued, the queue closes or overflows,
  // or `deadline` passes.
  asio::awaitable<void> wait(std::chrono::steady_clock::time_point deadline);
  // Replaces `out` with up to `max` queued items, oldest first (a paced consumer takes one at
  // a time, so the bound and overflow policy keep applying to what it has not sent). Taking
  // everything swaps containers, so a consumer that reuses `out` allocates nothing.
  void take(std::deque<StreamItemPtr>& out, std::size_t max = SIZE_MAX);
  bool overflowed() const;
  bool closed() const;
  std::uint64_t dropped() const;

 private:
  void wake_locked();  // posts the wake: close() and notify() come from any thread

  asio::any_io_executor executor_;
  asio::steady_timer timer_;
  const std::size_t max_;
  const Overflow overflow_;
  const Filter filter_;
  mutable std::mutex mu_;
  std::deque<StreamItemPtr> items_;
  DirectSink sink_;
  bool waiting_ = false;
  bool overflowed_ = false;
  bool closed_ = false;
  std::uint64_t dropped_ = 0;
};

}  // namespace sb::events
