#include "api/events_api.hpp"

#include <algorithm>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>

#include "api/auth.hpp"
#include "api/events_resources.hpp"
#include "api/path.hpp"
#include "core/sid.hpp"
#include "core/time.hpp"
#include "http/form.hpp"

namespace sb::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

namespace v1 {

Error bad(std::string m) { return Error::bad_request(codes::kInvalidParameter, std::move(m)); }

http::Response error(const Error& e) { return http::auth_error_response(e); }

Error not_found(std::string_view path) {
  return Error::not_found("The requested resource " + std::string(path) + " was not found");
}

Result<std::optional<std::string>> Params::str(std::string_view k) const {
  const auto* v = get(k);
  if (!v || v->is_null()) return std::optional<std::string>();
  if (v->is_string()) return std::optional<std::string>(std::string(v->get_string()));
  if (v->is_array() && !v->get_array().empty() && v->get_array().back().is_string()) {
    return std::optional<std::string>(std::string(v->get_array().back().get_string()));
  }
  if (v->is_int64() || v->is_uint64() || v->is_bool()) {
    return std::optional<std::string>(json::serialize(*v));
  }
  return bad("Parameter '" + std::string(k) + "' must be a string");
}

Result<std::vector<std::string>> Params::list(std::string_view k) const {
  std::vector<std::string> out;
  const auto* v = get(k);
  if (!v || v->is_null()) return out;
  if (v->is_string()) {
    out.emplace_back(v->get_string());
    return out;
  }
  if (!v->is_array()) return bad("Parameter '" + std::string(k) + "' must be a list of strings");
  for (const auto& i : v->get_array()) {
    if (!i.is_string()) return bad("Parameter '" + std::string(k) + "' must be a list of strings");
    out.emplace_back(i.get_string());
  }
  return out;
}

Result<std::optional<json::value>> Params::attributes(std::string_view k) const {
  const auto* v = get(k);
  if (!v) return std::optional<json::value>();
  if (v->is_object()) return std::optional<json::value>(*v);
  if (v->is_string()) {
    auto parsed = events::parse_attributes_text(v->get_string());
    if (!parsed) return parsed.error();
    return std::optional<json::value>(std::move(*parsed));
  }
  return bad("Parameter '" + std::string(k) + "' must be a JSON object");
}

bool is_json_type(std::string_view type) {
  const std::string_view base = type.substr(0, type.find(';'));
  return beast::iequals(base, "application/json") ||
         beast::iequals(base, "application/cloudevents+json") ||
         beast::iequals(base, "application/cloudevents-batch+json");
}

Result<Params> form_params(std::string_view text) {
  auto form = http::parse_form(text);
  if (!form) return form.error();
  Params p;
  for (const auto& [k, v] : form->fields()) {
    auto* existing = p.fields.if_contains(k);
    if (!existing) {
      p.fields[k] = v;
    } else if (existing->is_array()) {
      existing->get_array().push_back(json::value(v));
    } else {
      json::array a;
      a.push_back(*existing);
      a.push_back(json::value(v));
      *existing = std::move(a);
    }
  }
  return p;
}

Result<Params> read_params(const http::Request& req, std::string_view query) {
  if (req.method() != bhttp::verb::post) return form_params(query);
  const std::string_view type = req[bhttp::field::content_type];
  if (is_json_type(type)) {
    boost::system::error_code ec;
    auto v = json::parse(req.body(), ec);
    if (ec) return bad("Body is not valid JSON: " + ec.message());
    Params p;
    p.from_json = true;
    if (!v.is_object()) return p;  // an event batch: the Events route reads the body itself
    p.fields = std::move(v.get_object());
    p.from_json = true;
    return p;
  }
  if (!req.body().empty() &&
      !beast::iequals(type.substr(0, type.find(';')), "application/x-www-form-urlencoded")) {
    return Error{codes::kInvalidParameter, 415,
                 "Content-Type must be application/x-www-form-urlencoded or application/json"};
  }
  return form_params(req.body());
}

std::string iso(std::int64_t unix_s) { return rfc2822(unix_s); }

json::object channel_json(const events::Channel& c) {
  json::object o;
  o["sid"] = c.sid;
  o["account_sid"] = c.account_sid;
  o["unique_name"] = c.name;
  o["attributes"] = c.attributes.raw;
  o["date_created"] = iso(c.date_created);
  o["date_updated"] = iso(c.date_updated);
  const std::string url = "/v1/Channels/" + c.sid;
  o["url"] = url;
  json::object links;
  links["subscribers"] = url + "/Subscribers";
  links["events"] = url + "/Events";
  links["stream"] = url + "/Stream";
  o["links"] = std::move(links);
  return o;
}

json::object subscriber_json(const events::Subscriber& s) {
  json::object o;
  o["sid"] = s.sid;
  o["account_sid"] = s.account_sid;
  o["channel_sid"] = s.channel_sid;
  o["type"] = s.type;
  o["url"] = s.type == "webhook" ? json::value(s.url) : json::value(nullptr);
  o["status"] = s.status;
  o["status_reason"] =
      s.status_reason.empty() ? json::value(nullptr) : json::value(s.status_reason);
  o["attributes"] = s.attributes.raw;
  o["date_created"] = iso(s.date_created);
  o["date_updated"] = iso(s.date_updated);
  o["url_path"] = "/v1/Channels/" + s.channel_sid + "/Subscribers/" + s.sid;
  json::object links;
  links["deliveries"] = "/v1/Subscribers/" + s.sid + "/Deliveries";
  links["replay"] = "/v1/Subscribers/" + s.sid + "/Replay";
  o["links"] = std::move(links);
  return o;
}

// Twilio's v1 list shape: records under `key`, paging under `meta`.
http::Response list_response(std::string_view key, json::array items, std::string_view base,
                             const Params& q) {
  std::size_t page_size = 50, page = 0;
  if (auto v = q.str("PageSize"); v && *v) {
    page_size = std::clamp<std::size_t>(std::strtoul((*v)->c_str(), nullptr, 10), 1, 1000);
  }
  if (auto v = q.str("Page"); v && *v) page = std::strtoul((*v)->c_str(), nullptr, 10);
  json::array out;
  for (std::size_t i = page * page_size; i < items.size() && out.size() < page_size; ++i) {
    out.push_back(items[i]);
  }
  const bool more = (page + 1) * page_size < items.size();
  auto url = [&](std::size_t p) {
    return std::string(base) + "?PageSize=" + std::to_string(page_size) +
           "&Page=" + std::to_string(p);
  };
  json::object meta;
  meta["page"] = page;
  meta["page_size"] = page_size;
  meta["first_page_url"] = url(0);
  meta["previous_page_url"] = page > 0 ? json::value(url(page - 1)) : json::value(nullptr);
  meta["url"] = url(page);
  meta["next_page_url"] = more ? json::value(url(page + 1)) : json::value(nullptr);
  meta["key"] = key;
  json::object body;
  body[key] = std::move(out);
  body["meta"] = std::move(meta);
  return http::json_response(200, body);
}

}  // namespace v1

namespace {

using v1::bad;
using v1::error;
using v1::method_not_allowed;
using v1::not_found;

// The scope an API key needs for a route: publish to post events, subscribe to read them or
// stream, none to read channel metadata, rest to manage channels and subscribers. Tokens
// are checked against the permissions they ask for. Empty: no scope needed here.
struct KeyRequirement {
  std::string_view scope;
  std::string_view action;
};

template <std::size_t N>
KeyRequirement key_requirement(const std::array<std::string_view, N>& seg, std::size_t n,
                               bhttp::verb method) {
  if (n == 2 && seg[1] == "Tokens") return {};
  if (n == 4 && seg[1] == "Channels" && seg[3] == "Events") {
    if (method == bhttp::verb::post) return {key_scope::kPublish, "publish events"};
    return {key_scope::kSubscribe, "read event history"};
  }
  if (n == 4 && seg[1] == "Channels" && seg[3] == "Stream") {
    return {key_scope::kSubscribe, "stream events"};
  }
  if (n <= 3 && seg[1] == "Channels" && method == bhttp::verb::get) return {};
  return {key_scope::kRest, "manage channels and subscribers"};
}

std::optional<std::string> bearer(const http::Request& req, const v1::Params& query) {
  const std::string_view h = req[bhttp::field::authorization];
  if (h.size() > 7 && beast::iequals(h.substr(0, 7), "Bearer ")) return std::string(h.substr(7));
  if (auto t = query.str("token"); t && *t) return **t;
  return std::nullopt;
}

}  // namespace

EventsApi::EventsApi(events::EventService& service, store::Store& store, std::string public_base)
    : service_(service), store_(store), public_base_(std::move(public_base)) {}

asio::awaitable<http::Response> EventsApi::handle(http::Request& req, http::RequestInfo& info) {
  const std::string_view target = req.target();
  const auto qmark = target.find('?');
  const std::string_view path = target.substr(0, qmark);
  const std::string_view query = qmark == std::string_view::npos ? "" : target.substr(qmark + 1);
  info.route = "/v1/unmatched";
  auto parts = split_path<6>(path.substr(1));
  if (!parts) co_return error(not_found(path));
  const auto& [seg, n] = *parts;
  const auto method = req.method();
  const bool get = method == bhttp::verb::get, post = method == bhttp::verb::post,
             del = method == bhttp::verb::delete_;

  auto query_params = v1::form_params(query);
  if (!query_params) co_return error(query_params.error());

  // Authentication: Basic for everything; an access token where a route allows one.
  const bool token_route =
      n >= 4 && seg[1] == "Channels" && (seg[3] == "Events" || seg[3] == "Stream");
  if (!token_route && beast::iequals(req[bhttp::field::authorization].substr(0, 7), "Bearer ")) {
    co_return error(
        {codes::kAuthenticationFailed, 403, "An access token cannot use this resource"});
  }
  v1::Caller caller;
  if (auto tok = bearer(req, *query_params);
      tok && token_route && req[bhttp::field::authorization].substr(0, 6) != "Basic ") {
    auto t = service_.verify_token(*tok);
    if (!t) {
      co_return error(
          {codes::kAuthenticationFailed, 401, "Authentication Error - invalid or expired token"});
    }
    caller = {t->account_sid, "token", *t};
  } else {
    auto principal = authenticate(store_, req, sessions_);
    if (!principal) {
      co_return uses_session_cookie(req) ? http::error_response(principal.error())
                                         : error(principal.error());
    }
    caller = {principal->account.sid, "account", std::nullopt, std::move(principal->key)};
  }
  if (const auto need = key_requirement(seg, n, method);
      !need.scope.empty() && !caller.may(need.scope)) {
    co_return error(missing_scope_error(need.scope, need.action));
  }
  if (caller.kind == "token" && !token_route) {
    co_return error(
        {codes::kAuthenticationFailed, 403, "An access token cannot use this resource"});
  }

  auto params = v1::read_params(req, query);
  if (!params) co_return error(params.error());
  v1::Context ctx{service_, public_base_};
  const v1::Call call{req, caller, *params, *query_params, path};

  if (n == 2 && seg[1] == "Tokens") {
    info.route = "/v1/Tokens";
    if (post) co_return v1::create_token(ctx, call);
    co_return method_not_allowed("POST");
  }

  if (n >= 3 && seg[1] == "Subscribers") {
    auto sub =
        is_sid(seg[2], "SB") ? service_.find_subscriber(caller.account_sid, seg[2]) : nullptr;
    if (n == 3) {
      info.route = "/v1/Subscribers/{Sid}";
      if (!sub) co_return error(not_found(path));
      if (get) co_return http::json_response(200, v1::subscriber_json(*sub));
      co_return method_not_allowed("GET");
    }
    if (n == 4 && seg[3] == "Deliveries") {
      info.route = "/v1/Subscribers/{Sid}/Deliveries";
      if (!sub) co_return error(not_found(path));
      if (get) co_return v1::list_deliveries(ctx, call, *sub);
      co_return method_not_allowed("GET");
    }
    if (n == 4 && seg[3] == "Replay") {
      info.route = "/v1/Subscribers/{Sid}/Replay";
      if (!sub) co_return error(not_found(path));
      if (post) {
        co_return co_await v1::replay(ctx, call, sub);
      }
      co_return method_not_allowed("POST");
    }
    co_return error(not_found(path));
  }

  if (n < 2 || seg[1] != "Channels") co_return error(not_found(path));

  if (n == 2) {
    info.route = "/v1/Channels";
    if (get) co_return v1::list_channels(ctx, call);
    if (post) {
      co_return co_await v1::create_channel(ctx, call);
    }
    co_return method_not_allowed("GET, POST");
  }

  events::ChannelPtr channel = service_.resolve_channel(caller.account_sid, seg[2]);
  if (caller.token && channel && !caller.token->allows(channel->name)) channel = nullptr;

  if (n == 3) {
    info.route = "/v1/Channels/{Sid}";
    if (!channel) co_return error(not_found(path));
    if (get) co_return http::json_response(200, v1::channel_json(*channel));
    if (post) {
      co_return co_await v1::update_channel(ctx, call, channel);
    }
    if (del) {
      co_return co_await v1::delete_channel(ctx, call, channel);
    }
    co_return method_not_allowed("GET, POST, DELETE");
  }

  if (n == 4 && seg[3] == "Subscribers") {
    info.route = "/v1/Channels/{Sid}/Subscribers";
    if (!channel) co_return error(not_found(path));
    if (get) co_return v1::list_subscribers(ctx, call, *channel);
    if (post) {
      co_return co_await v1::create_subscriber(ctx, call, channel);
    }
    co_return method_not_allowed("GET, POST");
  }

  if (n == 5 && seg[3] == "Subscribers") {
    info.route = "/v1/Channels/{Sid}/Subscribers/{Sid}";
    auto sub = channel && is_sid(seg[4], "SB")
                   ? service_.find_subscriber(caller.account_sid, seg[4])
                   : nullptr;
    if (!sub || sub->channel_sid != channel->sid) co_return error(not_found(path));
    if (get) co_return http::json_response(200, v1::subscriber_json(*sub));
    if (del) {
      co_return co_await v1::delete_subscriber(ctx, call, sub);
    }
    if (post) {
      co_return co_await v1::update_subscriber(ctx, call, sub);
    }
    co_return method_not_allowed("GET, POST, DELETE");
  }

  if (n == 4 && seg[3] == "Events") {
    info.route = "/v1/Channels/{Sid}/Events";
    if (!channel) co_return error(not_found(path));
    if (get) co_return v1::read_history(ctx, call, *channel);
    if (post) {
      co_return co_await v1::publish_events(ctx, call, channel);
    }
    co_return method_not_allowed("GET, POST");
  }

  if (n == 4 && seg[3] == "Stream") {
    info.route = "/v1/Channels/{Sid}/Stream";
    if (!channel) co_return error(not_found(path));
    if (get) co_return v1::open_stream(ctx, call, channel, info);
    co_return method_not_allowed("GET");
  }

  co_return error(not_found(path));
}

}  // namespace sb::api
