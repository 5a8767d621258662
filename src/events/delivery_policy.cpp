#include "events/delivery_policy.hpp"

#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <ctime>

#include "core/text.hpp"
#include "http/base64.hpp"

namespace sb::events {

std::string generate_secret() {
  unsigned char bytes[24];
  RAND_bytes(bytes, sizeof bytes);
  return "whsec_" +
         http::base64_encode(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
}

std::optional<std::string> secret_key(std::string_view secret) {
  constexpr std::string_view kPrefix = "whsec_";
  if (secret.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  auto key = http::base64_decode(secret.substr(kPrefix.size()));
  if (!key || key->empty()) return std::nullopt;
  return key;
}

std::string sign_v1(std::string_view key, std::string_view msg_id, std::int64_t timestamp_s,
                    std::string_view body) {
  std::string content;
  content.reserve(msg_id.size() + body.size() + 24);
  content.append(msg_id).append(".").append(std::to_string(timestamp_s)).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &len);
  return "v1," + http::base64_encode(std::string_view(reinterpret_cast<char*>(mac), len));
}

std::string signature_header(const std::vector<std::string>& secrets, std::string_view msg_id,
                             std::int64_t timestamp_s, std::string_view body) {
  std::string out;
  for (const auto& s : secrets) {
    auto key = secret_key(s);
    if (!key) continue;
    if (!out.empty()) out += ' ';
    out += sign_v1(*key, msg_id, timestamp_s, body);
  }
  return out;
}

const std::vector<std::int64_t>& default_retry_schedule() {
  static const std::vector<std::int64_t> kSchedule{5'000,      300'000,    1'800'000, 7'200'000,
                                                   18'000'000, 36'000'000, 36'000'000};
  return kSchedule;
}

std::optional<std::int64_t> retry_after_ms(std::string_view value, std::int64_t now_ms) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  std::int64_t secs = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), secs);
  if (ec == std::errc() && p == value.data() + value.size()) {
    if (secs < 0) return std::nullopt;
    return secs * 1000;
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  std::tm tm{};
  const std::string text(value.substr(0, 64));
  if (!strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) return std::nullopt;
  const std::int64_t at_ms = static_cast<std::int64_t>(timegm(&tm)) * 1000;
  return std::max<std::int64_t>(0, at_ms - now_ms);
}

AttemptOutcome classify_attempt(int status, std::optional<std::string_view> retry_after,
                                int attempt, const std::vector<std::int64_t>& schedule,
                                std::int64_t now_ms) {
  if (status >= 200 && status < 300) return {AttemptOutcome::Kind::kDelivered, 0};
  if (status == 410) return {AttemptOutcome::Kind::kGone, 0};
  if (attempt < 1 || static_cast<std::size_t>(attempt) > schedule.size()) {
    return {AttemptOutcome::Kind::kExhausted, 0};
  }
  std::int64_t delay = schedule[static_cast<std::size_t>(attempt - 1)];
  if (retry_after && (status == 429 || status == 502 || status == 504 || status == 503)) {
    if (auto ra = retry_after_ms(*retry_after, now_ms)) {
      delay = std::max(delay, std::min<std::int64_t>(*ra, 86'400'000));
    }
  }
  return {AttemptOutcome::Kind::kRetry, now_ms + delay};
}

void TokenBucket::refill(std::int64_t now_ms) {
  if (now_ms > last_ms_) {
    tokens_ = std::min(limit_.burst, tokens_ + limit_.per_second *
                                                   static_cast<double>(now_ms - last_ms_) / 1000.0);
    last_ms_ = now_ms;
  }
}

bool TokenBucket::try_take(std::int64_t now_ms) {
  if (!limit_.enabled()) return true;
  refill(now_ms);
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return true;
  }
  return false;
}

std::int64_t TokenBucket::wait_ms(std::int64_t now_ms) {
  if (!limit_.enabled()) return 0;
  refill(now_ms);
  if (tokens_ >= 1.0) return 0;
  const double missing = 1.0 - tokens_;
  const double ms = missing * 1000.0 / limit_.per_second;
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(ms + 0.999));
}

}  // namespace sb::events
