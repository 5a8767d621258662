// Access tokens: signed, expiring grants to publish on or subscribe to a set of channels,
// handed to browsers and devices instead of account credentials. The signing key lives in
// events.db, so tokens survive a restart.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "events/event_store.hpp"

namespace sb::events {

struct AccessToken {
  std::string account_sid;
  std::vector<std::string> channels;  // names; "*" suffix globs as for types
  bool publish = false;
  bool subscribe = false;
  std::int64_t expires_s = 0;
  bool allows(std::string_view channel) const;
};

// "sbt_" + base64url(JSON claims) + "." + base64url(HMAC-SHA256(key, claims)).
class TokenSigner {
 public:
  explicit TokenSigner(const Clock& clock) : clock_(clock) {}
  // Reads the key from events.db (none yet: empty).
  Status load(Db& db);
  // Makes and stores a key when there is none; blocks until it is committed. The key is used
  // even when storing it failed (the error is returned).
  Status ensure_key(EventStore& store);
  bool has_key() const { return !key_.empty(); }

  // Set once before use (load, ensure_key); const afterwards, so any thread may sign.
  std::string issue(const AccessToken& token) const;
  // The token's grant when its signature is ours and it has not expired.
  std::optional<AccessToken> verify(std::string_view token) const;

 private:
  const Clock& clock_;
  std::string key_;
};

}  // namespace sb::events
