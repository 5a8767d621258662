// What the SIP side does about sources that misbehave (a fail2ban inside the daemon): new
// requests (outside dialogs) per source address are rate-limited, and a source that fails
// digest authentication `ban_after` times within `ban_window` is banned for `ban_time`: every
// datagram and TCP message from it is dropped unread, without an answer, until the ban
// expires or an operator lifts it. Pure: times are injected; owned by the SIP thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sip/registrar.hpp"
#include "sip/transport.hpp"

namespace sb::sip {

struct GuardLimits {
  double request_rate = 1000;  // new requests per second per source address (0: no limit)
  double request_burst = 2000;
  int ban_after = 10;        // failed authentications that ban a source (0: never ban)
  Millis ban_window{60000};  // ... counted over this window
  Millis ban_time{600000};   // how long a ban lasts
};

// A banned source, as the admin endpoint and /metrics show it.
struct Ban {
  std::string address;
  Millis since{0}, until{0};
  int failures = 0;           // failed authentications that led to it
  std::uint64_t dropped = 0;  // messages dropped since
};

struct GuardStats {
  std::uint64_t bans = 0;      // bans imposed
  std::uint64_t dropped = 0;   // messages from banned sources dropped
  std::uint64_t limited = 0;   // new requests refused (503) over their source's rate
  std::uint64_t failures = 0;  // failed authentications counted
};

class SourceGuard {
 public:
  explicit SourceGuard(GuardLimits limits = {});

  // True (and the message is counted as dropped) while `address` is banned; an expired ban
  // is lifted here. Cheap when nobody is banned.
  bool banned(const std::string& address, Millis now);
  // Whether a new request from `address` is within its rate (counts a refusal when not).
  bool admit(const std::string& address, Millis now);
  // Records a failed authentication; true when it bans `address` (from now on).
  bool failure(const std::string& address, Millis now);
  // Lifts a ban at once (and forgets the source's failures); false when it was not banned.
  bool lift(std::string_view address);
  // The bans in force at `now`, earliest first.
  std::vector<Ban> bans(Millis now) const;
  std::size_t ban_count() const { return bans_.size(); }
  const GuardStats& stats() const { return stats_; }
  const GuardLimits& limits() const { return limits_; }

 private:
  struct Failures {
    int count = 0;
    Millis first{0};
  };
  void sweep(Millis now);

  GuardLimits limits_;
  SourceBudget rate_;
  std::unordered_map<std::string, Failures> failures_;
  std::unordered_map<std::string, Ban> bans_;
  Millis last_sweep_{0};
  GuardStats stats_;
};

}  // namespace sb::sip
