#include "api/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>

#include "core/random.hpp"
#include "core/sid.hpp"
#include "core/text.hpp"
#include "http/base64.hpp"

namespace sb::api {
namespace {

constexpr std::string_view kHashScheme = "s1";
constexpr std::size_t kSaltBytes = 16;

Error auth_error(std::string message) {
  return Error{codes::kAuthenticationFailed, 401, std::move(message)};
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0x0f]);
  }
  return out;
}

// Hex SHA-256 of the salt's hex text followed by the secret.
std::string salted_digest(std::string_view salt, std::string_view secret) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, salt.data(), salt.size()) == 1 &&
                  EVP_DigestUpdate(ctx, secret.data(), secret.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, digest.data(), &size) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return "";
  return to_hex(digest.data(), size);
}

// The key for `sid` when `secret` is its secret and its account may log in.
Result<Principal> authenticate_key(store::Store& store, std::string_view sid,
                                   std::string_view secret) {
  // An unknown key costs the same digest as a known one: timing does not tell which exist.
  static const std::string kDummyHash = hash_key_secret(random_hex(16));
  auto key = store.find_api_key_by_sid(sid);
  if (!key) return key.error();
  const bool found = key->has_value();
  const bool match = verify_key_secret(secret, found ? (*key)->secret_hash : kDummyHash);
  if (!found || !match) {
    return auth_error("Authentication Error - invalid username or password");
  }
  auto account = store.find_account((*key)->account_sid);
  if (!account) return account.error();
  if (!account->has_value() || (*account)->status == "closed") {
    return auth_error("Authentication Error - the account is closed");
  }
  return Principal{std::move(**account), std::move(**key)};
}

}  // namespace

Error not_found_error(std::string_view path) {
  return Error::not_found("The requested resource " + std::string(path) + " was not found");
}

Error authorization_error(std::string message) {
  return Error{kAuthorizationFailed, 403, std::move(message)};
}

Error missing_scope_error(std::string_view scope, std::string_view action) {
  return authorization_error("Authorization Failed - the API key lacks the '" + std::string(scope) +
                             "' scope needed to " + std::string(action));
}

std::string make_key_secret() { return random_hex(16); }

std::string hash_key_secret(std::string_view secret) {
  const std::string salt = random_hex(kSaltBytes);
  return std::string(kHashScheme) + "$" + salt + "$" + salted_digest(salt, secret);
}

bool verify_key_secret(std::string_view secret, std::string_view stored) {
  // s1$<salt: 32 hex>$<digest hex>
  const auto first = stored.find('$');
  if (first == std::string_view::npos || stored.substr(0, first) != kHashScheme) return false;
  const auto second = stored.find('$', first + 1);
  if (second == std::string_view::npos) return false;
  const std::string_view salt = stored.substr(first + 1, second - first - 1);
  if (!is_hex32(salt)) return false;
  const std::string digest = salted_digest(salt, secret);
  return !digest.empty() && constant_time_equal(digest, stored.substr(second + 1));
}

Result<Principal> authenticate_credentials(store::Store& store, std::string_view sid,
                                           std::string_view token) {
  if (is_sid(sid, kApiKeySidPrefix)) return authenticate_key(store, sid, token);
  if (!is_sid(sid, sid_prefix::kAccount)) {
    return auth_error("Authentication Error - invalid username or password");
  }
  // An unknown account is compared with a token of the same length: same path, same time.
  static const std::string kDummyToken = random_hex(16);
  auto account = store.find_account(sid);
  if (!account) return account.error();
  const bool found = account->has_value();
  // The primary token, or the secondary one while the account rotates (both compared, always).
  const bool primary = constant_time_equal(found ? (*account)->auth_token : kDummyToken, token);
  const std::string& second = found && !(*account)->secondary_auth_token.empty()
                                  ? (*account)->secondary_auth_token
                                  : kDummyToken;
  const bool secondary =
      constant_time_equal(second, token) && found && !(*account)->secondary_auth_token.empty();
  if (!found || !(primary || secondary)) {
    return auth_error("Authentication Error - invalid username or password");
  }
  if ((*account)->status == "closed") {
    return auth_error("Authentication Error - the account is closed");
  }
  return Principal{std::move(**account), std::nullopt};
}

Result<Principal> authenticate_session(store::Store& store, const http::Request& req,
                                       ConsoleSessions& sessions) {
  const std::string_view token = session_cookie(req[boost::beast::http::field::cookie]);
  auto session = token.empty() ? std::nullopt : sessions.find(token);
  if (!session) return auth_error("Authentication Error - the console session has expired");
  const auto method = req.method();
  if (method != boost::beast::http::verb::get && method != boost::beast::http::verb::head &&
      method != boost::beast::http::verb::options) {
    const std::string_view csrf = req[kCsrfHeader];
    if (!constant_time_equal(csrf, session->csrf_token)) {
      return Error{kForbidden, 403, "CSRF token missing or invalid"};
    }
  }
  auto account = store.find_account(session->acting_sid);
  if (!account) return account.error();
  if (!account->has_value() || (*account)->status == "closed") {
    sessions.revoke(token);
    return auth_error("Authentication Error - the account is closed");
  }
  std::optional<store::ApiKey> key;
  if (!session->key_sid.empty()) {
    auto found = store.find_api_key_by_sid(session->key_sid);
    if (!found) return found.error();
    if (!found->has_value()) {  // deleted since sign-in: the session goes with it
      sessions.revoke(token);
      return auth_error("Authentication Error - the API key was deleted");
    }
    key = std::move(**found);
  }
  return Principal{std::move(**account), std::move(key)};
}

bool uses_session_cookie(const http::Request& req) {
  return req[boost::beast::http::field::authorization].empty() &&
         !session_cookie(req[boost::beast::http::field::cookie]).empty();
}

Result<Principal> authenticate(store::Store& store, const http::Request& req,
                               ConsoleSessions* sessions) {
  const auto header = req[boost::beast::http::field::authorization];
  if (header.empty() && sessions && !req[boost::beast::http::field::cookie].empty()) {
    return authenticate_session(store, req, *sessions);
  }
  if (header.empty()) return auth_error("Authentication Error - No credentials provided");
  constexpr std::string_view kBasic = "Basic ";
  if (header.size() <= kBasic.size() ||
      !boost::beast::iequals(header.substr(0, kBasic.size()), kBasic)) {
    return auth_error("Authentication Error - Basic credentials required");
  }
  std::string_view encoded = header.substr(kBasic.size());
  encoded = trim(encoded);
  if (encoded.size() > 512) return auth_error("Authentication Error - invalid credentials");
  auto decoded = http::base64_decode(encoded);
  if (!decoded) return auth_error("Authentication Error - invalid credentials");
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return auth_error("Authentication Error - invalid credentials");
  const std::string_view sid = std::string_view(*decoded).substr(0, colon);
  const std::string_view token = std::string_view(*decoded).substr(colon + 1);
  return authenticate_credentials(store, sid, token);
}

Result<store::Account> resolve_scope(store::Store& store, const Principal& caller,
                                     std::string_view path_sid, std::string_view path) {
  if (path_sid == caller.account.sid) return caller.account;
  if (caller.key || !is_sid(path_sid, sid_prefix::kAccount)) return not_found_error(path);
  auto account = store.find_account(path_sid);
  if (!account) return account.error();
  if (!account->has_value() || (*account)->owner_sid != caller.account.sid) {
    return not_found_error(path);
  }
  return std::move(**account);
}

}  // namespace sb::api
