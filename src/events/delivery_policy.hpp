// Delivery policy, pure and clock-free: Standard Webhooks signing, the retry schedule (with
// Retry-After), and the token bucket behind per-subscriber rate limits. Times are Unix ms.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/attributes.hpp"

namespace sb::events {

// Standard Webhooks secrets: "whsec_" + base64 of 24 random bytes.
std::string generate_secret();
// The key bytes of a whsec_ secret (base64 after the prefix); nullopt when malformed.
std::optional<std::string> secret_key(std::string_view secret);
// "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>"
std::string sign_v1(std::string_view key, std::string_view msg_id, std::int64_t timestamp_s,
                    std::string_view body);
// The webhook-signature header for every secret given (two during a rotation).
std::string signature_header(const std::vector<std::string>& secrets, std::string_view msg_id,
                             std::int64_t timestamp_s, std::string_view body);

// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
const std::vector<std::int64_t>& default_retry_schedule();

struct AttemptOutcome {
  enum class Kind { kDelivered, kRetry, kExhausted, kGone };
  Kind kind = Kind::kRetry;
  std::int64_t next_attempt_ms = 0;  // kRetry
};

// After attempt number `attempt` (1-based) answered `status` (0: transport error):
// 2xx delivered; 410 gone (disable the endpoint); otherwise the schedule's next delay, at least
// Retry-After on 429/502/504 (capped at one day), or exhausted past the schedule's end.
AttemptOutcome classify_attempt(int status, std::optional<std::string_view> retry_after,
                                int attempt, const std::vector<std::int64_t>& schedule,
                                std::int64_t now_ms);
// Retry-After as delay seconds or an HTTP date; nullopt when unparsable.
std::optional<std::int64_t> retry_after_ms(std::string_view value, std::int64_t now_ms);

class TokenBucket {
 public:
  TokenBucket() = default;
  TokenBucket(RateLimit limit, std::int64_t now_ms)
      : limit_(limit), tokens_(limit.burst), last_ms_(now_ms) {}
  // Takes a token when one is available.
  bool try_take(std::int64_t now_ms);
  // Milliseconds until a token is available (0 when one is now).
  std::int64_t wait_ms(std::int64_t now_ms);
  bool limited() const { return limit_.enabled(); }

 private:
  void refill(std::int64_t now_ms);
  RateLimit limit_;
  double tokens_ = 0;
  std::int64_t last_ms_ = 0;
};

}  // namespace sb::events
