#include "media/offload.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <future>
#include <stdexcept>
#include <thread>

#include "support/run_on.hpp"
#include "support/run_until.hpp"

namespace sb::media {
namespace {

namespace asio = boost::asio;
using sb::testing::run_on;
using sb::testing::store_into;

using sb::testing::run_until;

TEST(BlockingPool, RefusesWorkBeyondItsQueueAndRunsEverythingItTook) {
  std::promise<void> hold, running;
  auto held = hold.get_future().share();
  std::atomic<int> ran{0};
  {
    BlockingPool pool({.threads = 1, .max_queued = 2});
    EXPECT_EQ(pool.threads(), 1u);
    ASSERT_TRUE(pool.try_post([&, held] {
      running.set_value();
      held.wait();
      ++ran;
    }));
    ASSERT_EQ(running.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
    EXPECT_TRUE(pool.try_post([&] { ++ran; }));
    EXPECT_TRUE(pool.try_post([&] { ++ran; }));
    EXPECT_EQ(pool.queued(), 2u);
    EXPECT_FALSE(pool.try_post([&] { ++ran; }));  // at once, not after the running task
    EXPECT_EQ(pool.rejected(), 1u);
    hold.set_value();
  }  // the destructor runs what was queued, then joins
  EXPECT_EQ(ran.load(), 3);
}

TEST(BlockingPool, ItsThreadsRunBelowTheMediaWorkers) {
  errno = 0;
  const int mine = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
  const int target = std::min(19, mine + 3);  // raising one's nice value needs no privilege
  BlockingPool pool({.threads = 2, .nice = target});
  std::promise<int> seen;
  ASSERT_TRUE(pool.try_post([&seen] {
    errno = 0;
    seen.set_value(::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid())));
  }));
  EXPECT_EQ(seen.get_future().get(), target);
  EXPECT_EQ(::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid())), mine);  // not this one
}

TEST(BlockingPool, DefaultThreadsAreBounded) {
  EXPECT_GE(default_blocking_threads(), 1u);
  EXPECT_LE(default_blocking_threads(), 4u);
  EXPECT_EQ(default_blocking_threads(1), 1u);
  BlockingPool zero({.threads = 0});
  EXPECT_EQ(zero.threads(), 1u);
}

TEST(Handoff, ADeliveryBeforeTheWaitIsKept) {
  asio::io_context io;
  auto h = std::make_shared<Handoff<int>>();
  EXPECT_TRUE(h->deliver(7));
  EXPECT_FALSE(h->deliver(8));  // settled
  auto r = run_on(io, h->wait(std::nullopt, Error::internal("late")));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 7);
}

TEST(Handoff, AResultFromAPoolThreadResumesTheWaiterOnItsOwnThread) {
  asio::io_context io;
  BlockingPool pool({.threads = 1});
  const auto home = std::this_thread::get_id();
  auto check = [](BlockingPool& p, std::thread::id home) -> asio::awaitable<Result<int>> {
    auto fn = [home]() -> Result<int> {
      EXPECT_NE(std::this_thread::get_id(), home);
      return 42;
    };
    Error full = Error::internal("full");  // named: GCC 12 and coroutine arguments
    auto work = run_blocking<int>(p, std::move(fn), std::move(full));
    auto r = co_await std::move(work);
    EXPECT_EQ(std::this_thread::get_id(), home);
    co_return r;
  };
  auto r = run_on(io, check(pool, home));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 42);
}

TEST(Handoff, WorkThatThrowsIsAnError) {
  asio::io_context io;
  BlockingPool pool({.threads = 1});
  auto r = run_on(io, run_blocking<int>(
                          pool, []() -> Result<int> { throw std::runtime_error("disk on fire"); },
                          Error::internal("full")));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("disk on fire"), std::string::npos);
}

TEST(Handoff, CancellationResumesAtOnceAndTheLateResultIsDropped) {
  asio::io_context io;
  auto h = std::make_shared<Handoff<int>>();
  asio::cancellation_signal hangup;
  std::optional<Result<int>> out;
  bool aborted = false;
  asio::co_spawn(io, store_into(h->wait(std::nullopt, Error::internal("late")), &out),
                 asio::bind_cancellation_slot(hangup.slot(), [&](const std::exception_ptr& e) {
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const boost::system::system_error& se) {
                     aborted = se.code() == asio::error::operation_aborted;
                   }
                 }));
  io.poll();
  EXPECT_FALSE(h->settled());
  hangup.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(run_until(io, [&] { return aborted; }));
  EXPECT_FALSE(out);
  std::thread late([h] { EXPECT_FALSE(h->deliver(1)); });
  late.join();
}

TEST(Handoff, ATimeoutEndsTheWaitWithItsError) {
  asio::io_context io;
  auto h = std::make_shared<Handoff<int>>();
  std::optional<Result<int>> out;
  asio::co_spawn(
      io, store_into(h->wait(std::chrono::milliseconds(20), Error::internal("too slow")), &out),
      asio::detached);
  ASSERT_TRUE(run_until(io, [&] { return out.has_value(); }));
  ASSERT_FALSE(*out);
  EXPECT_EQ(out->error().message, "too slow");
  EXPECT_TRUE(h->expired());
  EXPECT_FALSE(h->deliver(3));
}

TEST(Handoff, AFullPoolIsTheCallersError) {
  asio::io_context io;
  BlockingPool pool({.threads = 1, .max_queued = 0});  // nothing may wait
  bool ran = false;
  auto r = run_on(io, run_blocking<int>(
                          pool,
                          [&ran]() -> Result<int> {
                            ran = true;
                            return 1;
                          },
                          Error{20503, 503, "overloaded"}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, 20503);
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace sb::media
