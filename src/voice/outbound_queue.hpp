// The queue outbound calls wait in before they are dialled: per account, in arrival order,
// released at the account's rate. An account's next call leaves one period (1 / calls per
// second) after its previous one, so a backlog drains at exactly that rate whatever the timer's
// jitter (a late poll releases the slots it missed, up to 100 ms of them: at thousands of calls
// per second the timer wakes less often than once a period); after a pause the next call
// leaves at once, never in a burst. Accounts take turns.
// Thread-safe: the REST API queues and cancels, the call router releases.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "voice/outbound.hpp"

namespace sb::voice {

class OutboundQueue {
 public:
  // `calls_per_second` per account (> 0).
  explicit OutboundQueue(double calls_per_second);

  void push(OutboundRequest request);
  // Removes a queued call; false when it is not queued (dialled already, or unknown).
  bool cancel(const std::string& account_sid, const std::string& call_sid);

  // The next call whose turn has come at `now_us` (any monotonic microsecond clock), accounts
  // taking turns; nullopt when none is due.
  std::optional<OutboundRequest> pop_ready(std::int64_t now_us);
  // When the next call falls due (nullopt: nothing queued).
  std::optional<std::int64_t> next_due_us() const;
  // Empties the queue (a clean shutdown cancels what is left).
  std::vector<OutboundRequest> take_all();
  std::size_t size() const;
  std::size_t queued(const std::string& account_sid) const;  // one account's

 private:
  struct Account {
    std::deque<OutboundRequest> calls;
    std::optional<std::int64_t> next_us;  // the earliest the next call may leave
    bool drained = false;  // it was empty when the first queued call came: start afresh
  };
  static constexpr std::int64_t kMaxCatchUpUs = 100'000;  // slots a late poll may make up
  const std::int64_t period_us_;
  mutable std::mutex mu_;
  std::map<std::string, Account> accounts_;
  std::string last_;  // the account served last (turns go on after it)
  std::size_t size_ = 0;
};

}  // namespace sb::voice
