// Base64 (RFC 4648) for HTTP Basic credentials and signatures.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sb::http {

std::string base64_encode(std::string_view bytes);
// Appends the encoding of `bytes` to `out` (a reused buffer: no allocation once it is big enough).
void base64_append(std::string& out, std::string_view bytes);
// nullopt on any character outside the alphabet or bad padding.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace sb::http
