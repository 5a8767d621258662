// OutgoingCallerIds.json and OutgoingCallerIds/{Sid}.json: numbers an account may place calls
// from besides its IncomingPhoneNumbers (Calls.json From). A POST to OutgoingCallerIds.json is
// Twilio's validation request (the helper libraries' validationRequests.create): Twilio calls the
// number and waits for the code; Switchboard's operator owns the numbers it routes, so the caller
// ID is added at once and the response keeps Twilio's shape (with a validation code, and no
// call).
#include "api/auth.hpp"
#include "api/json.hpp"
#include "api/pagination.hpp"
#include "api/resources.hpp"
#include "api/validation.hpp"
#include "core/random.hpp"
#include "core/sid.hpp"
#include "core/time.hpp"

namespace sb::api {
namespace {

constexpr int kAlreadyValidated = 21450;

boost::json::object caller_id_json(const store::CallerId& c) {
  boost::json::object o;
  o["sid"] = c.sid;
  o["account_sid"] = c.account_sid;
  o["friendly_name"] = c.friendly_name;
  o["phone_number"] = c.phone_number;
  o["date_created"] = rfc2822(c.date_created);
  o["date_updated"] = rfc2822(c.date_updated);
  o["uri"] = account_child_path(c.account_sid, "OutgoingCallerIds/" + c.sid) + ".json";
  return o;
}

// A new caller ID from PhoneNumber (E.164) and FriendlyName; written when valid.
asio::awaitable<Result<store::CallerId>> add_caller_id(Context& ctx, const Scope& scope,
                                                       const http::Form& params) {
  const auto phone = params.get("PhoneNumber");
  const bool e164 = phone && phone->size() > 1 && phone->front() == '+' &&
                    is_valid_phone_number(*phone) &&
                    phone->find_first_not_of("0123456789", 1) == std::string_view::npos;
  if (!e164) {
    co_return Error::bad_request(codes::kInvalidPhoneNumber,
                                 phone ? "PhoneNumber '" + std::string(phone->substr(0, 40)) +
                                             "' is not E.164 (+14155550100)"
                                       : std::string("A PhoneNumber is required"));
  }
  store::CallerId c;
  c.sid = make_sid(sid_prefix::kIncomingNumber);  // Twilio's caller IDs are PN… too
  c.account_sid = scope.account.sid;
  c.phone_number = std::string(*phone);
  c.friendly_name = std::string(params.get("FriendlyName").value_or(*phone));
  if (auto s = check_friendly_name(c.friendly_name); !s) co_return s.error();
  c.date_created = c.date_updated = ctx.clock.now_unix();
  store::Mutation insert = store::InsertCallerId{c};
  if (auto s = co_await commit(ctx.store, insert); !s) {
    if (s.error().status == store::kConflict) {
      co_return Error::bad_request(
          kAlreadyValidated,
          "Phone number " + c.phone_number + " is already a verified caller ID of this account");
    }
    co_return s.error();
  }
  co_return c;
}

http::Response write_error(const Error& e) {
  if (e.status == 400) return http::error_response(e);
  return store_error(e);
}

}  // namespace

asio::awaitable<http::Response> list_caller_ids(Context& ctx, const Scope& scope,
                                                const http::Form& query) {
  auto page = parse_page_params(query);
  if (!page) co_return http::error_response(page.error());
  store::CallerIdFilter filter;
  filter.account_sid = scope.account.sid;
  filter.phone_number = std::string(query.get("PhoneNumber").value_or(""));
  filter.friendly_name = std::string(query.get("FriendlyName").value_or(""));
  auto rows = ctx.store.list_caller_ids(filter, page->request());
  if (!rows) co_return store_error(rows.error());
  co_return page_response("outgoing_caller_ids", *rows, caller_id_json, scope.path,
                          encode_filters(query, {"PhoneNumber", "FriendlyName"}), *page);
}

asio::awaitable<http::Response> create_validation_request(Context& ctx, const Scope& scope,
                                                          const http::Form& params) {
  auto added = co_await add_caller_id(ctx, scope, params);
  if (!added) co_return write_error(added.error());
  boost::json::object o;
  o["account_sid"] = added->account_sid;
  o["call_sid"] = nullptr;  // no verification call is placed
  o["friendly_name"] = added->friendly_name;
  o["phone_number"] = added->phone_number;
  o["validation_code"] = std::to_string(100000 + std::stoul(random_hex(4), nullptr, 16) % 900000);
  co_return http::json_response(201, std::move(o));
}

asio::awaitable<http::Response> fetch_caller_id(Context& ctx, const Scope& scope,
                                                std::string_view sid) {
  auto found = ctx.store.find_caller_id(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  co_return http::json_response(200, caller_id_json(**found));
}

asio::awaitable<http::Response> update_caller_id(Context& ctx, const Scope& scope,
                                                 std::string_view sid, const http::Form& params) {
  auto found = ctx.store.find_caller_id(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  store::CallerId c = std::move(**found);
  if (auto name = params.get("FriendlyName")) {
    if (auto s = check_friendly_name(*name); !s) co_return http::error_response(s.error());
    c.friendly_name = std::string(*name);
  }
  c.date_updated = ctx.clock.now_unix();
  store::Mutation update = store::UpdateCallerId{c};
  if (auto s = co_await commit(ctx.store, update); !s) {
    if (s.error().status == 404) co_return http::error_response(not_found_error(scope.path));
    co_return store_error(s.error());
  }
  co_return http::json_response(200, caller_id_json(c));
}

asio::awaitable<http::Response> delete_caller_id(Context& ctx, const Scope& scope,
                                                 std::string_view sid) {
  store::Mutation remove = store::DeleteCallerId{scope.account.sid, std::string(sid)};
  if (auto s = co_await commit(ctx.store, remove); !s) {
    if (s.error().status == 404) co_return http::error_response(not_found_error(scope.path));
    co_return store_error(s.error());
  }
  co_return http::Response{boost::beast::http::status::no_content, 11};
}

}  // namespace sb::api
