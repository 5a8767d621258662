// Keys.json and Keys/{Sid}.json: API keys, with their secrets kept only as salted hashes.
#include "api/auth.hpp"
#include "api/json.hpp"
#include "api/pagination.hpp"
#include "api/resources.hpp"
#include "api/validation.hpp"
#include "core/sid.hpp"
#include "core/text.hpp"

namespace sb::api {
namespace {

// Keys per account at most (Twilio answers 70151 past its own limit).
constexpr std::size_t kMaxKeysPerAccount = 100;
constexpr int kTooManyKeys = 70151;

// Scopes=rest,publish or Scopes=rest&Scopes=publish; absent: all three (a Standard key).
Result<std::set<std::string, std::less<>>> parse_scopes(const http::Form& params) {
  std::set<std::string, std::less<>> out;
  for (std::string_view value : params.get_all("Scopes")) {
    while (!value.empty()) {
      const auto comma = value.find(',');
      std::string_view part = value.substr(0, comma);
      part = trim(part);
      if (part != key_scope::kRest && part != key_scope::kPublish &&
          part != key_scope::kSubscribe) {
        return Error::bad_request(codes::kInvalidParameter,
                                  "Scopes: each scope is one of rest, publish, subscribe, not '" +
                                      std::string(part.substr(0, 40)) + "'");
      }
      out.emplace(part);
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  if (params.has("Scopes") && out.empty()) {
    return Error::bad_request(codes::kInvalidParameter, "Scopes: name at least one scope");
  }
  if (!params.has("Scopes")) {
    out = {std::string(key_scope::kRest), std::string(key_scope::kPublish),
           std::string(key_scope::kSubscribe)};
  }
  return out;
}

Status apply_key_params(const http::Form& params, store::ApiKey& key) {
  if (auto name = params.get("FriendlyName")) {
    if (auto s = check_friendly_name(*name); !s) return s;
    key.friendly_name = std::string(*name);
  }
  if (params.has("Scopes") || key.scopes.empty()) {
    auto scopes = parse_scopes(params);
    if (!scopes) return scopes.error();
    key.scopes = std::move(*scopes);
  }
  return Ok{};
}

http::Response write_error(const Error& e, std::string_view path) {
  if (e.status == 404) return http::error_response(not_found_error(path));
  return store_error(e);
}

}  // namespace

asio::awaitable<http::Response> list_keys(Context& ctx, const Scope& scope,
                                          const http::Form& query) {
  auto page = parse_page_params(query);
  if (!page) co_return http::error_response(page.error());
  auto rows = ctx.store.list_api_keys({scope.account.sid}, page->request());
  if (!rows) co_return store_error(rows.error());
  co_return page_response("keys", *rows, key_json, scope.path, "", *page);
}

asio::awaitable<http::Response> create_key(Context& ctx, const Scope& scope,
                                           const http::Form& params) {
  store::ApiKey key;
  key.sid = make_sid(kApiKeySidPrefix);
  key.account_sid = scope.account.sid;
  if (auto s = apply_key_params(params, key); !s) co_return http::error_response(s.error());

  store::PageRequest all;
  all.limit = kMaxKeysPerAccount;
  auto existing = ctx.store.list_api_keys({scope.account.sid}, all);
  if (!existing) co_return store_error(existing.error());
  if (existing->items.size() >= kMaxKeysPerAccount) {
    co_return http::error_response(Error::bad_request(
        kTooManyKeys, "Maximum number of API keys (" + std::to_string(kMaxKeysPerAccount) +
                          ") reached; delete unused keys first"));
  }

  const std::string secret = make_key_secret();
  key.secret_hash = hash_key_secret(secret);
  key.date_created = key.date_updated = ctx.clock.now_unix();
  store::Mutation mutation = store::InsertApiKey{key};
  auto s = co_await commit(ctx.store, mutation);
  if (!s) co_return write_error(s.error(), scope.path);
  auto body = key_json(key);
  body["secret"] = secret;  // shown this once
  co_return http::json_response(201, body);
}

asio::awaitable<http::Response> fetch_key(Context& ctx, const Scope& scope, std::string_view sid) {
  auto found = ctx.store.find_api_key(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  co_return http::json_response(200, key_json(**found));
}

asio::awaitable<http::Response> update_key(Context& ctx, const Scope& scope, std::string_view sid,
                                           const http::Form& params) {
  auto found = ctx.store.find_api_key(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  store::ApiKey key = std::move(**found);
  if (auto s = apply_key_params(params, key); !s) co_return http::error_response(s.error());
  key.date_updated = ctx.clock.now_unix();
  store::Mutation mutation = store::UpdateApiKey{key};
  auto s = co_await commit(ctx.store, mutation);
  if (!s) co_return write_error(s.error(), scope.path);
  co_return http::json_response(200, key_json(key));
}

asio::awaitable<http::Response> delete_key(Context& ctx, const Scope& scope, std::string_view sid) {
  store::Mutation mutation = store::DeleteApiKey{scope.account.sid, std::string(sid)};
  auto s = co_await commit(ctx.store, mutation);
  if (!s) co_return write_error(s.error(), scope.path);
  http::Response res{boost::beast::http::status::no_content, 11};
  co_return res;
}

}  // namespace sb::api
