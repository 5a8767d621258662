// The clock every test sets by hand: a sb::Clock whose time moves only when the test says so.
// Atomic, because the code under test may read it from its own threads.
#pragma once

#include <atomic>

#include "core/time.hpp"

namespace sb::testing {

class FakeClock final : public Clock {
 public:
  // Tue, 01 Dec 2026 17:00:00 +0000 unless told otherwise.
  explicit FakeClock(std::int64_t now_unix = 1'796'144'400) : now_ms_(now_unix * 1000) {}
  std::int64_t now_ms() const override { return now_ms_.load(); }
  void advance(std::int64_t seconds) { now_ms_ += seconds * 1000; }
  void advance_ms(std::int64_t ms) { now_ms_ += ms; }

 private:
  std::atomic<std::int64_t> now_ms_;
};

}  // namespace sb::testing
