#include "store/commit.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

namespace sb::store {

namespace asio = boost::asio;

asio::awaitable<Status> commit(Store& store, Mutation& mutation) {
  auto executor = co_await asio::this_coro::executor;
  auto initiate = [&store, &mutation, executor](auto handler) {
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    store.write(std::move(mutation), [shared, executor](Status s) {
      asio::post(executor, [shared, s = std::move(s)]() mutable { (*shared)(std::move(s)); });
    });
  };
  Status result = co_await asio::async_initiate<decltype(asio::use_awaitable), void(Status)>(
      initiate, asio::use_awaitable);
  co_return result;
}

}  // namespace sb::store
