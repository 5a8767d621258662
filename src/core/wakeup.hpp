// Wakeup: an edge-triggered wake-up for one coroutine on an Asio executor (a digit arrived, a
// recording finished, a reply came back from another thread).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>

namespace sb {

// notify() ends the current wait, or the next one if nobody waits yet. Use it on its executor.
class Wakeup {
 public:
  explicit Wakeup(boost::asio::any_io_executor executor);
  void notify();
  // True when notified, false on timeout. Cancelling the waiting coroutine (a hang-up, a live
  // modification) ends the wait with the operation_aborted exception, as any Asio wait does.
  boost::asio::awaitable<bool> wait(
      std::optional<std::chrono::milliseconds> timeout = std::nullopt);

 private:
  boost::asio::steady_timer timer_;
  bool fired_ = false;
};

}  // namespace sb
