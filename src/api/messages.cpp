// Messages.json (list, create), Messages/{Sid}.json (fetch, update: redact or cancel, delete),
// Messages/{Sid}/Media.json and Media/{Sid}.json, and the media content itself (no extension),
// which Twilio serves without credentials: the ME SID is the secret.
#include <algorithm>

#include "api/auth.hpp"
#include "api/json.hpp"
#include "api/pagination.hpp"
#include "api/resources.hpp"
#include "api/validation.hpp"
#include "core/log.hpp"
#include "core/sid.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "messaging/text.hpp"

namespace sb::api {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kMaxScheduleAhead = 35 * kDay;  // Twilio: at most 35 days ahead
constexpr std::size_t kMaxMediaUrls = 10;

boost::json::value string_or_null(const std::string& s) {
  return s.empty() ? boost::json::value(nullptr) : boost::json::value(s);
}

boost::json::value date_or_null(std::int64_t t) {
  return t ? boost::json::value(rfc2822(t)) : boost::json::value(nullptr);
}

Error message_error(int code, std::string message) {
  return Error::bad_request(code, std::move(message));
}

// An alphanumeric sender ID: 1-11 letters, digits and spaces, at least one letter.
bool is_alphanumeric_sender(std::string_view from) {
  if (from.empty() || from.size() > 11) return false;
  bool letter = false;
  for (char c : from) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alpha && !(c >= '0' && c <= '9') && c != ' ') return false;
    letter = letter || alpha;
  }
  return letter;
}

std::string media_path(const store::MessageMedia& m) {
  return account_child_path(m.account_sid, "Messages/" + m.message_sid + "/Media/" + m.sid);
}

boost::json::object media_json(const store::MessageMedia& m) {
  boost::json::object o;
  o["account_sid"] = m.account_sid;
  o["content_type"] = m.content_type;
  o["date_created"] = rfc2822(m.date_created);
  o["date_updated"] = rfc2822(m.date_updated);
  o["parent_sid"] = m.message_sid;
  o["sid"] = m.sid;
  o["uri"] = media_path(m) + ".json";
  return o;
}

// A failed write's answer: the row vanished meanwhile (404), or the store's error.
http::Response write_error(const Scope& scope, const Error& error) {
  if (error.status == 404) return http::error_response(not_found_error(scope.path));
  return store_error(error);
}

}  // namespace

boost::json::object message_json(const store::Message& m) {
  boost::json::object o;
  const std::string path = account_child_path(m.account_sid, "Messages/" + m.sid);
  o["account_sid"] = m.account_sid;
  o["api_version"] = "2010-04-01";
  o["body"] = m.body;
  o["date_created"] = rfc2822(m.date_created);
  o["date_sent"] = date_or_null(m.date_sent);
  o["date_updated"] = rfc2822(m.date_updated);
  o["direction"] = m.direction;
  o["error_code"] = m.error_code ? boost::json::value(m.error_code) : boost::json::value(nullptr);
  o["error_message"] = string_or_null(m.error_message);
  o["from"] = m.from;
  o["messaging_service_sid"] = string_or_null(m.messaging_service_sid);
  o["num_media"] = std::to_string(m.num_media);  // strings, as Twilio writes them
  o["num_segments"] = std::to_string(m.num_segments);
  o["price"] = nullptr;
  o["price_unit"] = "USD";
  o["sid"] = m.sid;
  o["status"] = m.status;
  boost::json::object subs;
  subs["media"] = path + "/Media.json";
  subs["feedback"] = path + "/Feedback.json";
  o["subresource_uris"] = std::move(subs);
  o["to"] = m.to;
  o["uri"] = path + ".json";
  return o;
}

asio::awaitable<http::Response> list_messages(Context& ctx, const Scope& scope,
                                              const http::Form& query) {
  auto page = parse_page_params(query);
  if (!page) co_return http::error_response(page.error());
  store::MessageFilter filter;
  filter.account_sid = scope.account.sid;
  filter.to = std::string(query.get("To").value_or(""));
  filter.from = std::string(query.get("From").value_or(""));
  if (auto s = parse_date_filters(query, "DateSent", filter.sent_on_day_start, filter.sent_before,
                                  filter.sent_after);
      !s) {
    co_return http::error_response(s.error());
  }
  auto rows = ctx.store.list_messages(filter, page->request());
  if (!rows) co_return store_error(rows.error());
  co_return page_response(
      "messages", *rows, message_json, scope.path,
      encode_filters(query, {"To", "From", "DateSent", "DateSent<", "DateSent>"}), *page);
}

asio::awaitable<http::Response> create_message(Context& ctx, const Scope& scope,
                                               const http::Form& params) {
  if (!ctx.messages) {
    co_return http::error_response(
        Error{codes::kInternal, 503, "Messaging is not available: SIP is not running"});
  }
  const std::string to(trim(params.get("To").value_or("")));
  const std::string from(trim(params.get("From").value_or("")));
  if (to.empty()) {
    co_return http::error_response(message_error(21604, "A 'To' phone number is required."));
  }
  if (params.has("MessagingServiceSid") && from.empty()) {
    co_return http::error_response(message_error(
        21703, "Messaging Services are not available in Switchboard: send with a From number"));
  }
  if (from.empty()) {
    co_return http::error_response(message_error(21603, "A 'From' phone number is required."));
  }
  const std::string body(params.get("Body").value_or(""));
  std::vector<std::string> media;
  for (auto url : params.get_all("MediaUrl")) {
    if (!is_valid_webhook_url(url)) {
      co_return http::error_response(
          message_error(21620, "Invalid media URL: " + std::string(url.substr(0, 200))));
    }
    media.emplace_back(url);
  }
  if (media.size() > kMaxMediaUrls) {
    co_return http::error_response(message_error(
        21623, "Too many media URLs: at most " + std::to_string(kMaxMediaUrls) + " per message"));
  }
  if (body.empty() && media.empty()) {
    co_return http::error_response(message_error(21602, "Message body is required."));
  }
  if (!messaging::valid_utf8(body)) {
    co_return http::error_response(
        message_error(codes::kInvalidParameter, "Body is not valid UTF-8"));
  }
  if (messaging::characters(body) > messaging::kMaxBodyCharacters) {
    co_return http::error_response(
        message_error(21617, "The concatenated message body exceeds the 1600 character limit."));
  }
  const bool to_number = voice::is_phone_number(to);
  const bool to_sip = to.size() > 4 && iequals(std::string_view(to).substr(0, 4), "sip:");
  const bool to_client = to.starts_with("client:") && to.size() > 7;
  if (!to_number && !to_sip && !to_client) {
    co_return http::error_response(message_error(
        21211, "The 'To' number " + to.substr(0, 80) + " is not a valid phone number."));
  }
  // From: one of the account's numbers, or an alphanumeric sender ID.
  if (voice::is_phone_number(from)) {
    auto owned = ctx.store.find_number_by_phone(from);
    if (!owned) co_return store_error(owned.error());
    if (!owned->has_value() || (*owned)->account_sid != scope.account.sid) {
      co_return http::error_response(message_error(
          21606, "The From phone number " + from +
                     " is not a valid, SMS-capable inbound phone number or short code for your "
                     "account."));
    }
  } else if (!is_alphanumeric_sender(from) && !(to_client && voice::caller_user(from))) {
    co_return http::error_response(message_error(
        21212, "The 'From' number " + from.substr(0, 80) +
                   " is not a valid phone number, shortcode, or alphanumeric sender ID."));
  }
  auto opted_out = ctx.store.is_opted_out(scope.account.sid, from, to);
  if (!opted_out) co_return store_error(opted_out.error());
  if (*opted_out) {
    co_return http::error_response(
        message_error(21610, "Attempt to send to unsubscribed recipient"));
  }
  // Where it goes must exist now (a trunk for the number, a well-formed URI); a client's
  // registrations are looked for when it is sent.
  if (!to_client) {
    std::vector<voice::Trunk> trunks;
    if (ctx.trunks) trunks = ctx.trunks->for_account(scope.account.sid);
    if (auto dest = voice::resolve_destination(to, trunks); !dest) {
      co_return http::error_response(message_error(
          21612, "The 'To' phone number: " + to.substr(0, 80) +
                     ", is not currently reachable using the 'From' phone number: " + from +
                     " via SMS (" + dest.error().message + ")"));
    }
  }

  store::Message m;
  m.sid = make_sid(sid_prefix::kMessage);
  m.account_sid = scope.account.sid;
  m.from = from;
  m.to = to;
  m.body = body;
  m.media_urls = media;
  m.direction = "outbound-api";
  m.status = "queued";
  m.num_segments = static_cast<int>(messaging::segments(body).count);
  m.num_media = static_cast<int>(media.size());
  m.date_created = m.date_updated = ctx.clock.now_unix();

  if (auto app_sid = params.get("ApplicationSid"); app_sid && !app_sid->empty()) {
    auto app = ctx.store.find_application(scope.account.sid, *app_sid);
    if (!app) co_return store_error(app.error());
    if (!app->has_value()) {
      co_return http::error_response(
          message_error(21651, "ApplicationSid " + std::string(app_sid->substr(0, 40)) +
                                   " is not one of this account's applications"));
    }
    m.application_sid = (*app)->sid;
    m.status_callback = (*app)->sms_status_callback;
  }
  if (auto cb = params.get("StatusCallback"); cb && !cb->empty()) {
    if (!is_valid_webhook_url(*cb)) {
      co_return http::error_response(message_error(21609, "Invalid StatusCallback url"));
    }
    m.status_callback = std::string(*cb);
  }
  if (auto method = params.get("StatusCallbackMethod"); method && !method->empty()) {
    auto norm = normalize_method(*method);
    if (!norm) {
      co_return http::error_response(
          message_error(21403, "StatusCallbackMethod must be GET or POST"));
    }
    m.status_callback_method = *norm;
  }
  if (auto vp = params.get("ValidityPeriod"); vp && !vp->empty()) {
    int v = 0;
    const bool digits = vp->size() <= 5 && std::all_of(vp->begin(), vp->end(),
                                                       [](char c) { return c >= '0' && c <= '9'; });
    if (digits) v = std::stoi(std::string(*vp));
    if (!digits || v < 1 || v > 36000) {
      co_return http::error_response(
          message_error(codes::kInvalidParameter, "ValidityPeriod must be 1 to 36000 seconds"));
    }
    m.validity_period = v;
  }
  const auto send_at = params.get("SendAt");
  const auto schedule_type = params.get("ScheduleType");
  if ((send_at && !send_at->empty()) || (schedule_type && !schedule_type->empty())) {
    if (!schedule_type || *schedule_type != "fixed") {
      co_return http::error_response(
          message_error(35111, "ScheduleType must be 'fixed' to schedule a message"));
    }
    auto at = send_at ? parse_date_time(*send_at) : std::nullopt;
    const std::int64_t now = ctx.clock.now_unix();
    if (!at || *at <= now || *at > now + kMaxScheduleAhead) {
      co_return http::error_response(message_error(
          35114, "SendAt must be an ISO 8601 date-time in the future, at most 35 days ahead"));
    }
    m.send_at = *at;
    m.status = "scheduled";
  }

  store::Mutation insert = store::InsertMessage{m, {}};
  auto s = co_await commit(ctx.store, insert);
  if (!s) co_return store_error(s.error());
  spdlog::info("message {} from {} to {} {} ({} segment(s))", m.sid, m.from, m.to, m.status,
               m.num_segments);
  ctx.messages->submit(m);
  co_return http::json_response(201, message_json(m));
}

asio::awaitable<http::Response> fetch_message(Context& ctx, const Scope& scope,
                                              std::string_view sid) {
  auto found = ctx.store.find_message(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  co_return http::json_response(200, message_json(**found));
}

asio::awaitable<http::Response> update_message(Context& ctx, const Scope& scope,
                                               std::string_view sid, const http::Form& params) {
  auto found = ctx.store.find_message(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  store::Message m = std::move(**found);
  const auto body = params.get("Body");
  const auto status = params.get("Status");
  if (!body && !status) {
    co_return http::error_response(message_error(
        codes::kInvalidParameter, "Give Body=\"\" to redact a message or Status=canceled"));
  }
  if (body && !body->empty()) {
    co_return http::error_response(
        message_error(codes::kInvalidParameter, "Body may only be set to \"\" (redaction)"));
  }
  if (status && *status != "canceled") {
    co_return http::error_response(
        message_error(codes::kInvalidParameter, "Status may only be set to canceled"));
  }
  bool cancel = false;
  if (status) {
    if (m.status != "scheduled") {
      co_return http::error_response(message_error(
          30409, "Only a scheduled message can be canceled; this one is " + m.status));
    }
    m.status = "canceled";
    cancel = true;
  }
  if (body) {
    const bool in_flight = m.status == "queued" || m.status == "sending" ||
                           m.status == "accepted" || m.status == "scheduled";
    if (in_flight) {
      co_return http::error_response(message_error(
          codes::kInvalidParameter,
          "A message can be redacted once it is no longer queued or sending; it is " + m.status));
    }
    m.body.clear();
  }
  m.date_updated = ctx.clock.now_unix();
  store::Mutation update = store::UpdateMessage{m};
  auto s = co_await commit(ctx.store, update);
  if (!s) co_return write_error(scope, s.error());
  if (cancel && ctx.messages) ctx.messages->cancel(m.sid);
  co_return http::json_response(200, message_json(m));
}

asio::awaitable<http::Response> delete_message(Context& ctx, const Scope& scope,
                                               std::string_view sid) {
  auto found = ctx.store.find_message(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  const std::string& status = (*found)->status;
  if (status == "queued" || status == "sending" || status == "accepted" || status == "scheduled") {
    co_return http::error_response(message_error(
        codes::kInvalidParameter,
        "The message is " + status + ": cancel it or wait until it is sent before deleting it"));
  }
  store::Mutation mutation = store::DeleteMessage{scope.account.sid, std::string(sid)};
  auto s = co_await commit(ctx.store, mutation);
  if (!s) co_return write_error(scope, s.error());
  http::Response res{boost::beast::http::status::no_content, 11};
  co_return res;
}

asio::awaitable<http::Response> list_message_media(Context& ctx, const Scope& scope,
                                                   std::string_view message_sid,
                                                   const http::Form& query) {
  auto page = parse_page_params(query);
  if (!page) co_return http::error_response(page.error());
  auto message = ctx.store.find_message(scope.account.sid, message_sid);
  if (!message) co_return store_error(message.error());
  if (!message->has_value()) co_return http::error_response(not_found_error(scope.path));
  auto rows = ctx.store.list_message_media(scope.account.sid, message_sid, page->request());
  if (!rows) co_return store_error(rows.error());
  co_return page_response("media_list", *rows, media_json, scope.path, "", *page);
}

asio::awaitable<http::Response> message_media_item(Context& ctx, const Scope& scope,
                                                   std::string_view message_sid,
                                                   std::string_view sid, bool del) {
  auto found = ctx.store.find_message_media(scope.account.sid, message_sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  if (!del) co_return http::json_response(200, media_json(**found));
  store::Mutation mutation =
      store::DeleteMessageMedia{scope.account.sid, std::string(message_sid), std::string(sid)};
  auto s = co_await commit(ctx.store, mutation);
  if (!s) co_return write_error(scope, s.error());
  http::Response res{boost::beast::http::status::no_content, 11};
  co_return res;
}

http::Response message_media_content(Context& ctx, std::string_view account_sid,
                                     std::string_view message_sid, std::string_view sid,
                                     std::string_view path) {
  if (!is_sid(account_sid, sid_prefix::kAccount) || !is_sid(message_sid, sid_prefix::kMessage) ||
      !is_sid(sid, sid_prefix::kMedia)) {
    return http::error_response(not_found_error(path));
  }
  auto found = ctx.store.find_message_media(account_sid, message_sid, sid);
  if (!found) return store_error(found.error());
  if (!found->has_value()) return http::error_response(not_found_error(path));
  return http::text_response(200, std::move((*found)->data), (*found)->content_type);
}

}  // namespace sb::api
