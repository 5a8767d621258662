// Calls.json and Calls/{Sid}.json: the call records the call router writes (list, fetch), outbound
// calls (create, with the checks Participants.json shares) and live call modification.
#include <ctime>
#include <set>
#include <tuple>

#include "api/auth.hpp"
#include "api/json.hpp"
#include "api/pagination.hpp"
#include "api/resources.hpp"
#include "api/validation.hpp"
#include "core/sid.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "twiml/parser.hpp"
#include "voice/routing.hpp"

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
  o["queue_time"] = std::to_string(c.queue_time_ms);
  o["trunk_sid"] = nullptr;
  // Extension: whether audio flowed, written when the call ends (helper libraries ignore it).
  boost::json::object media;
  media["packets_received"] = c.media.packets_received;
  media["packets_sent"] = c.media.packets_sent;
  media["bytes_received"] = c.media.bytes_received;
  media["bytes_sent"] = c.media.bytes_sent;
  media["packets_lost"] = c.media.packets_lost;
  media["packets_late"] = c.media.packets_late;
  o["media"] = std::move(media);
  // Extension: the SIP signalling in brief (peer, Call-ID, codec, who hung up, the messages),
  // written when the call ends; null before that and for calls without SIP.
  o["sip"] = nullptr;
  if (!c.sip_summary.empty()) {
    boost::system::error_code ec;
    auto sip = boost::json::parse(c.sip_summary, ec);
    if (!ec) o["sip"] = std::move(sip);
  }
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

  // Filtered by start time, the log is in start-time order and its tokens carry the time.
  const bool by_time = filter.started_after != 0 || filter.started_before != 0;
  co_return page_response("calls", *rows, call_json, scope.path,
                          encode_filters(query, {"To", "From", "Status", "ParentCallSid",
                                                 "StartTime", "StartTime>", "StartTime<"}),
                          *page,
                          by_time ? +[](const store::Call& c) { return c.start_time; } : nullptr);
}

namespace {

Error call_error(int code, std::string message) {
  return Error::bad_request(code, std::move(message));
}

// StatusCallbackEvent: repeated, or space/comma separated in one value (as the helper
// libraries send a list).
Result<std::set<std::string>> status_callback_events(const http::Form& params) {
  std::set<std::string> events;
  for (std::string_view value : params.get_all("StatusCallbackEvent")) {
    while (!value.empty()) {
      const auto cut = value.find_first_of(" ,");
      const std::string_view item = value.substr(0, cut);
      if (!item.empty()) {
        if (item != "initiated" && item != "ringing" && item != "answered" && item != "completed") {
          return call_error(codes::kInvalidParameter,
                            "StatusCallbackEvent must be initiated, ringing, answered or "
                            "completed, not " +
                                std::string(item));
        }
        events.emplace(item);
      }
      value = cut == std::string_view::npos ? std::string_view{} : value.substr(cut + 1);
    }
  }
  if (events.empty()) events.emplace("completed");  // Twilio's default
  return events;
}

Result<int> bounded_int(const http::Form& params, std::string_view key, int fallback, int min,
                        int max, int code) {
  auto v = params.get(key);
  if (!v || v->empty()) return fallback;
  int n = 0;
  for (char c : *v) {
    if (c < '0' || c > '9' || n > 100000000) {
      return call_error(code, std::string(key) + " must be a whole number");
    }
    n = n * 10 + (c - '0');
  }
  if (n < min || n > max) {
    return call_error(code, std::string(key) + " must be between " + std::to_string(min) + " and " +
                                std::to_string(max));
  }
  return n;
}

// A parameter with two values (`on` or `off`, compared without case): nullopt when absent,
// whether it is `on` otherwise; any other value is refused with both named.
Result<std::optional<bool>> either(const http::Form& params, std::string_view key,
                                   std::string_view on, std::string_view off) {
  auto v = params.get(key);
  if (!v || v->empty()) return std::optional<bool>{};
  if (iequals(*v, on)) return std::optional<bool>{true};
  if (iequals(*v, off)) return std::optional<bool>{false};
  return call_error(codes::kInvalidParameter,
                    std::string(key) + " must be " + std::string(on) + " or " + std::string(off));
}

// MachineDetection and its settings, in Twilio's ranges.
Result<voice::MachineDetectionPlan> machine_detection(const http::Form& params) {
  voice::MachineDetectionPlan plan;
  auto mode = params.get("MachineDetection");
  if (!mode || mode->empty()) return plan;
  if (iequals(*mode, "DetectMessageEnd")) {
    plan.options.detect_message_end = true;
  } else if (!iequals(*mode, "Enable")) {
    return call_error(
        codes::kInvalidParameter,
        "MachineDetection must be Enable or DetectMessageEnd, not " + std::string(*mode));
  }
  plan.enabled = true;
  struct Bound {
    const char* key;
    int fallback, min, max, scale;
    std::uint32_t* out;
  };
  auto& o = plan.options;
  for (const Bound& b :
       {Bound{"MachineDetectionTimeout", 30, 3, 60, 1000, &o.timeout_ms},
        Bound{"MachineDetectionSpeechThreshold", 2400, 1000, 6000, 1, &o.speech_threshold_ms},
        Bound{"MachineDetectionSpeechEndThreshold", 1200, 500, 5000, 1, &o.speech_end_threshold_ms},
        Bound{"MachineDetectionSilenceTimeout", 5000, 2000, 10000, 1, &o.silence_timeout_ms}}) {
    auto v = bounded_int(params, b.key, b.fallback, b.min, b.max, codes::kInvalidParameter);
    if (!v) return v.error();
    *b.out = static_cast<std::uint32_t>(*v * b.scale);
  }
  auto async = either(params, "AsyncAmd", "true", "false");
  if (!async) return async.error();
  plan.async = async->value_or(false);
  if (auto v = params.get("AsyncAmdStatusCallback"); v && !v->empty()) {
    if (!is_valid_webhook_url(*v)) {
      return call_error(21205, "AsyncAmdStatusCallback is not a valid URL: " + std::string(*v));
    }
    plan.callback = std::string(*v);
  }
  if (auto v = params.get("AsyncAmdStatusCallbackMethod"); v && !v->empty()) {
    auto m = normalize_method(*v);
    if (!m) return call_error(21209, "AsyncAmdStatusCallbackMethod must be GET or POST");
    plan.callback_method = *m;
  }
  return plan;
}

}  // namespace

std::optional<http::Response> check_call_parties(Context& ctx, const Scope& scope,
                                                 const http::Form& params,
                                                 voice::OutboundRequest& request) {
  const std::string to(trim(params.get("To").value_or("")));
  const std::string from(trim(params.get("From").value_or("")));
  if (to.empty()) return http::error_response(call_error(21201, "No 'To' number is specified"));
  if (from.empty()) {
    return http::error_response(call_error(21213, "No 'From' number is specified"));
  }
  const bool to_number = voice::is_phone_number(to);
  const bool to_sip = to.size() > 4 && iequals(std::string_view(to).substr(0, 4), "sip:");
  const bool to_client = to.starts_with("client:") && to.size() > 7;
  if (!to_number && !to_sip && !to_client) {
    return http::error_response(call_error(
        21211,
        "The 'To' number " + to + " is not a valid phone number, SIP URI or client identity"));
  }
  // From: one of the account's numbers; any caller name towards a SIP URI or a client.
  if (voice::is_phone_number(from)) {
    auto owned = ctx.store.find_number_by_phone(from);
    if (!owned) return store_error(owned.error());
    const bool own_number = owned->has_value() && (*owned)->account_sid == scope.account.sid;
    bool verified = false;
    if (!own_number) {
      auto caller_id = ctx.store.find_caller_id_by_phone(scope.account.sid, from);
      if (!caller_id) return store_error(caller_id.error());
      verified = caller_id->has_value();
    }
    if (!own_number && !verified) {
      return http::error_response(call_error(
          21210, "The source phone number provided, " + from +
                     ", is not yet verified for your account. You may only make calls from "
                     "phone numbers that you've verified or purchased from Twilio."));
    }
    if (own_number) request.phone_number_sid = (*owned)->sid;
  } else if (to_number) {
    return http::error_response(call_error(
        21212, "The 'From' number " + from +
                   " is not a valid phone number, shortcode, or alphanumeric sender ID."));
  } else if (!voice::caller_user(from)) {
    return http::error_response(call_error(
        21212, "The 'From' " + from.substr(0, 80) +
                   " is not a valid caller ID: a number, client:NAME, a sip: URI or a name of "
                   "1-64 letters, digits and - _ . ! ~ * ' ( ) +"));
  }
  request.info.to = to;
  request.info.from = from;
  return std::nullopt;
}

Status apply_call_webhooks(const http::Form& params, voice::VoiceApplication& app, bool document) {
  struct MethodParam {
    const char* key;
    std::string* out;
    bool document;  // a setting of the call's document (Url), not of its status callback
  };
  for (auto [key, out, of_document] :
       {MethodParam{"Method", &app.method, true},
        MethodParam{"FallbackMethod", &app.fallback_method, true},
        MethodParam{"StatusCallbackMethod", &app.status_callback_method, false}}) {
    if (of_document && !document) continue;
    auto m = params.get(key);
    if (!m || m->empty()) continue;
    auto normalized = normalize_method(*m);
    if (!normalized) return call_error(21209, std::string(key) + " must be GET or POST");
    *out = *normalized;
  }
  struct UrlParam {
    const char* key;
    std::string* out;
    bool document;
  };
  for (auto [key, out, of_document] : {UrlParam{"FallbackUrl", &app.fallback_url, true},
                                       UrlParam{"StatusCallback", &app.status_callback, false}}) {
    if (of_document && !document) continue;
    auto u = params.get(key);
    if (!u || u->empty()) continue;
    if (!is_valid_webhook_url(*u)) {
      return call_error(21205, std::string(key) + " is not a valid URL: " + std::string(*u));
    }
    *out = std::string(*u);
  }
  auto events = status_callback_events(params);
  if (!events) return events.error();
  app.status_callback_events = std::move(*events);
  return Ok{};
}

Status apply_call_settings(const http::Form& params, int min_timeout,
                           voice::OutboundRequest& request) {
  auto timeout = bounded_int(params, "Timeout", 60, min_timeout, 600, 21208);
  if (!timeout) return timeout.error();
  auto time_limit = bounded_int(params, "TimeLimit", 14400, 1, 86400, codes::kInvalidParameter);
  if (!time_limit) return time_limit.error();
  const std::string digits(params.get("SendDigits").value_or(""));
  if (digits.size() > 32 ||
      digits.find_first_not_of("0123456789ABCDabcd#*wW") != std::string::npos) {
    return call_error(codes::kInvalidParameter, "SendDigits must be at most 32 of 0-9 A-D # * w W");
  }
  const std::string sip_user(params.get("SipAuthUsername").value_or(""));
  const std::string sip_password(params.get("SipAuthPassword").value_or(""));
  if (sip_user.empty() != sip_password.empty()) {
    return call_error(codes::kInvalidParameter, "SipAuthUsername and SipAuthPassword go together");
  }
  if (!sip_user.empty()) request.sip_auth = sip::Credentials{sip_user, sip_password};
  auto amd = machine_detection(params);
  if (!amd) return amd.error();
  // As Twilio: SendDigits wins (the far end is a system that takes digits, not a person).
  if (!digits.empty()) amd->enabled = false;

  // Record (+ RecordingChannels, RecordingStatusCallback*, Trim): the whole call, once answered.
  voice::CallRecordingPlan recording;
  // Record=true|false, RecordingChannels=mono|dual, Trim=trim-silence|do-not-trim.
  for (auto [key, on, off, out] :
       {std::tuple{"Record", "true", "false", &recording.enabled},
        std::tuple{"RecordingChannels", "dual", "mono", &recording.dual},
        std::tuple{"Trim", "trim-silence", "do-not-trim", &recording.trim}}) {
    auto v = either(params, key, on, off);
    if (!v) return v.error();
    if (*v) *out = **v;
  }
  if (auto v = params.get("RecordingStatusCallback"); v && !v->empty()) {
    if (!is_valid_webhook_url(*v)) {
      return call_error(21205, "RecordingStatusCallback is not a valid URL: " + std::string(*v));
    }
    recording.callback = std::string(*v);
  }
  if (auto v = params.get("RecordingStatusCallbackMethod"); v && !v->empty()) {
    auto m = normalize_method(*v);
    if (!m) return call_error(21209, "RecordingStatusCallbackMethod must be GET or POST");
    recording.callback_method = *m;
  }
  if (params.has("RecordingStatusCallbackEvent")) {
    recording.callback_events.clear();
    for (std::string_view list : params.get_all("RecordingStatusCallbackEvent")) {
      // Repeated, or space-separated in one value (both are seen in the wild).
      while (!list.empty()) {
        const auto sp = list.find(' ');
        const std::string_view e = list.substr(0, sp);
        if (!e.empty()) {
          if (e != "in-progress" && e != "completed" && e != "absent") {
            return call_error(
                codes::kInvalidParameter,
                "RecordingStatusCallbackEvent must be in-progress, completed or absent");
          }
          recording.callback_events.emplace_back(e);
        }
        list = sp == std::string_view::npos ? std::string_view{} : list.substr(sp + 1);
      }
    }
  }
  request.timeout_s = *timeout;
  request.time_limit_s = *time_limit;
  request.send_digits = digits;
  request.recording = std::move(recording);
  request.machine_detection = std::move(*amd);
  return Ok{};
}

Result<store::Call> queued_call_record(Context& ctx, const Scope& scope,
                                       const voice::OutboundRequest& request) {
  if (ctx.dialer->at_call_limit(scope.account.sid)) {
    return Error{codes::kTooManyRequests, 429,
                 "Too many live calls for this account: it has as many as "
                 "calls.max_active_per_account allows; try again when some have ended"};
  }
  if (ctx.dialer->queue_full(scope.account.sid)) {
    return Error{
        codes::kTooManyRequests, 429,
        "Too many calls queued for this account: wait for some to be dialled (calls leave at the "
        "account's calls per second) or raise calls.max_queued_per_account"};
  }
  store::Call record;
  record.sid = make_sid(sid_prefix::kCall);
  record.account_sid = scope.account.sid;
  record.phone_number_sid = request.phone_number_sid;
  record.to = request.info.to;
  record.from = request.info.from;
  record.status = "queued";
  record.direction = "outbound-api";
  record.date_created = ctx.clock.now_unix();
  record.date_updated = record.date_created;
  return record;
}

void dial_queued_call(Context& ctx, const Scope& scope, const store::Call& record,
                      voice::OutboundRequest request) {
  request.account = scope.account;
  request.info.account_sid = scope.account.sid;
  request.info.call_sid = record.sid;
  request.info.from = record.from;
  request.info.to = record.to;
  request.info.status = "queued";
  request.info.direction = "outbound-api";
  request.queued_at_ms = ctx.clock.now_ms();
  ctx.dialer->place(std::move(request));
}

asio::awaitable<http::Response> create_call(Context& ctx, const Scope& scope,
                                            const http::Form& params) {
  if (!ctx.dialer) {
    co_return http::error_response(
        Error{codes::kInternal, 503, "Outbound calls are not available: SIP is not running"});
  }
  voice::OutboundRequest request;
  if (auto refused = check_call_parties(ctx, scope, params, request)) co_return std::move(*refused);

  // What runs when it answers: Url, Twiml or ApplicationSid (exactly one; Url wins over Twiml).
  const auto url = params.get("Url");
  const auto twiml_text = params.get("Twiml");
  const auto app_sid = params.get("ApplicationSid");
  const bool has_url = url && !url->empty();
  const bool has_twiml = twiml_text && !twiml_text->empty();
  const bool has_app = app_sid && !app_sid->empty();
  if (!has_url && !has_twiml && !has_app) {
    co_return http::error_response(
        call_error(21200, "Url, Twiml or ApplicationSid is required to create a call"));
  }
  if (has_app && (has_url || has_twiml)) {
    co_return http::error_response(call_error(
        codes::kInvalidParameter, "Give one of Url, Twiml and ApplicationSid, not several"));
  }
  voice::VoiceApplication& app = request.application;
  if (has_app) {
    auto found = ctx.store.find_application(scope.account.sid, *app_sid);
    if (!found) co_return store_error(found.error());
    if (!found->has_value()) {
      co_return http::error_response(call_error(
          21218, "ApplicationSid " + std::string(*app_sid) + " is not one of this account's"));
    }
    app = voice::application_from((*found)->hooks);
    if (!is_valid_webhook_url(app.url)) {
      co_return http::error_response(
          call_error(21205, "The application " + std::string(*app_sid) + " has no valid VoiceUrl"));
    }
    request.application_sid = std::string(*app_sid);
  } else {
    if (has_url) {
      if (!is_valid_webhook_url(*url)) {
        co_return http::error_response(
            call_error(21205, "Url is not a valid URL: " + std::string(*url)));
      }
      app.url = std::string(*url);
    } else {
      if (twiml_text->size() > 4000) {
        co_return http::error_response(
            call_error(codes::kInvalidParameter, "Twiml must be at most 4000 characters"));
      }
      auto doc = twiml::parse(*twiml_text);
      for (const auto& d : doc.diagnostics) {
        if (d.level == twiml::Level::kError) {
          co_return http::error_response(call_error(d.code, "Twiml is not valid: " + d.message));
        }
      }
      request.twiml = std::string(*twiml_text);
    }
    if (auto s = apply_call_webhooks(params, app, true); !s) {
      co_return http::error_response(s.error());
    }
  }
  if (auto s = apply_call_settings(params, 1, request); !s) {
    co_return http::error_response(s.error());
  }

  // The record first (queued), then the queue: a call is never dialled without its row.
  auto record = queued_call_record(ctx, scope, request);
  if (!record) co_return http::error_response(record.error());
  store::Mutation insert = store::InsertCall{*record};
  if (auto s = co_await commit(ctx.store, insert); !s) co_return store_error(s.error());
  dial_queued_call(ctx, scope, *record, std::move(request));
  co_return http::json_response(201, call_json(*record));
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
  // Still queued: taken off the queue, and no callbacks (as Twilio does).
  if (!m.status.empty() && (*found)->status == "queued" && ctx.dialer &&
      ctx.dialer->cancel_queued(scope.account.sid, std::string(sid))) {
    store::Call record = **found;
    record.status = "canceled";
    record.end_time = ctx.clock.now_unix();
    record.date_updated = record.end_time;
    store::Mutation update = store::UpdateCall{record};
    if (auto s = co_await commit(ctx.store, update); !s) co_return store_error(s.error());
    co_return http::json_response(200, call_json(record));
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
