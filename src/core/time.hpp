// Time: an injectable clock and Twilio's RFC 2822 date format.
#pragma once

#include <cstdint>
#include <string>

namespace sb {

// Wall-clock seconds since the Unix epoch; a seam so tests control time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now_unix() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_unix() const override;
};

// "Wed, 25 Nov 2026 17:00:00 +0000" (always GMT, as Twilio writes it).
std::string rfc2822(std::int64_t unix_seconds);

}  // namespace sb
