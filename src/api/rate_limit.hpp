// The per-account request budget of the REST API (/2010-04-01): a token bucket per account,
// `rate` requests a second with bursts of `burst`. Beyond it a request gets 429 with Twilio's
// 20429 and Retry-After, before any work is done for it. Shared by the HTTP threads (one short
// lock per request).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sb::api {

class AccountRateLimit {
 public:
  // rate <= 0: no limit.
  AccountRateLimit(double rate, double burst) : rate_(rate), burst_(burst > 0 ? burst : rate) {}

  // 0 when `account_sid` may make a request at `now_ms` (a token is spent); otherwise the whole
  // seconds until one is back (at least 1), for Retry-After.
  std::int64_t take(std::string_view account_sid, std::int64_t now_ms);
  double rate() const { return rate_; }

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t at_ms = 0;
  };
  // Looked up by string_view without building a string per request.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  double rate_, burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket, Hash, std::equal_to<>> buckets_;
};

}  // namespace sb::api
