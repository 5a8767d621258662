// The cookies an application sets during one call, sent back on that call's later requests
// (as a browser would, which is what Twilio does). Scoped to the host that set them.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace sb::voice {

class CookieJar {
 public:
  // Reads one Set-Cookie header value ("name=value; Path=/; Max-Age=0 …") from `host`.
  // Max-Age=0 or an Expires in the past removes the cookie.
  void store(std::string_view host, std::string_view set_cookie);
  // The Cookie header for a request to `host`, "" when there is none.
  std::string header_for(std::string_view host) const;
  std::size_t size() const { return cookies_.size(); }

  static constexpr std::size_t kMaxCookies = 50;
  static constexpr std::size_t kMaxCookieBytes = 4096;

 private:
  std::map<std::pair<std::string, std::string>, std::string> cookies_;  // (host, name) -> value
};

}  // namespace sb::voice
