#include "voice/outbound_queue.hpp"

#include <algorithm>
#include <cmath>

namespace sb::voice {

OutboundQueue::OutboundQueue(double calls_per_second)
    : period_us_(std::max<std::int64_t>(
          1, static_cast<std::int64_t>(std::llround(1e6 / std::max(calls_per_second, 1e-6))))) {}

void OutboundQueue::push(OutboundRequest request) {
  std::lock_guard lock(mu_);
  Account& a = accounts_[request.account.sid];
  // However it emptied (dialled or cancelled), an empty queue starts a fresh schedule.
  if (a.calls.empty()) a.drained = true;
  a.calls.push_back(std::move(request));
  ++size_;
}

bool OutboundQueue::cancel(const std::string& account_sid, const std::string& call_sid) {
  std::lock_guard lock(mu_);
  auto it = accounts_.find(account_sid);
  if (it == accounts_.end()) return false;
  auto& calls = it->second.calls;
  auto found = std::find_if(calls.begin(), calls.end(),
                            [&](const OutboundRequest& r) { return r.info.call_sid == call_sid; });
  if (found == calls.end()) return false;
  calls.erase(found);
  --size_;
  return true;
}

std::optional<OutboundRequest> OutboundQueue::pop_ready(std::int64_t now_us) {
  std::lock_guard lock(mu_);
  if (size_ == 0) return std::nullopt;
  // Turns: the accounts after the last one served, then from the start up to it.
  auto start = accounts_.upper_bound(last_);
  for (std::size_t n = 0; n < accounts_.size(); ++n, ++start) {
    if (start == accounts_.end()) start = accounts_.begin();
    Account& a = start->second;
    if (a.calls.empty() || (a.next_us && *a.next_us > now_us)) continue;
    OutboundRequest out = std::move(a.calls.front());
    a.calls.pop_front();
    --size_;
    // While a backlog lasts the slots follow one another whatever the poll's lateness: a late
    // poll releases every slot that has passed (up to kMaxCatchUpUs of them), so the rate holds
    // even when the timer wakes less often than once a period. After the queue ran empty the
    // schedule starts again from now: no burst after a pause.
    const bool resume = !a.next_us || a.drained;
    const std::int64_t slot = resume ? now_us : std::max(*a.next_us, now_us - kMaxCatchUpUs);
    a.next_us = slot + period_us_;
    a.drained = false;
    last_ = start->first;
    return out;
  }
  return std::nullopt;
}

std::optional<std::int64_t> OutboundQueue::next_due_us() const {
  std::lock_guard lock(mu_);
  std::optional<std::int64_t> due;
  for (const auto& [sid, a] : accounts_) {
    if (a.calls.empty()) continue;
    const std::int64_t at = a.next_us.value_or(0);
    if (!due || at < *due) due = at;
  }
  return due;
}

std::vector<OutboundRequest> OutboundQueue::take_all() {
  std::lock_guard lock(mu_);
  std::vector<OutboundRequest> out;
  for (auto& [sid, a] : accounts_) {
    for (auto& r : a.calls) out.push_back(std::move(r));
    a.calls.clear();
  }
  size_ = 0;
  return out;
}

std::size_t OutboundQueue::queued(const std::string& account_sid) const {
  std::lock_guard lock(mu_);
  auto it = accounts_.find(account_sid);
  return it == accounts_.end() ? 0 : it->second.calls.size();
}

std::size_t OutboundQueue::size() const {
  std::lock_guard lock(mu_);
  return size_;
}

}  // namespace sb::voice
