#include "console/history.hpp"

namespace sb::console {

MetricsHistory::MetricsHistory(std::function<Totals()> read,
                               std::array<std::int64_t, Totals::kBuckets - 1> bucket_bounds_ms,
                               std::size_t keep)
    : read_(std::move(read)), bounds_(bucket_bounds_ms), keep_(keep) {}

double MetricsHistory::quantile(const std::array<std::uint64_t, Totals::kBuckets>& counts,
                                const std::array<std::int64_t, Totals::kBuckets - 1>& bounds,
                                double q) {
  std::uint64_t total = 0;
  for (auto c : counts) total += c;
  if (total == 0) return 0;
  const double rank = q * static_cast<double>(total);
  double seen = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const double next = seen + static_cast<double>(counts[i]);
    if (counts[i] > 0 && next >= rank) {
      const double lo = i == 0 ? 0.0 : static_cast<double>(bounds[i - 1]);
      // The open-ended bucket reports its lower bound: nothing says how far past it they went.
      if (i == bounds.size()) return lo;
      const double hi = static_cast<double>(bounds[i]);
      return lo + (hi - lo) * ((rank - seen) / static_cast<double>(counts[i]));
    }
    seen = next;
  }
  return static_cast<double>(bounds.back());
}

void MetricsHistory::tick(std::int64_t now_ms) {
  const Totals now = read_();
  if (!last_) {
    last_ = now;
    return;
  }
  auto delta = [](std::uint64_t a, std::uint64_t b) { return a >= b ? a - b : 0; };
  Sample s;
  s.t_ms = now_ms;
  s.calls_started = delta(now.calls_started, last_->calls_started);
  s.concurrent_calls = now.concurrent_calls;
  s.webhook_requests = delta(now.webhook_requests, last_->webhook_requests);
  s.webhook_errors = delta(now.webhook_errors, last_->webhook_errors);
  std::array<std::uint64_t, Totals::kBuckets> second{};
  for (std::size_t i = 0; i < second.size(); ++i) {
    second[i] = delta(now.latency[i], last_->latency[i]);
  }
  s.webhook_p50_ms = quantile(second, bounds_, 0.5);
  s.webhook_p99_ms = quantile(second, bounds_, 0.99);
  last_ = now;
  std::lock_guard lock(mu_);
  samples_.push_back(s);
  while (samples_.size() > keep_) samples_.pop_front();
}

std::vector<Sample> MetricsHistory::samples() const {
  std::lock_guard lock(mu_);
  return {samples_.begin(), samples_.end()};
}

std::optional<Sample> MetricsHistory::latest() const {
  std::lock_guard lock(mu_);
  if (samples_.empty()) return std::nullopt;
  return samples_.back();
}

}  // namespace sb::console
