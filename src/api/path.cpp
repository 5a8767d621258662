#include "api/path.hpp"

#include "core/text.hpp"

namespace sb::api {

std::optional<std::string> decode_segment(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (std::size_t i = 0; i < segment.size(); ++i) {
    char c = segment[i];
    if (c == '%') {
      if (i + 2 >= segment.size()) return std::nullopt;  // "%" or "%4" at the end
      const int hi = hex_value(segment[i + 1]), lo = hex_value(segment[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return std::nullopt;
    out += c;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace sb::api
