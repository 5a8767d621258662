// Authentication (HTTP Basic AccountSid:AuthToken, or an API key's SKxxx:secret) and account
// scoping: an account acts on itself and on its subaccounts; every other account is invisible
// (404). An API key acts only as the account it belongs to, within its scopes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/sessions.hpp"
#include "core/error.hpp"
#include "http/response.hpp"
#include "store/store.hpp"

namespace sb::api {

// Twilio's "Authorization Failed": the credentials are valid but may not do this (an API key
// without the scope, or any API key on the Accounts and Keys resources). HTTP 403.
inline constexpr int kAuthorizationFailed = 70051;

inline constexpr std::string_view kApiKeySidPrefix = "SK";  // an API key's SID

namespace key_scope {
inline constexpr std::string_view kRest = "rest";
inline constexpr std::string_view kPublish = "publish";
inline constexpr std::string_view kSubscribe = "subscribe";
}  // namespace key_scope

// Who authenticated: an account with its own credentials, or one of its API keys.
struct Principal {
  store::Account account;
  std::optional<store::ApiKey> key;

  // Account credentials may do everything; a key what its scopes name.
  bool may(std::string_view scope) const { return !key || key->has_scope(scope); }
};

// Twilio's "Forbidden": a console request without its session's CSRF token. HTTP 403.
inline constexpr int kForbidden = 20403;

// The authenticated principal, or 401 with Twilio code 20003 (unknown, deleted or wrong
// credentials; a closed account). Secrets are compared in constant time and never logged.
// Without an Authorization header and given `sessions`, the console's session cookie stands
// in: the session's acting account (and API key); a state-changing method must then carry the
// session's CSRF token in X-CSRF-Token (403 with 20403 otherwise).
Result<Principal> authenticate(store::Store& store, const http::Request& req,
                               ConsoleSessions* sessions = nullptr);
// True when `req` authenticates with the console's cookie (no Authorization header): its 401
// then carries no WWW-Authenticate, on which a browser would open its own password dialog.
bool uses_session_cookie(const http::Request& req);

// Account SID + auth token, or API key SID + secret. An unknown user and a wrong password take
// the same path and the same time, and give the same error.
Result<Principal> authenticate_credentials(store::Store& store, std::string_view username,
                                           std::string_view password);

// The account `path_sid` names, when `caller` may act on it; 404 (20404) otherwise. A key
// reaches only its own account, not that account's subaccounts.
Result<store::Account> resolve_scope(store::Store& store, const Principal& caller,
                                     std::string_view path_sid, std::string_view path);

// 403 with code 70051 and `message`.
Error authorization_error(std::string message);
// The 70051 refusal of an API key that lacks `scope`, naming what it tried (`action`).
Error missing_scope_error(std::string_view scope, std::string_view action);

Error not_found_error(std::string_view path);

// A new key secret: 32 random lowercase hex characters (128 bits), like an auth token.
std::string make_key_secret();
// "s1$<salt>$<hex SHA-256 of salt + secret>", with a fresh salt of 32 random hex characters.
// The secret is itself 128 random bits, so one salted SHA-256 is as strong as a slow KDF here.
std::string hash_key_secret(std::string_view secret);
// True when `secret` hashes to `stored` (hash_key_secret's format); constant time in the digest.
bool verify_key_secret(std::string_view secret, std::string_view stored);

}  // namespace sb::api
