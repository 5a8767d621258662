#include "sip/digest.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdio>

#include "sip/syntax.hpp"

namespace sb::sip {
namespace {

std::string to_hex(const unsigned char* p, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 15];
  }
  return out;
}

std::string hash_hex(DigestAlgorithm alg, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const EVP_MD* type = alg == DigestAlgorithm::kMd5 ? EVP_md5() : EVP_sha256();
  EVP_Digest(data.data(), data.size(), md, &len, type, nullptr);
  return to_hex(md, len);
}

// Splits "Digest a=b, c="d"" into scheme and auth-params; calls f(name, unquoted value).
template <typename F>
bool parse_auth_params(std::string_view value, std::string_view& scheme, F&& f) {
  value = trim(value);
  const auto sp = value.find_first_of(" \t");
  scheme = value.substr(0, sp);
  if (sp == std::string_view::npos) return false;
  ValueList list(value.substr(sp + 1));
  while (auto item = list.next()) {
    if (item->empty()) continue;
    const auto eq = item->find('=');
    if (eq == std::string_view::npos) return false;
    const std::string_view name = trim(item->substr(0, eq));
    std::string_view v = trim(item->substr(eq + 1));
    std::string unq = !v.empty() && v[0] == '"' ? unquote(v) : std::string(v);
    f(name, std::move(unq));
  }
  return !list.bad();
}

Error bad(std::string m) { return Error::bad_request(codes::kAuthenticationFailed, std::move(m)); }

}  // namespace

std::optional<DigestAlgorithm> parse_algorithm(std::string_view name) {
  if (name.empty() || iequals(name, "MD5")) return DigestAlgorithm::kMd5;
  if (iequals(name, "SHA-256")) return DigestAlgorithm::kSha256;
  return std::nullopt;
}

std::string_view to_string(DigestAlgorithm a) {
  return a == DigestAlgorithm::kMd5 ? "MD5" : "SHA-256";
}

namespace {
// An algorithm= parameter into `out`; false (and `out` untouched) when it is not one we speak.
bool set_algorithm(std::string_view value, DigestAlgorithm& out) {
  auto a = parse_algorithm(value);
  if (a) out = *a;
  return a.has_value();
}
}  // namespace

Result<DigestChallenge> parse_challenge(std::string_view value) {
  DigestChallenge c;
  std::string_view scheme;
  bool alg_ok = true;
  const bool ok = parse_auth_params(value, scheme, [&](std::string_view n, std::string v) {
    if (iequals(n, "realm")) {
      c.realm = std::move(v);
    } else if (iequals(n, "nonce")) {
      c.nonce = std::move(v);
    } else if (iequals(n, "opaque")) {
      c.opaque = std::move(v);
    } else if (iequals(n, "stale")) {
      c.stale = iequals(v, "true");
    } else if (iequals(n, "algorithm")) {
      alg_ok = set_algorithm(v, c.algorithm) && alg_ok;
    } else if (iequals(n, "qop")) {
      ValueList q(v);
      while (auto x = q.next()) {
        if (iequals(*x, "auth")) c.qop_auth = true;
      }
    }
  });
  if (!ok || !iequals(scheme, "Digest")) return bad("Not a Digest challenge");
  if (!alg_ok) return bad("Unsupported digest algorithm");
  if (c.nonce.empty()) return bad("Challenge without nonce");
  return c;
}

Result<DigestCredentials> parse_credentials(std::string_view value) {
  DigestCredentials c;
  std::string_view scheme;
  bool alg_ok = true;
  const bool ok = parse_auth_params(value, scheme, [&](std::string_view n, std::string v) {
    if (iequals(n, "username")) {
      c.username = std::move(v);
    } else if (iequals(n, "realm")) {
      c.realm = std::move(v);
    } else if (iequals(n, "nonce")) {
      c.nonce = std::move(v);
    } else if (iequals(n, "uri")) {
      c.uri = std::move(v);
    } else if (iequals(n, "response")) {
      c.response = std::move(v);
    } else if (iequals(n, "cnonce")) {
      c.cnonce = std::move(v);
    } else if (iequals(n, "nc")) {
      c.nc = std::move(v);
    } else if (iequals(n, "qop")) {
      c.qop = std::move(v);
    } else if (iequals(n, "opaque")) {
      c.opaque = std::move(v);
    } else if (iequals(n, "algorithm")) {
      alg_ok = set_algorithm(v, c.algorithm) && alg_ok;
    }
  });
  if (!ok || !iequals(scheme, "Digest") || !alg_ok) return bad("Malformed Digest credentials");
  if (c.username.empty() || c.nonce.empty() || c.response.empty()) {
    return bad("Incomplete Digest credentials");
  }
  return c;
}

std::string digest_ha1(DigestAlgorithm alg, std::string_view username, std::string_view realm,
                       std::string_view password) {
  std::string a1;
  a1.append(username).append(":").append(realm).append(":").append(password);
  return hash_hex(alg, a1);
}

std::string digest_response_ha1(DigestAlgorithm alg, std::string_view ha1, std::string_view method,
                                std::string_view uri, std::string_view nonce, std::string_view nc,
                                std::string_view cnonce, std::string_view qop) {
  std::string a2;
  a2.append(method).append(":").append(uri);
  const std::string ha2 = hash_hex(alg, a2);
  std::string kd = std::string(ha1) + ":" + std::string(nonce) + ":";
  if (!qop.empty()) kd.append(nc).append(":").append(cnonce).append(":").append(qop).append(":");
  kd += ha2;
  return hash_hex(alg, kd);
}

std::string digest_response(DigestAlgorithm alg, std::string_view username, std::string_view realm,
                            std::string_view password, std::string_view method,
                            std::string_view uri, std::string_view nonce, std::string_view nc,
                            std::string_view cnonce, std::string_view qop) {
  return digest_response_ha1(alg, digest_ha1(alg, username, realm, password), method, uri, nonce,
                             nc, cnonce, qop);
}

DigestSecret DigestSecret::from_password(std::string_view username, std::string_view realm,
                                         std::string_view password) {
  return {digest_ha1(DigestAlgorithm::kMd5, username, realm, password),
          digest_ha1(DigestAlgorithm::kSha256, username, realm, password)};
}

std::string make_authorization(const DigestChallenge& ch, std::string_view username,
                               std::string_view password, std::string_view method,
                               std::string_view uri, std::string_view cnonce, std::uint32_t nc) {
  char ncbuf[9];
  std::snprintf(ncbuf, sizeof ncbuf, "%08x", nc);
  const std::string_view qop = ch.qop_auth ? "auth" : "";
  const std::string resp = digest_response(ch.algorithm, username, ch.realm, password, method, uri,
                                           ch.nonce, ncbuf, cnonce, qop);
  std::string out = "Digest username=\"" + std::string(username) + "\", realm=\"" + ch.realm +
                    "\", nonce=\"" + ch.nonce + "\", uri=\"" + std::string(uri) +
                    "\", response=\"" + resp +
                    "\", algorithm=" + std::string(to_string(ch.algorithm));
  if (ch.qop_auth) {
    out += ", qop=auth, nc=" + std::string(ncbuf) + ", cnonce=\"" + std::string(cnonce) + "\"";
  }
  if (!ch.opaque.empty()) out += ", opaque=\"" + ch.opaque + "\"";
  return out;
}

std::string random_hex(std::size_t bytes) {
  unsigned char buf[64];
  if (bytes > sizeof buf) bytes = sizeof buf;
  RAND_bytes(buf, static_cast<int>(bytes));
  return to_hex(buf, bytes);
}

DigestVerifier::DigestVerifier(std::string realm, std::string secret, SecretLookup lookup,
                               std::int64_t nonce_lifetime_s)
    : realm_(std::move(realm)),
      secret_(std::move(secret)),
      lookup_(std::move(lookup)),
      lifetime_(nonce_lifetime_s) {}

std::string DigestVerifier::make_nonce(std::int64_t now_s) const {
  const std::string ts = std::to_string(now_s);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(ts.data()), ts.size(), mac, &len);
  return ts + "." + to_hex(mac, 16);
}

bool DigestVerifier::nonce_ok(std::string_view nonce, std::int64_t now_s, bool& stale) const {
  stale = false;
  const auto dot = nonce.find('.');
  if (dot == std::string_view::npos) return false;
  auto ts = parse_uint(nonce.substr(0, dot), INT64_MAX);
  if (!ts) return false;
  if (make_nonce(static_cast<std::int64_t>(*ts)) != nonce) return false;
  const std::int64_t age = now_s - static_cast<std::int64_t>(*ts);
  if (age < 0 || age > lifetime_) {
    stale = true;
    return false;
  }
  return true;
}

std::string DigestVerifier::challenge(std::int64_t now_s, DigestAlgorithm alg, bool stale) const {
  std::string out = "Digest realm=\"" + realm_ + "\", nonce=\"" + make_nonce(now_s) +
                    "\", algorithm=" + std::string(to_string(alg)) + ", qop=\"auth\"";
  if (stale) out += ", stale=true";
  return out;
}

DigestVerifier::Outcome DigestVerifier::verify(const Message& rq, std::int64_t now_s,
                                               const SecretLookup& lookup,
                                               std::string* username) const {
  bool any = false;
  Outcome result = Outcome::kMissing;
  for (std::size_t i = 0; i < rq.header_count(); ++i) {
    const auto& h = rq.header_at(i);
    if (h.id != Hdr::kAuthorization) continue;
    // Another scheme (RFC 4475 §3.3.7) is not ours to judge: as if absent.
    if (const auto v = trim(h.value); v.size() < 7 || !iequals(v.substr(0, 7), "digest ")) continue;
    any = true;
    auto cred = parse_credentials(h.value);
    if (!cred || cred->realm != realm_) {
      result = Outcome::kBad;
      continue;
    }
    bool stale = false;
    if (!nonce_ok(cred->nonce, now_s, stale)) {
      result = stale ? Outcome::kStale : Outcome::kBad;
      continue;
    }
    auto secret = lookup ? lookup(cred->username) : std::nullopt;
    // A user that does not exist costs the same hashing and comparison as a wrong password
    // (and gets the same answer), so timing does not tell which users exist.
    const bool known = secret && !secret->ha1(cred->algorithm).empty();
    static const std::string kNoUserHa1(64, '0');
    const std::string& ha1 = known ? secret->ha1(cred->algorithm) : kNoUserHa1;
    const std::string expect = digest_response_ha1(cred->algorithm, ha1, rq.method(), cred->uri,
                                                   cred->nonce, cred->nc, cred->cnonce, cred->qop);
    const bool match = CRYPTO_memcmp(expect.data(), cred->response.data(),
                                     std::min(expect.size(), cred->response.size())) == 0 &&
                       expect.size() == cred->response.size();
    if (!known) return Outcome::kBad;
    if (match) {
      if (username) *username = cred->username;
      return Outcome::kOk;
    }
    result = Outcome::kBad;
  }
  return any ? result : Outcome::kMissing;
}

}  // namespace sb::sip
