#include "api/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace sb::api {

std::int64_t AccountRateLimit::take(std::string_view account_sid, std::int64_t now_ms) {
  if (rate_ <= 0) return 0;
  std::lock_guard lock(mu_);
  auto it = buckets_.find(account_sid);
  if (it == buckets_.end()) {
    it = buckets_.emplace(std::string(account_sid), Bucket{burst_, now_ms}).first;
  }
  Bucket& b = it->second;
  if (now_ms > b.at_ms) {
    b.tokens = std::min(burst_, b.tokens + static_cast<double>(now_ms - b.at_ms) / 1000 * rate_);
    b.at_ms = now_ms;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil((1 - b.tokens) / rate_)));
}

}  // namespace sb::api
