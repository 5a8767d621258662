// Calls.json and Calls/{Sid}.json: the call records the call router writes (list, fetch).
#include <ctime>

#include "api/auth.hpp"
#include "api/json.hpp"
#include "api/pagination.hpp"
#include "api/resources.hpp"
#include "api/validation.hpp"
#include "core/time.hpp"
#include "twiml/parser.hpp"

namespace sb::api {
namespace {

constexpr std::string_view kCallStatuses[] = {"queued", "ringing", "in-progress", "completed",
                                              "busy",   "failed",  "no-answer",   "canceled"};

boost::json::value date_or_null(std::int64_t t) {
  if (t == 0) return nullptr;
  return boost::json::value(rfc2822(t));
}

}  // namespace

std::optional<std::int64_t> parse_day(std::string_view text) {
  // YYYY-MM-DD, as Twilio's date filters take it, at 00:00:00 GMT.
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len) -> int {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return -1;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  const int y = num(0, 4), m = num(5, 2), d = num(8, 2);
  if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  const std::time_t t = timegm(&tm);
  std::tm check{};
  gmtime_r(&t, &check);
  if (check.tm_mday != d) return std::nullopt;  // 2026-02-30
  return static_cast<std::int64_t>(t);
}

boost::json::object call_json(const store::Call& c) {
  boost::json::object o;
  o["sid"] = c.sid;
  o["account_sid"] = c.account_sid;
  o["parent_call_sid"] = c.parent_call_sid.empty() ? boost::json::value(nullptr)
                                                   : boost::json::value(c.parent_call_sid);
  o["to"] = c.to;
  o["to_formatted"] = c.to;
  o["from"] = c.from;
  o["from_formatted"] = c.from;
  o["phone_number_sid"] = c.phone_number_sid.empty() ? boost::json::value(nullptr)
                                                     : boost::json::value(c.phone_number_sid);
  o["status"] = c.status;
  o["start_time"] = date_or_null(c.start_time);
  o["end_time"] = date_or_null(c.end_time);
  // Twilio writes the duration in seconds, as a string, once the call has ended.
  o["duration"] =
      c.end_time ? boost::json::value(std::to_string(c.duration)) : boost::json::value(nullptr);
  o["price"] = nullptr;
  o["price_unit"] = "USD";
  o["direction"] = c.direction;
  o["answered_by"] =
      c.answered_by.empty() ? boost::json::value(nullptr) : boost::json::value(c.answered_by);
  o["api_version"] = "2010-04-01";
  o["forwarded_from"] =
      c.forwarded_from.empty() ? boost::json::value(nullptr) : boost::json::value(c.forwarded_from);
  o["group_sid"] = nullptr;
  o["caller_name"] =
      c.caller_name.empty() ? boost::json::value(nullptr) : boost::json::value(c.caller_name);
  o["queue_time"] = "0";
  o["trunk_sid"] = nullptr;
  o["date_created"] = rfc2822(c.date_created);
  o["date_updated"] = rfc2822(c.date_updated);
  const std::string base = account_child_path(c.account_sid, "Calls/" + c.sid);
  o["uri"] = base + ".json";
  boost::json::object subs;
  subs["notifications"] = base + "/Notifications.json";
  subs["recordings"] = base + "/Recordings.json";
  o["subresource_uris"] = std::move(subs);
  return o;
}

asio::awaitable<http::Response> list_calls(Context& ctx, const Scope& scope,
                                           const http::Form& query) {
  auto page = parse_page_params(query);
  if (!page) co_return http::error_response(page.error());
  store::CallFilter filter;
  filter.account_sid = scope.account.sid;
  filter.to = std::string(query.get("To").value_or(""));
  filter.from = std::string(query.get("From").value_or(""));
  filter.parent_call_sid = std::string(query.get("ParentCallSid").value_or(""));
  if (auto status = query.get("Status"); status && !status->empty()) {
    bool known = false;
    for (auto s : kCallStatuses) known = known || s == *status;
    if (!known) {
      co_return http::error_response(Error::bad_request(
          codes::kInvalidParameter,
          "Status must be one of queued, ringing, in-progress, completed, busy, failed, "
          "no-answer, canceled"));
    }
    filter.status = std::string(*status);
  }
  struct DateFilter {
    const char* key;
    bool exact;
    bool after;
  };
  for (auto [key, exact, after] :
       {DateFilter{"StartTime", true, false}, DateFilter{"StartTime>", false, true},
        DateFilter{"StartTime<", false, false}}) {
    auto v = query.get(key);
    if (!v || v->empty()) continue;
    auto day = parse_day(*v);
    if (!day) {
      co_return http::error_response(Error::bad_request(
          codes::kInvalidParameter, std::string(key) + " must be a date as YYYY-MM-DD"));
    }
    if (exact) {
      filter.started_after = *day;
      filter.started_before = *day + 86400;
    } else if (after) {
      filter.started_after = *day;
    } else {
      filter.started_before = *day;
    }
  }
  auto rows = ctx.store.list_calls(filter, page->request());
  if (!rows) co_return store_error(rows.error());

  co_return page_response("calls", *rows, call_json, scope.path,
                          encode_filters(query, {"To", "From", "Status", "ParentCallSid",
                                                 "StartTime", "StartTime>", "StartTime<"}),
                          *page);
}

asio::awaitable<http::Response> fetch_call(Context& ctx, const Scope& scope, std::string_view sid) {
  auto found = ctx.store.find_call(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  co_return http::json_response(200, call_json(**found));
}

asio::awaitable<http::Response> update_call(Context& ctx, const Scope& scope, std::string_view sid,
                                            const http::Form& params) {
  constexpr int kInvalidCallState = 21220;
  auto found = ctx.store.find_call(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));

  voice::Modification m;
  if (auto url = params.get("Url"); url && !url->empty()) {
    if (!is_valid_webhook_url(*url)) {
      co_return http::error_response(Error::bad_request(21205, "Url is not a valid URL"));
    }
    m.url = std::string(*url);
  }
  if (auto method = params.get("Method"); method && !method->empty()) {
    auto normalized = normalize_method(*method);
    if (!normalized) {
      co_return http::error_response(Error::bad_request(21209, "Method must be GET or POST"));
    }
    m.method = *normalized;
  }
  if (auto twiml = params.get("Twiml"); twiml && !twiml->empty()) {
    auto doc = twiml::parse(*twiml);
    if (!doc.ok()) {
      for (const auto& d : doc.diagnostics) {
        if (d.level == twiml::Level::kError) {
          co_return http::error_response(
              Error::bad_request(d.code, "Twiml is not valid: " + d.message));
        }
      }
    }
    m.twiml = std::string(*twiml);
  }
  if (auto status = params.get("Status"); status && !status->empty()) {
    if (*status != "completed" && *status != "canceled") {
      co_return http::error_response(
          Error::bad_request(codes::kInvalidParameter, "Status must be completed or canceled"));
    }
    m.status = std::string(*status);
  }
  if (m.url.empty() && m.twiml.empty() && m.status.empty()) {
    co_return http::error_response(
        Error::bad_request(codes::kInvalidParameter, "Give Url, Twiml or Status to modify a call"));
  }
  const bool live = ctx.calls && ctx.calls->modify(scope.account.sid, std::string(sid), m);
  if (!live && m.status.empty()) {
    co_return http::error_response(
        Error::bad_request(kInvalidCallState, "Call is not in progress: it cannot be redirected"));
  }
  // An ended call stays as it is; a live one changes on its own worker right after.
  co_return http::json_response(200, call_json(**found));
}

}  // namespace sb::api
