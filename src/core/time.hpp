// Time: the one injectable wall clock (milliseconds and seconds since the Unix epoch) and
// Twilio's RFC 2822 date format.
#pragma once

#include <cstdint>
#include <string>

namespace sb {

// Wall-clock time since the Unix epoch; a seam so tests control time (tests/support's
// FakeClock). Implementations give milliseconds; seconds are derived so the two never disagree.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now_ms() const = 0;
  // Whole seconds (rounded down, also before 1970).
  std::int64_t now_unix() const;
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override;
};

// "Wed, 25 Nov 2026 17:00:00 +0000" (always GMT, as Twilio writes it).
std::string rfc2822(std::int64_t unix_seconds);
// "2026-11-25T17:00:00.123Z": ISO 8601 in UTC with milliseconds (Media Streams' Timestamp).
std::string iso8601_ms(std::int64_t unix_ms);

}  // namespace sb
