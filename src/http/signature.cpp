#include "http/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

#include "http/base64.hpp"

namespace sb::http {

namespace {

std::string hmac_sha1_base64(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  // Empty inputs are legal; OpenSSL wants non-null pointers for them.
  static constexpr unsigned char kEmpty = 0;
  const auto* key_ptr = key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  const auto* data_ptr =
      data.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(data.data());
  if (HMAC(EVP_sha1(), key_ptr, static_cast<int>(key.size()), data_ptr, data.size(), mac.data(),
           &mac_len) == nullptr) {
    return {};
  }
  return base64_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac_len));
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || a.empty()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Where the port of an absolute URL sits: `host_end` is the offset just past the host (where a
// ":port" starts, or would be inserted), `port_end` the offset past the port.
struct Authority {
  std::string_view scheme;
  std::size_t host_end = 0;
  std::size_t port_end = 0;
  bool has_port() const { return port_end > host_end; }
};

std::optional<Authority> find_authority(std::string_view url) {
  const auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  Authority a;
  a.scheme = url.substr(0, sep);
  const std::size_t start = sep + 3;
  std::size_t end = url.find_first_of("/?#", start);
  if (end == std::string_view::npos) end = url.size();
  const std::string_view authority = url.substr(start, end - start);
  const auto at = authority.rfind('@');
  const std::size_t host_start = at == std::string_view::npos ? 0 : at + 1;
  const std::string_view host_port = authority.substr(host_start);
  // A bracketed IPv6 literal holds colons of its own.
  const auto bracket = host_port.rfind(']');
  const auto colon = host_port.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    a.host_end = start + host_start + colon;
  } else {
    a.host_end = end;
  }
  a.port_end = end;
  return a;
}

std::string_view default_port(std::string_view scheme) {
  std::string lower(scheme);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "https") return "443";
  if (lower == "http") return "80";
  return {};
}

// The URL spellings the official validators accept for one request.
std::vector<std::string> url_variants(std::string_view url) {
  std::vector<std::string> out{std::string(url)};
  const auto a = find_authority(url);
  if (!a) return out;
  if (a->has_port()) {
    std::string without(url.substr(0, a->host_end));
    without += url.substr(a->port_end);
    out.push_back(std::move(without));
  } else if (const auto port = default_port(a->scheme); !port.empty()) {
    std::string with(url.substr(0, a->host_end));
    with += ':';
    with += port;
    with += url.substr(a->host_end);
    out.push_back(std::move(with));
  }
  return out;
}

std::optional<std::string_view> query_param(std::string_view url, std::string_view name) {
  url = url.substr(0, url.find('#'));
  const auto q = url.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = url.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace

std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             const SignedParams& post_params) {
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(post_params.size());
  std::size_t size = url.size();
  for (const auto& p : post_params) {
    sorted.push_back(&p);
    size += p.first.size() + p.second.size();
  }
  // Byte order of UTF-8 is code point order, which is what the helper libraries sort by.
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return *a < *b; });
  std::string data;
  data.reserve(size);
  data += url;
  for (const auto* p : sorted) {
    data += p->first;
    data += p->second;
  }
  return hmac_sha1_base64(auth_token, data);
}

bool validate_twilio_signature(std::string_view auth_token, std::string_view url,
                               const SignedParams& post_params, std::string_view signature) {
  if (signature.empty()) return false;
  bool valid = false;
  for (const auto& candidate : url_variants(url)) {
    // No early exit: each spelling costs the same whichever matches.
    valid |= equal_constant_time(twilio_signature(auth_token, candidate, post_params), signature);
  }
  return valid;
}

std::string twilio_body_sha256(std::string_view body) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest.data());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digest.size() * 2);
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0x0f]);
  }
  return out;
}

std::string append_body_sha256(std::string_view url, std::string_view body) {
  const auto hash = url.find('#');
  std::string out(url.substr(0, hash));
  const auto q = out.find('?');
  if (q == std::string::npos) {
    out += '?';
  } else if (q + 1 != out.size() && out.back() != '&') {
    out += '&';
  }
  out += "bodySHA256=";
  out += twilio_body_sha256(body);
  if (hash != std::string_view::npos) out += url.substr(hash);
  return out;
}

bool validate_twilio_signature_with_body(std::string_view auth_token, std::string_view url,
                                         std::string_view body, std::string_view signature) {
  const auto claimed = query_param(url, "bodySHA256");
  if (!claimed) return false;
  std::string lower(*claimed);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool body_ok = equal_constant_time(twilio_body_sha256(body), lower);
  const bool signature_ok = validate_twilio_signature(auth_token, url, {}, signature);
  return body_ok && signature_ok;
}

}  // namespace sb::http
