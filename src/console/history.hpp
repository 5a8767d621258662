// The console's overview charts: the daemon's own figures sampled once a second and kept in
// memory for the last hour (3,600 samples). Each sample holds what happened in its second (calls
// started, webhook exchanges and failures, latency percentiles from the exchanges' buckets)
// and the calls up at its end.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

namespace sb::console {

// Running totals as the daemon's counters have them.
struct Totals {
  static constexpr std::size_t kBuckets = 14;
  std::uint64_t calls_started = 0;
  std::uint64_t concurrent_calls = 0;  // a gauge
  std::uint64_t webhook_requests = 0;
  std::uint64_t webhook_errors = 0;
  // Exchanges per latency bucket (upper bounds in `bucket_bounds_ms`, the last open-ended).
  std::array<std::uint64_t, kBuckets> latency{};
};

struct Sample {
  std::int64_t t_ms = 0;  // the end of the second, Unix milliseconds
  std::uint64_t calls_started = 0;
  std::uint64_t concurrent_calls = 0;
  std::uint64_t webhook_requests = 0;
  std::uint64_t webhook_errors = 0;
  double webhook_p50_ms = 0;  // 0 when no exchange ended in the second
  double webhook_p99_ms = 0;
};

class MetricsHistory {
 public:
  // `bucket_bounds_ms` are the upper bounds of the first kBuckets - 1 latency buckets.
  MetricsHistory(std::function<Totals()> read,
                 std::array<std::int64_t, Totals::kBuckets - 1> bucket_bounds_ms,
                 std::size_t keep = 3600);

  // Takes a sample: the change since the previous tick (the first tick only sets the baseline).
  void tick(std::int64_t now_ms);
  std::vector<Sample> samples() const;
  std::optional<Sample> latest() const;

  // The `q` quantile (0..1) of a bucket histogram, interpolated inside its bucket.
  static double quantile(const std::array<std::uint64_t, Totals::kBuckets>& counts,
                         const std::array<std::int64_t, Totals::kBuckets - 1>& bounds, double q);

 private:
  std::function<Totals()> read_;
  std::array<std::int64_t, Totals::kBuckets - 1> bounds_;
  std::size_t keep_;
  std::optional<Totals> last_;
  mutable std::mutex mu_;
  std::deque<Sample> samples_;
};

}  // namespace sb::console
