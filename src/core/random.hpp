// Cryptographically strong random bytes and hex strings (OpenSSL's CSPRNG).
#pragma once

#include <cstddef>
#include <string>

namespace sb {

// Lowercase hex of `bytes` random bytes (so 2 * bytes characters).
std::string random_hex(std::size_t bytes);

}  // namespace sb
