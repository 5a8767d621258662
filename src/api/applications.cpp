// Applications.json and Applications/{Sid}.json.
#include "api/auth.hpp"
#include "api/json.hpp"
#include "api/pagination.hpp"
#include "api/resources.hpp"
#include "api/validation.hpp"
#include "core/sid.hpp"

namespace sb::api {
namespace {

Status apply_application_params(const http::Form& params, store::Application& app) {
  if (auto name = params.get("FriendlyName")) {
    if (auto s = check_friendly_name(*name); !s) return s;
    app.friendly_name = std::string(*name);
  }
  if (auto url = params.get("SmsStatusCallback")) {
    if (!url->empty() && !is_valid_webhook_url(*url)) {
      return Error::bad_request(codes::kInvalidCallbackUrl, "SmsStatusCallback is not a valid URL");
    }
    app.sms_status_callback = std::string(*url);
  }
  return apply_webhook_settings(params, app.hooks);
}

http::Response write_error(const Error& e, std::string_view path) {
  if (e.status == 404) return http::error_response(not_found_error(path));
  return store_error(e);
}

}  // namespace

asio::awaitable<http::Response> list_applications(Context& ctx, const Scope& scope,
                                                  const http::Form& query) {
  auto page = parse_page_params(query);
  if (!page) co_return http::error_response(page.error());
  store::ApplicationFilter filter;
  filter.account_sid = scope.account.sid;
  filter.friendly_name = std::string(query.get("FriendlyName").value_or(""));
  auto rows = ctx.store.list_applications(filter, page->request());
  if (!rows) co_return store_error(rows.error());

  co_return page_response("applications", *rows, application_json, scope.path,
                          encode_filters(query, {"FriendlyName"}), *page);
}

asio::awaitable<http::Response> create_application(Context& ctx, const Scope& scope,
                                                   const http::Form& params) {
  store::Application app;
  app.sid = make_sid(sid_prefix::kApplication);
  app.account_sid = scope.account.sid;
  if (auto s = apply_application_params(params, app); !s) {
    co_return http::error_response(s.error());
  }
  app.date_created = app.date_updated = ctx.clock.now_unix();
  store::Mutation mutation = store::InsertApplication{app};
  auto s = co_await commit(ctx.store, mutation);
  if (!s) co_return write_error(s.error(), scope.path);
  co_return http::json_response(201, application_json(app));
}

asio::awaitable<http::Response> fetch_application(Context& ctx, const Scope& scope,
                                                  std::string_view sid) {
  auto found = ctx.store.find_application(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  co_return http::json_response(200, application_json(**found));
}

asio::awaitable<http::Response> update_application(Context& ctx, const Scope& scope,
                                                   std::string_view sid, const http::Form& params) {
  auto found = ctx.store.find_application(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  store::Application app = std::move(**found);
  if (auto s = apply_application_params(params, app); !s) {
    co_return http::error_response(s.error());
  }
  app.date_updated = ctx.clock.now_unix();
  store::Mutation mutation = store::UpdateApplication{app};
  auto s = co_await commit(ctx.store, mutation);
  if (!s) co_return write_error(s.error(), scope.path);
  co_return http::json_response(200, application_json(app));
}

asio::awaitable<http::Response> delete_application(Context& ctx, const Scope& scope,
                                                   std::string_view sid) {
  store::Mutation mutation = store::DeleteApplication{scope.account.sid, std::string(sid)};
  auto s = co_await commit(ctx.store, mutation);
  if (!s) co_return write_error(s.error(), scope.path);
  http::Response res{boost::beast::http::status::no_content, 11};
  co_return res;
}

}  // namespace sb::api
