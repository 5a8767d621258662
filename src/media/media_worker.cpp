#include "media/media_worker.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace sb::media {

MediaWorker::MediaWorker(asio::any_io_executor executor, LatchPolicy latch)
    : executor_(executor), latch_(latch), timer_(executor) {
  streams_.reserve(1024);
}

MediaWorker::~MediaWorker() { stop(); }

void MediaWorker::start() {
  if (running_) return;
  running_ = true;
  next_ = std::chrono::steady_clock::now() + kInterval;
  arm();
}

void MediaWorker::stop() {
  running_ = false;
  timer_.cancel();
}

void MediaWorker::arm() {
  timer_.expires_at(next_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || !running_) return;
    const auto now = std::chrono::steady_clock::now();
    const auto lateness = std::chrono::duration_cast<std::chrono::microseconds>(now - next_);
    stats_.max_lateness = std::max(stats_.max_lateness, lateness);
    tick(next_);
    next_ += kInterval;
    // Fell more than a tick behind (a stall): skip the missed ticks rather than burst them.
    if (now - next_ > kInterval) {
      ++stats_.late_ticks;
      while (next_ + kInterval < now) next_ += kInterval;
    }
    arm();
  });
}

void MediaWorker::tick(std::chrono::steady_clock::time_point now) {
  ++stats_.ticks;
  ticking_ = true;
  // Index loop: streams added during the tick are serviced from the next one.
  const std::size_t n = streams_.size();
  const auto elapsed = static_cast<std::uint32_t>(kInterval.count());
  for (std::size_t i = 0; i < n; ++i) {
    if (streams_[i]) streams_[i]->on_tick(now, elapsed);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (streams_[i]) streams_[i]->on_tick_done(now, elapsed);
  }
  ticking_ = false;
  if (removed_ > 0) {
    streams_.erase(std::remove(streams_.begin(), streams_.end(), nullptr), streams_.end());
    removed_ = 0;
  }
}

void MediaWorker::add(PacedStream* stream) { streams_.push_back(stream); }

void MediaWorker::remove(PacedStream* stream) {
  auto it = std::find(streams_.begin(), streams_.end(), stream);
  if (it == streams_.end()) return;
  if (ticking_) {
    *it = nullptr;
    ++removed_;
  } else {
    *it = streams_.back();
    streams_.pop_back();
  }
}

Status use_realtime_scheduling(int priority) {
  if (priority < 1 || priority > 99) {
    return Error::bad_request(codes::kInvalidParameter,
                              "real-time priority must be 1-99, not " + std::to_string(priority));
  }
  sched_param param{};
  param.sched_priority = priority;
  if (const int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param); rc != 0) {
    return Error::internal(std::string("SCHED_FIFO refused: ") + std::strerror(rc));
  }
  return Ok{};
}

}  // namespace sb::media
