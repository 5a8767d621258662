// Accounts.json and Accounts/{AccountSid}.json: subaccounts, FriendlyName and Status.
#include "api/json.hpp"
#include "api/pagination.hpp"
#include "api/resources.hpp"
#include "api/validation.hpp"
#include "core/random.hpp"
#include "core/sid.hpp"

namespace sb::api {

std::string encode_filters(const http::Form& query, std::initializer_list<const char*> keys) {
  std::string out;
  for (const char* key : keys) {
    if (auto v = query.get(key); v && !v->empty()) {
      out += http::form_encode(key);  // "StartTime<" -> "StartTime%3C"
      out += '=';
      out += http::form_encode(*v);
      out += '&';
    }
  }
  return out;
}

asio::awaitable<http::Response> list_accounts(Context& ctx, const store::Account& caller,
                                              const http::Form& query) {
  auto page = parse_page_params(query);
  if (!page) co_return http::error_response(page.error());
  store::AccountFilter filter;
  filter.visible_to = caller.sid;
  filter.friendly_name = std::string(query.get("FriendlyName").value_or(""));
  filter.status = std::string(query.get("Status").value_or(""));
  auto rows = ctx.store.list_accounts(filter, page->request());
  if (!rows) co_return store_error(rows.error());

  co_return page_response("accounts", *rows, account_json, std::string(kApiBase) + "/Accounts.json",
                          encode_filters(query, {"FriendlyName", "Status"}), *page);
}

asio::awaitable<http::Response> create_account(Context& ctx, const store::Account& caller,
                                               const http::Form& params) {
  if (!caller.is_main()) {
    co_return http::error_response(
        {codes::kAuthenticationFailed, 403, "A subaccount cannot create subaccounts"});
  }
  store::Account account;
  account.sid = make_sid(sid_prefix::kAccount);
  account.owner_sid = caller.sid;
  account.auth_token = random_hex(16);
  account.date_created = account.date_updated = ctx.clock.now_unix();
  if (auto name = params.get("FriendlyName"); name && !name->empty()) {
    if (auto s = check_friendly_name(*name); !s) co_return http::error_response(s.error());
    account.friendly_name = std::string(*name);
  } else {
    account.friendly_name = "SubAccount Created at " + rfc2822(account.date_created);
  }
  store::Mutation mutation = store::InsertAccount{account};
  auto s = co_await commit(ctx.store, mutation);
  if (!s) co_return store_error(s.error());
  co_return http::json_response(201, account_json(account));
}

asio::awaitable<http::Response> update_account(Context& ctx, const Scope& scope,
                                               const http::Form& params) {
  store::Account account = scope.account;
  if (auto name = params.get("FriendlyName")) {
    if (auto s = check_friendly_name(*name); !s) co_return http::error_response(s.error());
    account.friendly_name = std::string(*name);
  }
  if (auto status = params.get("Status"); status && *status != account.status) {
    if (*status != "active" && *status != "suspended" && *status != "closed") {
      co_return http::error_response(Error::bad_request(
          codes::kInvalidParameter, "Status must be one of active, suspended, closed"));
    }
    if (account.is_main()) {
      co_return http::error_response(Error::bad_request(
          codes::kInvalidParameter, "The status of a main account cannot be changed"));
    }
    if (scope.caller.sid != account.owner_sid) {
      co_return http::error_response({codes::kAuthenticationFailed, 403,
                                      "Only the parent account can change a subaccount's status"});
    }
    if (account.status == "closed") {
      co_return http::error_response(
          Error::bad_request(codes::kInvalidParameter, "A closed account cannot be reopened"));
    }
    account.status = std::string(*status);
  }
  account.date_updated = ctx.clock.now_unix();
  store::Mutation mutation = store::UpdateAccount{account};
  auto s = co_await commit(ctx.store, mutation);
  if (!s) co_return store_error(s.error());
  co_return http::json_response(200, account_json(account));
}

}  // namespace sb::api
