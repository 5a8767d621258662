// HTTP Digest for SIP (RFC 3261 §22, RFC 8760): MD5 and SHA-256, qop=auth. The UAC side
// answers 401/407 challenges; the UAS side issues stateless, HMAC-signed nonces and verifies.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "sip/message.hpp"

namespace sb::sip {

enum class DigestAlgorithm { kMd5, kSha256 };
std::optional<DigestAlgorithm> parse_algorithm(std::string_view name);  // "MD5", "SHA-256"
std::string_view to_string(DigestAlgorithm a);

struct DigestChallenge {
  std::string realm;
  std::string nonce;
  std::string opaque;
  DigestAlgorithm algorithm = DigestAlgorithm::kMd5;
  bool qop_auth = false;  // qop list contains "auth"
  bool stale = false;
};
// Parses a WWW-Authenticate / Proxy-Authenticate value ("Digest realm=..., nonce=...").
Result<DigestChallenge> parse_challenge(std::string_view value);

struct DigestCredentials {
  std::string username, realm, nonce, uri, response, cnonce, nc, qop, opaque;
  DigestAlgorithm algorithm = DigestAlgorithm::kMd5;
};
Result<DigestCredentials> parse_credentials(std::string_view value);

// The request-digest (RFC 2617 §3.2.2.1, with RFC 8760's hash choice).
std::string digest_response(DigestAlgorithm alg, std::string_view username, std::string_view realm,
                            std::string_view password, std::string_view method,
                            std::string_view uri, std::string_view nonce, std::string_view nc,
                            std::string_view cnonce, std::string_view qop);

// H(username:realm:password): what a credential store keeps instead of the password (A1 of
// RFC 2617 §3.2.2.2), and the request-digest computed from it.
std::string digest_ha1(DigestAlgorithm alg, std::string_view username, std::string_view realm,
                       std::string_view password);
std::string digest_response_ha1(DigestAlgorithm alg, std::string_view ha1, std::string_view method,
                                std::string_view uri, std::string_view nonce, std::string_view nc,
                                std::string_view cnonce, std::string_view qop);

// What a verifier checks a user's response against: the user's H(A1) in both algorithms, so
// that the password itself need not be kept.
struct DigestSecret {
  std::string ha1_md5;
  std::string ha1_sha256;
  static DigestSecret from_password(std::string_view username, std::string_view realm,
                                    std::string_view password);
  const std::string& ha1(DigestAlgorithm a) const {
    return a == DigestAlgorithm::kMd5 ? ha1_md5 : ha1_sha256;
  }
};

// The Authorization / Proxy-Authorization value answering `challenge`.
std::string make_authorization(const DigestChallenge& challenge, std::string_view username,
                               std::string_view password, std::string_view method,
                               std::string_view uri, std::string_view cnonce, std::uint32_t nc = 1);

// UAS side: challenges requests and checks their credentials. Nonces carry their issue time
// and an HMAC over it, so no per-challenge state is kept; they expire after `nonce_lifetime`.
class DigestVerifier {
 public:
  using SecretLookup = std::function<std::optional<DigestSecret>(std::string_view username)>;
  DigestVerifier(std::string realm, std::string secret, SecretLookup lookup = {},
                 std::int64_t nonce_lifetime_s = 300);

  enum class Outcome { kOk, kMissing, kBad, kStale };
  // Checks the request's Authorization header against `now_s` (seconds, injected clock), with
  // the users of `lookup` (default: the constructor's); `username` gets the verified user.
  Outcome verify(const Message& request, std::int64_t now_s) const {
    return verify(request, now_s, lookup_, nullptr);
  }
  Outcome verify(const Message& request, std::int64_t now_s, const SecretLookup& lookup,
                 std::string* username) const;
  // WWW-Authenticate values to send with a 401: SHA-256 first, then MD5 (RFC 8760 §2.4).
  std::string challenge(std::int64_t now_s, DigestAlgorithm alg, bool stale = false) const;
  const std::string& realm() const { return realm_; }

 private:
  std::string make_nonce(std::int64_t now_s) const;
  bool nonce_ok(std::string_view nonce, std::int64_t now_s, bool& stale) const;

  std::string realm_;
  std::string secret_;
  SecretLookup lookup_;
  std::int64_t lifetime_;
};

std::string random_hex(std::size_t bytes);  // from OpenSSL's CSPRNG

}  // namespace sb::sip
