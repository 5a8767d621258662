// application/x-www-form-urlencoded bodies and query strings: decoding with limits, lookup of
// single and repeated keys, and encoding.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace sb::http {

struct FormLimits {
  std::size_t max_fields = 512;
  std::size_t max_key_bytes = 256;
  std::size_t max_value_bytes = 64 * 1024;
};

class Form {
 public:
  using Field = std::pair<std::string, std::string>;

  // First value for `key`, if any.
  std::optional<std::string_view> get(std::string_view key) const;
  // Every value for `key`, in the order given (Twilio's repeated-key lists).
  std::vector<std::string_view> get_all(std::string_view key) const;
  bool has(std::string_view key) const { return get(key).has_value(); }
  const std::vector<Field>& fields() const { return fields_; }
  void add(std::string key, std::string value) {
    fields_.emplace_back(std::move(key), std::move(value));
  }

 private:
  std::vector<Field> fields_;
};

// Decodes "a=1&b=x+y&c=%2F"; '+' is a space. Malformed percent escapes and limit breaches
// are errors (HTTP 400, Twilio 20001) naming the problem.
Result<Form> parse_form(std::string_view text, const FormLimits& limits = {});

std::string percent_decode_or_empty(std::string_view text);
// Encodes one component for a query string or form body (RFC 3986 unreserved kept).
std::string form_encode(std::string_view text);

}  // namespace sb::http
