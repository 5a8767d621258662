#include "sip/source_guard.hpp"

#include <algorithm>

namespace sb::sip {

namespace {
// Sources tracked for failures before a sweep runs early (a scan from many addresses).
constexpr std::size_t kSweepAt = 100000;
}  // namespace

SourceGuard::SourceGuard(GuardLimits limits)
    : limits_(limits),
      rate_(limits.request_rate > 0 ? limits.request_rate : 1,
            limits.request_burst > 0 ? limits.request_burst : 1) {}

bool SourceGuard::banned(const std::string& address, Millis now) {
  if (bans_.empty()) return false;
  auto it = bans_.find(address);
  if (it == bans_.end()) return false;
  if (now >= it->second.until) {
    bans_.erase(it);
    return false;
  }
  ++it->second.dropped;
  ++stats_.dropped;
  return true;
}

bool SourceGuard::admit(const std::string& address, Millis now) {
  if (limits_.request_rate <= 0) return true;
  if (rate_.take(address, now)) return true;
  ++stats_.limited;
  return false;
}

bool SourceGuard::failure(const std::string& address, Millis now) {
  ++stats_.failures;
  if (limits_.ban_after <= 0) return false;
  if (now - last_sweep_ > limits_.ban_window || failures_.size() >= kSweepAt) {
    sweep(now);
    // Failures from more sources than that within one window: forget them rather than grow
    // (or sweep on every failure); bans already imposed stay.
    if (failures_.size() >= kSweepAt) failures_.clear();
  }
  auto& f = failures_[address];
  if (f.count == 0 || now - f.first > limits_.ban_window) f = Failures{0, now};
  if (++f.count < limits_.ban_after) return false;
  Ban& b = bans_[address];
  b.address = address;
  b.since = now;
  b.until = now + limits_.ban_time;
  b.failures = f.count;
  b.dropped = 0;
  failures_.erase(address);
  ++stats_.bans;
  return true;
}

bool SourceGuard::lift(std::string_view address) {
  const std::string key(address);
  failures_.erase(key);
  return bans_.erase(key) > 0;
}

std::vector<Ban> SourceGuard::bans(Millis now) const {
  std::vector<Ban> out;
  for (const auto& [address, ban] : bans_) {
    if (ban.until > now) out.push_back(ban);
  }
  std::sort(out.begin(), out.end(), [](const Ban& a, const Ban& b) {
    return a.since != b.since ? a.since < b.since : a.address < b.address;
  });
  return out;
}

void SourceGuard::sweep(Millis now) {
  last_sweep_ = now;
  for (auto it = failures_.begin(); it != failures_.end();) {
    it = now - it->second.first > limits_.ban_window ? failures_.erase(it) : std::next(it);
  }
  for (auto it = bans_.begin(); it != bans_.end();) {
    it = now >= it->second.until ? bans_.erase(it) : std::next(it);
  }
}

}  // namespace sb::sip
