// Runs an io_context until a condition holds, with a generous deadline: for tests whose work
// finishes on other threads (a deadline that passes is a failure, never a timing).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>

namespace sb::testing {

template <typename Pred>
bool run_until(boost::asio::io_context& io, Pred done,
               std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace sb::testing
