#include "media/offload.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <latch>
#include <thread>

namespace sb::media {

BlockingPool::BlockingPool(Options options)
    : options_{std::max(1u, options.threads), options.max_queued, options.nice},
      pool_(options_.threads) {
  if (options_.nice == 0) return;
  // One task per thread, each held until all have started, so every thread runs one. Linux
  // applies setpriority to the calling thread alone when given its thread id.
  auto started = std::make_shared<std::latch>(static_cast<std::ptrdiff_t>(options_.threads));
  for (unsigned i = 0; i < options_.threads; ++i) {
    asio::post(pool_, [started, nice = options_.nice] {
      (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice);
      started->arrive_and_wait();
    });
  }
  started->wait();
}

BlockingPool::~BlockingPool() { pool_.join(); }

unsigned default_blocking_threads(unsigned at_most) {
  return std::clamp(std::thread::hardware_concurrency(), 1u, std::max(1u, at_most));
}

}  // namespace sb::media
