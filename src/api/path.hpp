// Splitting request paths into segments for the routers (api.cpp, events_api.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace sb::api {

// "a/b/c" into at most N segments and their count; nullopt when there are more segments or
// the path ends with a slash.
template <std::size_t N>
std::optional<std::pair<std::array<std::string_view, N>, std::size_t>> split_path(
    std::string_view path) {
  std::array<std::string_view, N> out{};
  std::size_t n = 0;
  while (!path.empty()) {
    if (n == N) return std::nullopt;
    const auto slash = path.find('/');
    out[n++] = path.substr(0, slash);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
    if (path.empty()) return std::nullopt;  // trailing slash
  }
  return std::make_pair(out, n);
}

// A path segment percent-decoded ('+' stays a plus, as in any path); nullopt when an escape is
// malformed, the result is empty, or it holds a control character.
std::optional<std::string> decode_segment(std::string_view segment);

}  // namespace sb::api
