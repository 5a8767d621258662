// The registrar's location service (RFC 3261 §10.3): which contacts each address of record
// (user@domain) is reachable at, from REGISTER requests the user agent has authenticated.
// Bindings carry the Call-ID/CSeq ordering of §10.3 step 7, expire on their own and are
// removed with Expires: 0 or "Contact: *". Pure: times are injected, nothing is sent from here.
//
// Also the per-source budget that keeps REGISTER floods (and password guessing) from reaching
// the credential store: a token bucket per source address.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sip/digest.hpp"
#include "sip/message.hpp"
#include "sip/transaction.hpp"
#include "sip/transport.hpp"

namespace sb::sip {

// A SIP domain as the user agent sees it: requests whose Request-URI host is its name are for
// it, and its users authenticate against the directory.
struct DomainRef {
  std::string key;   // the directory's id for it (a domain SID)
  std::string name;  // lower case
  std::string account;
  bool registration = false;  // its users may register
};

// Who the domain users are, implemented above the SIP stack (voice::SipDirectory, over the
// store). Called on the SIP thread: implementations answer quickly (indexed reads).
class Directory {
 public:
  enum class Purpose { kRegister, kCall };
  virtual ~Directory() = default;
  // The domain named `host` (lower case, not an IP literal), if it is one of ours.
  virtual std::optional<DomainRef> domain(std::string_view host) = 0;
  // `username`'s digest secret among the users allowed to `purpose` in `domain`.
  virtual std::optional<DigestSecret> user(const DomainRef& domain, Purpose purpose,
                                           std::string_view username) = 0;
};

struct Binding {
  std::string contact;  // the Contact URI, where requests for the user go (Request-URI)
  Endpoint source;      // where the REGISTER came from: the next hop (NAT-safe, keeps TCP)
  std::string call_id;
  std::uint32_t cseq = 0;
  Millis expires_at{0};
};

struct RegistrarLimits {
  int min_expires = 60;    // shorter: 423 Interval Too Brief
  int max_expires = 3600;  // longer requests are capped
  int default_expires = 3600;
  std::size_t max_contacts = 10;  // per address of record
  std::size_t max_aors = 100000;  // in total
};

// What a REGISTER did: the status to answer with and, for 2xx, the Contact lines of every
// current binding ("Contact: <uri>;expires=N\r\n"), or Min-Expires for 423.
struct RegisterOutcome {
  int status = 200;
  std::string reason;
  std::string headers;
};

class LocationService {
 public:
  explicit LocationService(RegistrarLimits limits = {}) : limits_(limits) {}

  // Applies `request` (an authenticated REGISTER) to `aor` ("alice@office.example.com").
  RegisterOutcome apply(const std::string& aor, const Message& request, const Endpoint& source,
                        Millis now);
  // The live bindings of `aor`, newest first.
  std::vector<Binding> lookup(const std::string& aor, Millis now) const;
  // Forgets every binding of `aor` (its user was deleted or lost its rights).
  void remove(const std::string& aor) { aors_.erase(aor); }
  // Drops expired bindings (call now and then; lookups ignore them anyway).
  void expire(Millis now);
  std::size_t size() const { return aors_.size(); }
  const RegistrarLimits& limits() const { return limits_; }

 private:
  std::unordered_map<std::string, std::vector<Binding>> aors_;
  RegistrarLimits limits_;
};

// A token bucket per source address: `rate` requests per second, bursts up to `burst`.
// Expensive outcomes (a failed password) can spend more than one token.
class SourceBudget {
 public:
  SourceBudget(double rate, double burst) : rate_(rate), burst_(burst) {}
  // Whether `source` may spend `cost` tokens now (and spends them if so).
  bool take(const std::string& source, Millis now, double cost = 1);
  // Spends tokens without asking (may go negative: the source then waits longer).
  void charge(const std::string& source, Millis now, double cost);
  std::size_t size() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens = 0;
    Millis at{0};
  };
  Bucket& refill(const std::string& source, Millis now);
  std::unordered_map<std::string, Bucket> buckets_;
  double rate_, burst_;
  Millis last_sweep_{0};
};

}  // namespace sb::sip
