// The web console's sign-in sessions: a random opaque token in an HttpOnly cookie names a
// server-side session (who signed in, which of their accounts they act as, a CSRF token, an
// expiry). Sessions live in memory: a restart signs everyone out. Sign-in failures are counted
// per remote address; too many in a window block that address for the rest of it.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/time.hpp"

namespace sb::api {

inline constexpr std::string_view kSessionCookie = "sb_console";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

struct ConsoleSession {
  std::string account_sid;  // who signed in (the key's account for an API key)
  std::string key_sid;      // the API key signed in with, "" for account credentials
  std::string acting_sid;   // the account the console acts as: account_sid or a subaccount
  std::string csrf_token;
  std::int64_t expires_at = 0;  // Unix seconds
};

struct SessionLimits {
  std::int64_t ttl_s = 8 * 3600;        // a session's lifetime from sign-in
  std::size_t max_sessions = 10000;     // beyond it, the session closest to expiry goes
  int max_failures = 10;                // failed sign-ins per address in a window
  std::int64_t failure_window_s = 300;  // the window; the block lasts to its end
};

class ConsoleSessions {
 public:
  ConsoleSessions(const Clock& clock, SessionLimits limits = {});

  // A new session; returns the cookie value (64 hex characters) naming it.
  std::string create(ConsoleSession session);
  // The live session `token` names (an expired one is dropped).
  std::optional<ConsoleSession> find(std::string_view token);
  bool set_acting(std::string_view token, std::string acting_sid);
  void revoke(std::string_view token);
  std::int64_t ttl_s() const { return limits_.ttl_s; }

  // Seconds the address must wait before trying to sign in again (0: go ahead).
  std::int64_t blocked_for(const std::string& address);
  void failed(const std::string& address);
  void succeeded(const std::string& address);

 private:
  struct Failures {
    int count = 0;
    std::int64_t window_end = 0;
  };
  const Clock& clock_;
  SessionLimits limits_;
  std::mutex mu_;
  std::unordered_map<std::string, ConsoleSession> sessions_;
  std::unordered_map<std::string, Failures> failures_;
};

// The session cookie's value in a Cookie header ("" when absent).
std::string_view session_cookie(std::string_view cookie_header);

}  // namespace sb::api
