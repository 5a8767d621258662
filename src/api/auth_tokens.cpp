// Twilio's auth token rotation (accounts.twilio.com/v1/AuthTokens/…), served under
// /accounts/v1/: create a secondary token (both are accepted from then on), deploy it, promote
// it (the old primary stops working at once), or delete it.
#include <boost/json.hpp>
#include <optional>

#include "api/auth.hpp"
#include "api/resources.hpp"
#include "core/random.hpp"
#include "core/time.hpp"

namespace sb::api {

namespace bhttp = boost::beast::http;

namespace {

std::string iso(std::int64_t unix_s) { return iso8601_ms(unix_s * 1000); }

// Writes `account`; the store's error as a response when that fails.
asio::awaitable<std::optional<http::Response>> save(Context& ctx, const store::Account& account) {
  store::Mutation mutation = store::UpdateAccount{account};
  auto s = co_await commit(ctx.store, mutation);
  if (!s) co_return store_error(s.error());
  co_return std::nullopt;
}

}  // namespace

asio::awaitable<http::Response> handle_auth_tokens(Context& ctx, const http::Request& req,
                                                   http::RequestInfo& info, std::string_view path,
                                                   std::string base_url) {
  info.route = "/accounts/v1/unmatched";
  const std::string_view rest = path.substr(kAccountsV1Base.size());
  const bool secondary = rest == "AuthTokens/Secondary";
  const bool promote = rest == "AuthTokens/Promote";
  if (!secondary && !promote) co_return http::error_response(not_found_error(path));
  info.route = std::string(kAccountsV1Base) + std::string(rest);
  if (req[bhttp::field::authorization].empty()) {
    co_return http::auth_error_response(
        {codes::kAuthenticationFailed, 401, "Authenticate with the account's SID and auth token"});
  }
  auto caller = authenticate(ctx.store, req);
  if (!caller) co_return http::auth_error_response(caller.error());
  if (caller->key) {
    co_return http::error_response(authorization_error(
        "Authorization Failed - an API key cannot rotate auth tokens; use the account's SID "
        "and auth token"));
  }
  const auto method = req.method();
  store::Account account = caller->account;
  const std::int64_t now = ctx.clock.now_unix();

  if (secondary && method == bhttp::verb::post) {
    // A new secondary replaces one that exists (Twilio keeps one at a time).
    account.secondary_auth_token = random_hex(16);
    account.secondary_created = now;
    account.date_updated = now;
    auto failed = co_await save(ctx, account);
    if (failed) co_return std::move(*failed);
    boost::json::object o;
    o["account_sid"] = account.sid;
    o["date_created"] = iso(account.secondary_created);
    o["date_updated"] = iso(account.secondary_created);
    o["secondary_auth_token"] = account.secondary_auth_token;
    o["url"] = base_url + std::string(kAccountsV1Base) + "AuthTokens/Secondary";
    co_return http::json_response(201, o);
  }
  if (secondary && method == bhttp::verb::delete_) {
    if (account.secondary_auth_token.empty()) {
      co_return http::error_response(
          Error::not_found("The account has no secondary auth token to delete"));
    }
    account.secondary_auth_token.clear();
    account.secondary_created = 0;
    account.date_updated = now;
    auto failed = co_await save(ctx, account);
    if (failed) co_return std::move(*failed);
    co_return http::Response{bhttp::status::no_content, 11};
  }
  if (promote && method == bhttp::verb::post) {
    if (account.secondary_auth_token.empty()) {
      co_return http::error_response(
          Error::bad_request(codes::kInvalidParameter,
                             "The account has no secondary auth token to promote: create one "
                             "with POST /accounts/v1/AuthTokens/Secondary first"));
    }
    account.auth_token = std::move(account.secondary_auth_token);
    account.secondary_auth_token.clear();
    account.secondary_created = 0;
    account.date_updated = now;
    auto failed = co_await save(ctx, account);
    if (failed) co_return std::move(*failed);
    boost::json::object o;
    o["account_sid"] = account.sid;
    o["auth_token"] = account.auth_token;
    o["date_created"] = iso(account.date_created);
    o["date_updated"] = iso(account.date_updated);
    o["url"] = base_url + std::string(kAccountsV1Base) + "AuthTokens";
    co_return http::json_response(200, o);
  }
  co_return http::method_not_allowed(secondary ? "POST, DELETE" : "POST");
}

}  // namespace sb::api
