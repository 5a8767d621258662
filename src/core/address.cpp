#include "core/address.hpp"

#include <charconv>

namespace sb {

Result<std::uint64_t> parse_decimal(std::string_view name, std::string_view text,
                                    std::uint64_t max) {
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size() || value > max) {
    return Error::bad_request(codes::kInvalidParameter,
                              std::string(name) + ": expected an integer from 0 to " +
                                  std::to_string(max) + ", got '" + std::string(text) + "'");
  }
  return value;
}

Result<ListenAddress> parse_listen_address(std::string_view text) {
  ListenAddress out;
  std::string_view port_text;
  auto bad = [&](const char* expected) {
    return Error::bad_request(codes::kInvalidParameter,
                              "listen address '" + std::string(text) + "': expected " + expected);
  };
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad("[host]:port");
    }
    out.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return bad("host:port");
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  auto port = parse_decimal("port", port_text, 65535);
  if (!port) return port.error();
  out.port = static_cast<std::uint16_t>(*port);
  return out;
}

}  // namespace sb
