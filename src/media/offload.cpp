#include "media/offload.hpp"

#include <algorithm>
#include <thread>

namespace sb::media {

BlockingPool::BlockingPool(Options options)
    : options_{std::max(1u, options.threads), options.max_queued}, pool_(options_.threads) {}

BlockingPool::~BlockingPool() { pool_.join(); }

unsigned default_blocking_threads(unsigned at_most) {
  return std::clamp(std::thread::hardware_concurrency(), 1u, std::max(1u, at_most));
}

}  // namespace sb::media
