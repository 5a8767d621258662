// Listen addresses as written in configuration: "127.0.0.1:8080", "[::1]:8080", "localhost:0".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace sb {

struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};

Result<ListenAddress> parse_listen_address(std::string_view text);

// Parses a decimal unsigned integer that must fill `text`; `name` goes into the error.
Result<std::uint64_t> parse_decimal(std::string_view name, std::string_view text,
                                    std::uint64_t max);

}  // namespace sb
