// The bounded queue between the router and one live stream client (WebSocket or SSE). The
// router pushes from any thread; the connection's coroutine waits on its own executor. When the
// queue is full the overflow policy either drops the oldest event or ends the connection.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
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

  // Any thread. Applies the subscriber filter and the overflow policy.
  void push(const StreamItemPtr& item);
  // Any thread: wakes the consumer, which then sees closed().
  void close();

  // The consumer, on `executor`: waits until an item is queued, the queue closes or overflows,
  // or `deadline` passes.
  asio::awaitable<void> wait(std::chrono::steady_clock::time_point deadline);
  // Up to `max` queued items, oldest first (a paced consumer takes one at a time, so the
  // bound and overflow policy keep applying to what it has not sent).
  std::deque<StreamItemPtr> take(std::size_t max = SIZE_MAX);
  bool overflowed() const;
  bool closed() const;
  std::uint64_t dropped() const;

 private:
  void wake_locked();

  asio::any_io_executor executor_;
  asio::steady_timer timer_;
  const std::size_t max_;
  const Overflow overflow_;
  const Filter filter_;
  mutable std::mutex mu_;
  std::deque<StreamItemPtr> items_;
  bool waiting_ = false;
  bool overflowed_ = false;
  bool closed_ = false;
  std::uint64_t dropped_ = 0;
};

}  // namespace sb::events
