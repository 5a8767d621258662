// Low-level SIP grammar helpers (RFC 3261 §25): character classes, LWS trimming, comma and
// parameter splitting that respect quotes and angle brackets. All views, no allocation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/text.hpp"

namespace sb::sip {

inline bool is_lws(char c) { return is_space(c); }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
inline bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
bool is_token_char(char c);
bool is_token(std::string_view s);

// Folded header values keep their CRLF; every helper treats CR/LF like SP (sb::trim and
// sb::iequals from core/text.hpp serve SIP as they are).
using sb::iequals;
using sb::trim;

// Parses an unsigned decimal; nullopt when empty, non-digit, or above `max`.
std::optional<std::uint64_t> parse_uint(std::string_view s, std::uint64_t max);

// Finds `c` outside quoted strings and <...>; npos if absent. nullopt on an open quote.
std::optional<std::size_t> find_unquoted(std::string_view s, char c, std::size_t from = 0);

// Iterates the comma-separated values of a header (quotes and <> respected).
class ValueList {
 public:
  explicit ValueList(std::string_view s) : rest_(s) {}
  // Next trimmed value (possibly empty); nullopt at the end. Sets bad() on an open quote.
  std::optional<std::string_view> next();
  bool bad() const { return bad_; }

 private:
  std::string_view rest_;
  bool done_ = false;
  bool bad_ = false;
};

// Parameters ";name[=value]" (leading ';' optional). Values may be quoted strings.
struct Param {
  std::string_view name;
  std::string_view value;  // raw (quotes kept); empty when absent
  bool has_value = false;
};
class ParamList {
 public:
  explicit ParamList(std::string_view s) : rest_(s) {}
  std::optional<Param> next();  // nullopt at end or on error (see bad())
  bool bad() const { return bad_; }

 private:
  std::string_view rest_;
  bool bad_ = false;
};

// True when every parameter has a non-empty token name and well-formed value.
bool valid_params(std::string_view params);
// Value of a parameter (quotes stripped); nullopt if absent; "" for a flag.
std::optional<std::string_view> find_param(std::string_view params, std::string_view name);

// quoted-string helpers: `s` begins with '"'. Returns the length including both quotes.
std::optional<std::size_t> quoted_length(std::string_view s);
std::string unquote(std::string_view quoted);  // removes quotes and quoted-pair backslashes
std::string unescape(std::string_view s);      // %HH -> octet (single pass)

}  // namespace sb::sip
