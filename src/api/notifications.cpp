// Notifications.json and Notifications/{Sid}.json: the debugger log of webhook and TwiML errors.
#include "api/auth.hpp"
#include "api/json.hpp"
#include "api/pagination.hpp"
#include "api/resources.hpp"
#include "core/time.hpp"

namespace sb::api {

boost::json::object notification_json(const store::Notification& n) {
  boost::json::object o;
  o["sid"] = n.sid;
  o["account_sid"] = n.account_sid;
  o["call_sid"] = n.call_sid.empty() ? boost::json::value(nullptr) : boost::json::value(n.call_sid);
  o["api_version"] = "2010-04-01";
  // Twilio writes these two as strings.
  o["log"] = std::to_string(n.log);
  o["error_code"] = std::to_string(n.error_code);
  o["more_info"] = more_info_url(n.error_code);
  o["message_text"] = n.message_text;
  o["message_date"] = rfc2822(n.date_created);
  o["request_method"] = n.request_method;
  o["request_url"] = n.request_url;
  o["request_variables"] = n.request_variables;
  o["response_body"] = n.response_body;
  o["response_headers"] = n.response_headers;
  o["date_created"] = rfc2822(n.date_created);
  o["date_updated"] = rfc2822(n.date_created);
  o["uri"] = account_child_path(n.account_sid, "Notifications/" + n.sid + ".json");
  return o;
}

asio::awaitable<http::Response> list_notifications(Context& ctx, const Scope& scope,
                                                   const http::Form& query,
                                                   std::string_view call_sid) {
  auto page = parse_page_params(query);
  if (!page) co_return http::error_response(page.error());
  store::NotificationFilter filter;
  filter.account_sid = scope.account.sid;
  if (auto log = query.get("Log"); log && !log->empty()) {
    if (*log != "0" && *log != "1") {
      co_return http::error_response(
          Error::bad_request(codes::kInvalidParameter, "Log must be 0 (error) or 1 (warning)"));
    }
    filter.log = *log == "1" ? 1 : 0;
  }
  if (auto call = query.get("CallSid")) filter.call_sid = std::string(*call);
  if (!call_sid.empty()) filter.call_sid = std::string(call_sid);  // Calls/{CallSid}/…
  auto rows = ctx.store.list_notifications(filter, page->request());
  if (!rows) co_return store_error(rows.error());

  co_return page_response("notifications", *rows, notification_json, scope.path,
                          encode_filters(query, {"Log", "CallSid"}), *page);
}

asio::awaitable<http::Response> fetch_notification(Context& ctx, const Scope& scope,
                                                   std::string_view sid,
                                                   std::string_view call_sid) {
  auto found = ctx.store.find_notification(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value() || (!call_sid.empty() && (*found)->call_sid != call_sid)) {
    co_return http::error_response(not_found_error(scope.path));
  }
  co_return http::json_response(200, notification_json(**found));
}

}  // namespace sb::api
