#include "core/sid.hpp"

#include "core/random.hpp"

namespace sb {

std::string make_sid(std::string_view prefix) {
  std::string sid(prefix);
  sid += random_hex(16);
  return sid;
}

bool is_hex32(std::string_view token) {
  if (token.size() != 32) return false;
  for (char c : token) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (!hex) return false;
  }
  return true;
}

bool is_sid(std::string_view sid, std::string_view prefix) {
  return prefix.size() == 2 && sid.size() == kSidLength && sid.substr(0, 2) == prefix &&
         is_hex32(sid.substr(2));
}

}  // namespace sb
