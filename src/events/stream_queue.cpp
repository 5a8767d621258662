#include "events/stream_queue.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sb::events {

StreamQueue::StreamQueue(asio::any_io_executor executor, std::size_t max_events, Overflow overflow,
                         Filter filter)
    : executor_(executor),
      timer_(executor),
      max_(max_events),
      overflow_(overflow),
      filter_(std::move(filter)) {}

void StreamQueue::wake_locked() {
  if (!waiting_) return;
  waiting_ = false;
  asio::post(executor_, [self = shared_from_this()] { self->timer_.cancel(); });
}

void StreamQueue::push(const StreamItemPtr& item) {
  if (item->body && !filter_.passes(*item->body)) return;
  std::lock_guard lock(mu_);
  if (closed_ || overflowed_) return;
  if (items_.size() >= max_) {
    if (overflow_ == Overflow::kDropOldest) {
      items_.pop_front();
      ++dropped_;
    } else {
      overflowed_ = true;
      items_.clear();
      return;
    }
  }
  items_.push_back(item);
}

void StreamQueue::deliver() {
  std::lock_guard lock(mu_);
  if (!waiting_ || (items_.empty() && !overflowed_ && !closed_)) return;
  if (sink_ && !overflowed_ && !closed_ && sink_(items_)) return;
  waiting_ = false;
  timer_.cancel();
}

void StreamQueue::set_direct_sink(DirectSink sink) {
  std::lock_guard lock(mu_);
  sink_ = std::move(sink);
}

void StreamQueue::notify() {
  std::lock_guard lock(mu_);
  wake_locked();
}

void StreamQueue::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  wake_locked();
}

asio::awaitable<void> StreamQueue::wait(std::chrono::steady_clock::time_point deadline) {
  {
    std::lock_guard lock(mu_);
    if (!items_.empty() || overflowed_ || closed_) co_return;
    waiting_ = true;
  }
  // The wake is posted to this executor, so it cannot run before the wait below has begun.
  timer_.expires_at(deadline);
  boost::system::error_code ec;
  co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  std::lock_guard lock(mu_);
  waiting_ = false;
}

void StreamQueue::take(std::deque<StreamItemPtr>& out, std::size_t max) {
  out.clear();
  std::lock_guard lock(mu_);
  if (items_.size() <= max) {
    out.swap(items_);
    return;
  }
  const auto end = items_.begin() + static_cast<std::ptrdiff_t>(max);
  out.assign(items_.begin(), end);
  items_.erase(items_.begin(), end);
}

bool StreamQueue::overflowed() const {
  std::lock_guard lock(mu_);
  return overflowed_;
}
bool StreamQueue::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}
std::uint64_t StreamQueue::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

}  // namespace sb::events
