// Live stream fan-out: the open WebSocket/SSE queues of each channel, and the hand-off of
// committed events to them: one job per worker executor and commit, merged into one flush per
// connection when a busy worker lets jobs queue up. Any thread; its own lock.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "events/attributes.hpp"
#include "events/stream_queue.hpp"

namespace sb::events {

// What a stream is configured with (a stream subscriber's attributes, or the defaults for an
// anonymous stream).
struct StreamSettings {
  std::size_t queue_max = 1000;
  Overflow overflow = Overflow::kDisconnect;
  Filter filter;
};

class StreamFanout {
 public:
  // A queue for a new stream of `channel_sid` served on `executor`; closed at once after
  // close_all().
  std::shared_ptr<StreamQueue> open(const std::string& channel_sid, const StreamSettings& settings,
                                    asio::any_io_executor executor);
  void close(const std::string& channel_sid, const std::shared_ptr<StreamQueue>& q);
  // Ends the channel's streams (it was deleted).
  void close_channel(const std::string& channel_sid);
  // Ends every stream, and those that open from now on (the daemon is draining).
  void close_all();
  bool has_streams(const std::string& channel_sid) const;
  std::size_t workers() const;  // executors with open streams (tests)

  // Committed events as (channel sid, item), in commit order: hands each to the channel's
  // streams, one posted job per executor. Call it in commit order (the writer thread does), so
  // every stream sees history order.
  void fan_out(const std::vector<std::pair<std::string, StreamItemPtr>>& committed);

 private:
  // Per worker executor: the queues that received events since the worker's last flush. Jobs
  // run on that executor; the flush is one posted handler, so jobs that queue up behind it
  // (a busy worker) are merged into one write per connection.
  struct WorkerFanout {
    asio::any_io_executor executor;
    std::size_t streams = 0;                          // open on this executor (under mu_)
    std::vector<std::shared_ptr<StreamQueue>> dirty;  // executor only
    bool flush_pending = false;                       // executor only
  };
  std::shared_ptr<WorkerFanout>& worker_for(const asio::any_io_executor& executor);  // under mu_

  mutable std::mutex mu_;
  bool closed_ = false;  // close_all() was called
  // An entry lives while a stream is open on its executor (and while a job still holds it),
  // so an executor that goes away leaves nothing behind.
  std::vector<std::shared_ptr<WorkerFanout>> workers_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<StreamQueue>>> streams_;
};

}  // namespace sb::events
