#include "api/auth.hpp"

#include <openssl/crypto.h>

#include "core/sid.hpp"
#include "http/base64.hpp"

namespace sb::api {
namespace {

Error auth_error(std::string message) {
  return Error{codes::kAuthenticationFailed, 401, std::move(message)};
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

Error not_found_error(std::string_view path) {
  return Error::not_found("The requested resource " + std::string(path) + " was not found");
}

Result<store::Account> authenticate(store::Store& store, const http::Request& req) {
  const auto header = req[boost::beast::http::field::authorization];
  if (header.empty()) return auth_error("Authentication Error - No credentials provided");
  constexpr std::string_view kBasic = "Basic ";
  if (header.size() <= kBasic.size() ||
      !boost::beast::iequals(header.substr(0, kBasic.size()), kBasic)) {
    return auth_error("Authentication Error - Basic credentials required");
  }
  std::string_view encoded = header.substr(kBasic.size());
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
  if (encoded.size() > 512) return auth_error("Authentication Error - invalid credentials");
  auto decoded = http::base64_decode(encoded);
  if (!decoded) return auth_error("Authentication Error - invalid credentials");
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return auth_error("Authentication Error - invalid credentials");
  const std::string_view sid = std::string_view(*decoded).substr(0, colon);
  const std::string_view token = std::string_view(*decoded).substr(colon + 1);
  if (!is_sid(sid, sid_prefix::kAccount)) {
    return auth_error("Authentication Error - invalid username");
  }
  auto account = store.find_account(sid);
  if (!account) return account.error();
  if (!account->has_value() || !constant_time_equal((*account)->auth_token, token)) {
    return auth_error("Authentication Error - invalid username or password");
  }
  if ((*account)->status == "closed") {
    return auth_error("Authentication Error - the account is closed");
  }
  return std::move(**account);
}

Result<store::Account> resolve_scope(store::Store& store, const store::Account& caller,
                                     std::string_view path_sid, std::string_view path) {
  if (path_sid == caller.sid) return caller;
  if (!is_sid(path_sid, sid_prefix::kAccount)) return not_found_error(path);
  auto account = store.find_account(path_sid);
  if (!account) return account.error();
  if (!account->has_value() || (*account)->owner_sid != caller.sid) return not_found_error(path);
  return std::move(**account);
}

}  // namespace sb::api
