// Calls/{CallSid}/Events.json: every HTTP exchange the daemon had with the call's application
// (the TwiML requests, fallbacks, actions and status callbacks), in Twilio's Call Events shape:
// `request` {url, method, parameters with snake_case keys} and `response` {date_created,
// request_duration, response_code, content_type, response_body}. Beyond Twilio's fields each
// event says its `type`, the `error_code`/`error_message` that ended it, and the response's
// `headers`; `response` is null when no answer came.
#include <cctype>

#include "api/auth.hpp"
#include "api/json.hpp"
#include "api/pagination.hpp"
#include "api/resources.hpp"
#include "core/time.hpp"

namespace sb::api {
namespace {

// "CallSid" -> "call_sid", "SipHeader_X-Foo" -> "sip_header_x-foo", as Twilio presents keys.
std::string snake_case(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 4);
  for (std::size_t i = 0; i < key.size(); ++i) {
    const auto c = static_cast<unsigned char>(key[i]);
    if (std::isupper(c)) {
      const auto prev = i > 0 ? static_cast<unsigned char>(key[i - 1]) : '\0';
      if (i > 0 && (std::islower(prev) || std::isdigit(prev))) out += '_';
      out += static_cast<char>(std::tolower(c));
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

boost::json::object header_object(std::string_view lines) {
  boost::json::object out;
  while (!lines.empty()) {
    const auto eol = lines.find('\n');
    std::string_view line = lines.substr(0, eol);
    lines = eol == std::string_view::npos ? std::string_view() : lines.substr(eol + 1);
    const auto colon = line.find(": ");
    if (colon == std::string_view::npos) continue;
    const std::string name(line.substr(0, colon));
    const std::string_view value = line.substr(colon + 2);
    if (auto* existing = out.if_contains(name)) {
      *existing = std::string(existing->as_string()) + ", " + std::string(value);
    } else {
      out[name] = value;
    }
  }
  return out;
}

}  // namespace

boost::json::object call_event_json(const store::CallEvent& e) {
  boost::json::object request;
  request["url"] = e.request_url;
  request["method"] = e.request_method;
  boost::json::object parameters;
  if (auto form = http::parse_form(e.request_variables)) {
    for (const auto& [k, v] : form->fields()) parameters[snake_case(k)] = v;
  }
  request["parameters"] = std::move(parameters);

  boost::json::object o;
  o["request"] = std::move(request);
  if (e.response_code == 0) {
    o["response"] = nullptr;
  } else {
    boost::json::object response;
    response["date_created"] = rfc2822(e.date_created_ms / 1000);
    response["request_duration"] = e.duration_ms;
    response["response_code"] = e.response_code;
    response["content_type"] = e.content_type;
    response["response_body"] = e.response_body;
    response["headers"] = header_object(e.response_headers);
    o["response"] = std::move(response);
  }
  o["type"] = e.type;
  o["date_created"] = rfc2822(e.date_created_ms / 1000);
  o["error_code"] = e.error_code;
  o["error_message"] = e.error_message;
  if (e.error_code != 0) o["more_info"] = more_info_url(e.error_code);
  return o;
}

asio::awaitable<http::Response> list_call_events(Context& ctx, const Scope& scope,
                                                 const http::Form& query,
                                                 std::string_view call_sid) {
  auto page = parse_page_params(query);
  if (!page) co_return http::error_response(page.error());
  auto call = ctx.store.find_call(scope.account.sid, call_sid);
  if (!call) co_return store_error(call.error());
  if (!call->has_value()) co_return http::error_response(not_found_error(scope.path));
  auto rows = ctx.store.list_call_events(scope.account.sid, call_sid, page->request());
  if (!rows) co_return store_error(rows.error());
  co_return page_response("events", *rows, call_event_json, scope.path, "", *page);
}

}  // namespace sb::api
