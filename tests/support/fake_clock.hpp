// A clock the test sets by hand.
#pragma once

#include "core/time.hpp"

namespace sb::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t now = 1'796'144'400)
      : now_(now) {}  // Tue, 01 Dec 2026 17:00:00 +0000
  std::int64_t now_unix() const override { return now_; }
  void advance(std::int64_t seconds) { now_ += seconds; }

 private:
  std::int64_t now_;
};

}  // namespace sb::testing
