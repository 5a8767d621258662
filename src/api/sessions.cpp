#include "api/sessions.hpp"

#include <algorithm>

#include "core/random.hpp"
#include "core/text.hpp"

namespace sb::api {

ConsoleSessions::ConsoleSessions(const Clock& clock, SessionLimits limits)
    : clock_(clock), limits_(limits) {}

std::string ConsoleSessions::create(ConsoleSession session) {
  std::string token = random_hex(32);
  session.csrf_token = random_hex(32);
  session.expires_at = clock_.now_unix() + limits_.ttl_s;
  std::lock_guard lock(mu_);
  if (sessions_.size() >= limits_.max_sessions) {
    const std::int64_t now = clock_.now_unix();
    std::erase_if(sessions_, [now](const auto& kv) { return kv.second.expires_at <= now; });
    if (sessions_.size() >= limits_.max_sessions) {
      auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](auto& a, auto& b) {
        return a.second.expires_at < b.second.expires_at;
      });
      sessions_.erase(oldest);
    }
  }
  sessions_.emplace(token, std::move(session));
  return token;
}

std::optional<ConsoleSession> ConsoleSessions::find(std::string_view token) {
  if (token.size() != 64) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = sessions_.find(std::string(token));
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires_at <= clock_.now_unix()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

bool ConsoleSessions::set_acting(std::string_view token, std::string acting_sid) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(std::string(token));
  if (it == sessions_.end()) return false;
  it->second.acting_sid = std::move(acting_sid);
  return true;
}

void ConsoleSessions::revoke(std::string_view token) {
  std::lock_guard lock(mu_);
  sessions_.erase(std::string(token));
}

std::int64_t ConsoleSessions::blocked_for(const std::string& address) {
  std::lock_guard lock(mu_);
  auto it = failures_.find(address);
  if (it == failures_.end()) return 0;
  const std::int64_t now = clock_.now_unix();
  if (it->second.window_end <= now) {
    failures_.erase(it);
    return 0;
  }
  return it->second.count >= limits_.max_failures ? it->second.window_end - now : 0;
}

void ConsoleSessions::failed(const std::string& address) {
  std::lock_guard lock(mu_);
  const std::int64_t now = clock_.now_unix();
  if (failures_.size() > 100000) {
    std::erase_if(failures_, [now](const auto& kv) { return kv.second.window_end <= now; });
  }
  Failures& f = failures_[address];
  if (f.window_end <= now) f = Failures{0, now + limits_.failure_window_s};
  ++f.count;
}

void ConsoleSessions::succeeded(const std::string& address) {
  std::lock_guard lock(mu_);
  failures_.erase(address);
}

std::string_view session_cookie(std::string_view header) {
  while (!header.empty()) {
    const auto semi = header.find(';');
    std::string_view pair = trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == kSessionCookie) {
      return pair.substr(eq + 1);
    }
  }
  return {};
}

}  // namespace sb::api
