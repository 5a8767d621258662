// Runs an awaitable to completion on an io_context and returns its value (Result<T> has no
// default constructor, which co_spawn's future completion would need).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>

namespace sb::testing {

template <typename T>
boost::asio::awaitable<void> store_into(boost::asio::awaitable<T> a, std::optional<T>* out) {
  out->emplace(co_await std::move(a));
}

template <typename T>
T run_on(boost::asio::io_context& io, boost::asio::awaitable<T> a) {
  std::optional<T> out;
  boost::asio::co_spawn(io, store_into(std::move(a), &out), boost::asio::detached);
  io.restart();
  io.run();
  return std::move(*out);
}

}  // namespace sb::testing
