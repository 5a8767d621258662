// Work that must not run on an event loop (reading and decoding audio, writing the media cache,
// speech synthesis): BlockingPool, a few threads with a bounded queue, and Handoff, which
// brings a result made there back to the coroutine waiting for it, on that coroutine's own
// executor. The work holds only the Handoff, never the caller's state: a caller that is
// cancelled (it hung up) or gives up (timeout) resumes at once, and the result that comes
// later is dropped.
#pragma once

#include <atomic>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "core/error.hpp"

namespace sb::media {

namespace asio = boost::asio;

class BlockingPool {
 public:
  struct Options {
    unsigned threads = 1;
    std::size_t max_queued = 64;  // tasks waiting for a thread; beyond, try_post refuses
    // The threads' nice value: below the media workers, so that on a busy host a decode or a
    // synthesis waits for a core rather than the 20 ms tick (0 leaves them as they are).
    int nice = 10;
  };
  explicit BlockingPool(Options options);
  // Runs what is queued, then joins: every posted task runs exactly once.
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Queues `task` (void(), must not throw); false, at once, when the queue is full.
  template <typename F>
  bool try_post(F&& task) {
    std::size_t queued = queued_.load(std::memory_order_relaxed);
    do {
      if (queued >= options_.max_queued) {
        rejected_.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
    } while (!queued_.compare_exchange_weak(queued, queued + 1, std::memory_order_relaxed));
    asio::post(pool_, [this, task = std::forward<F>(task)]() mutable {
      queued_.fetch_sub(1, std::memory_order_relaxed);
      task();
    });
    return true;
  }

  unsigned threads() const { return options_.threads; }
  std::size_t max_queued() const { return options_.max_queued; }
  std::size_t queued() const { return queued_.load(std::memory_order_relaxed); }
  std::uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }

 private:
  Options options_;
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::uint64_t> rejected_{0};
  asio::thread_pool pool_;  // last: joined before the counters it touches go away
};

// min(4, cores), at least 1: enough that one slow request does not hold up the others,
// few enough that synthesis cannot take every core from the media workers.
unsigned default_blocking_threads(unsigned at_most = 4);

// One result handed from a pool thread to one waiting coroutine. deliver() may come before,
// during or after wait(); the first of deliver(), the waiter's cancellation and its timeout
// settles the wait.
template <typename T>
class Handoff : public std::enable_shared_from_this<Handoff<T>> {
 public:
  // From any thread. False when the wait was already settled (the value is dropped).
  bool deliver(Result<T> value) {
    std::unique_lock lock(mu_);
    if (settled_) return false;
    settled_ = true;
    value_.emplace(std::move(value));
    resume(lock, {});
    return true;
  }

  // On the waiting coroutine's executor. Throws operation_aborted when the coroutine is
  // cancelled first; returns `expired` when `timeout` passes first. Once per Handoff.
  asio::awaitable<Result<T>> wait(std::optional<std::chrono::steady_clock::duration> timeout,
                                  Error expired) {
    auto self = this->shared_from_this();
    std::optional<asio::steady_timer> timer;
    if (timeout) {
      const auto executor = co_await asio::this_coro::executor;
      timer.emplace(executor, *timeout);
      timer->async_wait([weak = this->weak_from_this(), expired](boost::system::error_code ec) {
        if (ec) return;
        if (auto s = weak.lock()) s->expire(std::move(expired));
      });
    }
    boost::system::error_code ec;
    // A plain local awaited: GCC 12 mishandles temporaries in co_await expressions.
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    auto settle = asio::async_initiate<decltype(token), void(boost::system::error_code)>(
        [self](auto handler) { self->arm(std::move(handler)); }, token);
    co_await std::move(settle);
    if (timer) timer->cancel();
    if (ec) throw boost::system::system_error(ec);
    co_return std::move(*value_);
  }

  bool settled() const {
    std::lock_guard lock(mu_);
    return settled_;
  }
  // The wait ended at its timeout.
  bool expired() const {
    std::lock_guard lock(mu_);
    return expired_;
  }

 private:
  using Handler = asio::any_completion_handler<void(boost::system::error_code)>;

  template <typename H>
  void arm(H handler) {
    auto executor = asio::get_associated_executor(handler);
    std::unique_lock lock(mu_);
    if (settled_) {
      lock.unlock();
      asio::post(executor,
                 [h = std::move(handler)]() mutable { std::move(h)(boost::system::error_code{}); });
      return;
    }
    // Type-erasing the handler puts a cancellation state of its own into the caller's slot:
    // listen on that state's slot, not on the caller's, which it has just taken over.
    handler_.emplace(std::move(handler));
    auto slot = handler_->get_cancellation_slot();
    if (slot.is_connected()) {
      slot.assign([weak = this->weak_from_this()](asio::cancellation_type type) {
        if (type == asio::cancellation_type::none) return;
        if (auto s = weak.lock()) s->cancel();
      });
      slot_ = slot;
    }
    // Tracked: the io_context does not run out of work while a result is awaited.
    work_ = asio::prefer(executor, asio::execution::outstanding_work.tracked);
  }

  void expire(Error expired) {
    std::unique_lock lock(mu_);
    if (settled_) return;
    settled_ = true;
    expired_ = true;
    value_.emplace(std::move(expired));
    resume(lock, {});
  }

  // Runs on the waiter's thread (from its cancellation slot).
  void cancel() {
    std::unique_lock lock(mu_);
    if (settled_) return;
    settled_ = true;
    resume(lock, asio::error::operation_aborted);
  }

  void resume(std::unique_lock<std::mutex>& lock, boost::system::error_code ec) {
    if (!handler_) return;  // not armed yet: arm() sees settled_
    Handler handler = std::move(*handler_);
    handler_.reset();
    asio::any_io_executor work = std::move(work_);
    work_ = {};
    const asio::cancellation_slot slot = slot_;
    lock.unlock();
    // Posted, never called here: this may be a pool thread, or inside the caller's emit().
    asio::post(work, [h = std::move(handler), ec, slot]() mutable {
      asio::cancellation_slot s = slot;
      if (s.is_connected()) s.clear();
      std::move(h)(ec);
    });
  }

  mutable std::mutex mu_;
  bool settled_ = false;
  bool expired_ = false;
  std::optional<Result<T>> value_;
  std::optional<Handler> handler_;
  asio::any_io_executor work_;
  asio::cancellation_slot slot_;
};

// Runs `work` (Result<T>() ) on `pool` and awaits its result; `overloaded` when the pool's
// queue is full. The work owns its inputs (capture by value): it may outlive the caller.
template <typename T, typename F>
asio::awaitable<Result<T>> run_blocking(BlockingPool& pool, F work, Error overloaded) {
  auto handoff = std::make_shared<Handoff<T>>();
  const bool queued = pool.try_post([handoff, work = std::move(work)]() mutable {
    try {
      handoff->deliver(work());
    } catch (const std::exception& e) {  // bad_alloc and the like: the caller still resumes
      handoff->deliver(Error::internal(e.what()));
    }
  });
  if (!queued) co_return overloaded;
  Error never = Error::internal("no timeout");  // a named value: see Handoff::wait's callers
  auto wait = handoff->wait(std::nullopt, std::move(never));
  co_return co_await std::move(wait);
}

}  // namespace sb::media
