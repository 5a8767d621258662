// IncomingPhoneNumbers.json and IncomingPhoneNumbers/{Sid}.json.
#include "api/auth.hpp"
#include "api/json.hpp"
#include "api/pagination.hpp"
#include "api/resources.hpp"
#include "api/validation.hpp"
#include "core/sid.hpp"

namespace sb::api {
namespace {

// VoiceApplicationSid / SmsApplicationSid: empty clears; otherwise an application of the same
// account (21420 when it is not).
Status apply_application_sids(Context& ctx, const Scope& scope, const http::Form& params,
                              store::IncomingNumber& number) {
  for (auto [param, member] :
       {std::pair{"VoiceApplicationSid", &store::IncomingNumber::voice_application_sid},
        std::pair{"SmsApplicationSid", &store::IncomingNumber::sms_application_sid}}) {
    auto value = params.get(param);
    if (!value) continue;
    if (!value->empty()) {
      bool found = false;
      if (is_sid(*value, sid_prefix::kApplication)) {
        auto app = ctx.store.find_application(scope.account.sid, *value);
        if (!app) return app.error();
        found = app->has_value();
      }
      if (!found) {
        return Error::bad_request(21420, std::string(param) + " " +
                                             std::string(value->substr(0, 40)) +
                                             " is not an application of this account");
      }
    }
    number.*member = std::string(*value);
  }
  return Ok{};
}

Status apply_number_params(Context& ctx, const Scope& scope, const http::Form& params,
                           store::IncomingNumber& number) {
  if (auto name = params.get("FriendlyName")) {
    if (auto s = check_friendly_name(*name); !s) return s;
    number.friendly_name = std::string(*name);
  }
  if (auto s = apply_webhook_settings(params, number.hooks); !s) return s;
  return apply_application_sids(ctx, scope, params, number);
}

http::Response write_error(const Error& e, std::string_view path, std::string_view phone) {
  if (e.status == 404) return http::error_response(not_found_error(path));
  if (e.status == store::kConflict) {
    return http::error_response(Error::bad_request(
        codes::kPhoneNumberTaken,
        "The phone number " + std::string(phone) + " is already in use on this installation"));
  }
  return store_error(e);
}

}  // namespace

asio::awaitable<http::Response> list_numbers(Context& ctx, const Scope& scope,
                                             const http::Form& query) {
  auto page = parse_page_params(query);
  if (!page) co_return http::error_response(page.error());
  store::NumberFilter filter;
  filter.account_sid = scope.account.sid;
  filter.phone_number = std::string(query.get("PhoneNumber").value_or(""));
  filter.friendly_name = std::string(query.get("FriendlyName").value_or(""));
  auto rows = ctx.store.list_numbers(filter, page->request());
  if (!rows) co_return store_error(rows.error());

  co_return page_response("incoming_phone_numbers", *rows, number_json, scope.path,
                          encode_filters(query, {"PhoneNumber", "FriendlyName"}), *page);
}

asio::awaitable<http::Response> create_number(Context& ctx, const Scope& scope,
                                              const http::Form& params) {
  store::IncomingNumber number;
  number.sid = make_sid(sid_prefix::kIncomingNumber);
  number.account_sid = scope.account.sid;
  const auto phone = params.get("PhoneNumber");
  if (!phone || !is_valid_phone_number(*phone)) {
    co_return http::error_response(Error::bad_request(
        codes::kInvalidPhoneNumber,
        phone ? "PhoneNumber '" + std::string(phone->substr(0, 70)) +
                    "' is not E.164 (+14155550100) or a SIP user part (letters, digits, . - _ ~)"
              : std::string("A PhoneNumber is required")));
  }
  number.phone_number = std::string(*phone);
  if (auto s = apply_number_params(ctx, scope, params, number); !s) {
    co_return http::error_response(s.error());
  }
  number.date_created = number.date_updated = ctx.clock.now_unix();
  store::Mutation mutation = store::InsertNumber{number};
  auto s = co_await commit(ctx.store, mutation);
  if (!s) co_return write_error(s.error(), scope.path, number.phone_number);
  co_return http::json_response(201, number_json(number));
}

asio::awaitable<http::Response> fetch_number(Context& ctx, const Scope& scope,
                                             std::string_view sid) {
  auto found = ctx.store.find_number(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  co_return http::json_response(200, number_json(**found));
}

asio::awaitable<http::Response> update_number(Context& ctx, const Scope& scope,
                                              std::string_view sid, const http::Form& params) {
  auto found = ctx.store.find_number(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  store::IncomingNumber number = std::move(**found);
  if (auto s = apply_number_params(ctx, scope, params, number); !s) {
    co_return http::error_response(s.error());
  }
  number.date_updated = ctx.clock.now_unix();
  store::Mutation mutation = store::UpdateNumber{number};
  auto s = co_await commit(ctx.store, mutation);
  if (!s) co_return write_error(s.error(), scope.path, number.phone_number);
  co_return http::json_response(200, number_json(number));
}

asio::awaitable<http::Response> delete_number(Context& ctx, const Scope& scope,
                                              std::string_view sid) {
  store::Mutation mutation = store::DeleteNumber{scope.account.sid, std::string(sid)};
  auto s = co_await commit(ctx.store, mutation);
  if (!s) co_return write_error(s.error(), scope.path, "");
  http::Response res{boost::beast::http::status::no_content, 11};
  co_return res;
}

}  // namespace sb::api
