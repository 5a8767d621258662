#include "voice/cookie_jar.hpp"

#include <boost/algorithm/string/predicate.hpp>

#include "core/text.hpp"

namespace sb::voice {
namespace {}  // namespace

void CookieJar::store(std::string_view host, std::string_view set_cookie) {
  if (set_cookie.size() > kMaxCookieBytes) return;
  const auto semi = set_cookie.find(';');
  const std::string_view pair = trim(set_cookie.substr(0, semi));
  const auto eq = pair.find('=');
  if (eq == std::string_view::npos || eq == 0) return;
  const std::string name(trim(pair.substr(0, eq)));
  const std::string value(trim(pair.substr(eq + 1)));
  bool expired = false;
  std::string_view attrs = semi == std::string_view::npos ? "" : set_cookie.substr(semi + 1);
  while (!attrs.empty()) {
    const auto next = attrs.find(';');
    const std::string_view attr = trim(attrs.substr(0, next));
    attrs = next == std::string_view::npos ? "" : attrs.substr(next + 1);
    if (boost::algorithm::istarts_with(attr, "max-age=")) {
      const std::string_view v = attr.substr(8);
      expired = !v.empty() && (v == "0" || v.front() == '-');
    }
  }
  auto key = std::make_pair(std::string(host), name);
  if (expired) {
    cookies_.erase(key);
    return;
  }
  if (!cookies_.contains(key) && cookies_.size() >= kMaxCookies) return;
  cookies_[std::move(key)] = value;
}

std::string CookieJar::header_for(std::string_view host) const {
  std::string out;
  for (const auto& [key, value] : cookies_) {
    if (key.first != host) continue;
    if (!out.empty()) out += "; ";
    out += key.second;
    out += '=';
    out += value;
  }
  return out;
}

}  // namespace sb::voice
