#include "core/wakeup.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

namespace sb {

namespace asio = boost::asio;

Wakeup::Wakeup(asio::any_io_executor executor)
    : timer_(executor, asio::steady_timer::time_point::max()) {}

void Wakeup::notify() {
  fired_ = true;
  timer_.cancel();
}

asio::awaitable<bool> Wakeup::wait(std::optional<std::chrono::milliseconds> timeout) {
  if (fired_) {
    fired_ = false;
    co_return true;
  }
  if (timeout) {
    timer_.expires_after(*timeout);
  } else {
    timer_.expires_at(asio::steady_timer::time_point::max());
  }
  boost::system::error_code ec;
  co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (fired_) {
    fired_ = false;
    co_return true;
  }
  // notify() did not end it: a timeout, or the coroutine was cancelled.
  if (ec == asio::error::operation_aborted) {
    throw boost::system::system_error(asio::error::operation_aborted);
  }
  co_return false;
}

}  // namespace sb
