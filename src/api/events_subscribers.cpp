// Subscribers of a channel (webhook or stream), their delivery log and replay.
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cstdlib>
#include "api/events_resources.hpp"

namespace sb::api::v1 {

namespace beast = boost::beast;
namespace bhttp = beast::http;

http::Response list_subscribers(Context& ctx, const Call& call, const events::Channel& channel) {
  json::array items;
  for (const auto& s : ctx.service.list_subscribers(channel.sid)) {
    items.push_back(subscriber_json(*s));
  }
  return list_response("subscribers", std::move(items), std::string(call.path), call.params);
}

asio::awaitable<http::Response> create_subscriber(Context& ctx, const Call& call,
                                                  events::ChannelPtr channel) {
  auto type = call.params.str("Type");
  auto url = call.params.str("Url");
  auto secret = call.params.str("Secret");
  if (!type || !url || !secret) co_return error(bad("Type, Url and Secret must be strings"));
  const std::string t = type->value_or("webhook");
  if (t != "webhook" && t != "stream") co_return error(bad("Type must be 'webhook' or 'stream'"));
  if (t == "webhook") {
    if (!*url || !events::valid_http_url(**url)) {
      co_return error(Error::bad_request(codes::kInvalidUrl, "Url must be an http(s) URL"));
    }
  } else if (*url) {
    co_return error(bad("A stream subscriber has no Url"));
  }
  if (*secret && !events::secret_key(**secret)) {
    co_return error(bad("Secret must be whsec_ followed by base64"));
  }
  if (!channel->attributes.permissions.may_subscribe("account")) {
    co_return error(
        {codes::kAuthenticationFailed, 403, "Subscribing to this channel is not permitted"});
  }
  const bool generated = !*secret;
  std::string sec = generated ? events::generate_secret() : **secret;
  auto attrs = call.params.attributes("Attributes");
  if (!attrs) co_return error(attrs.error());
  auto created = co_await ctx.service.create_subscriber(channel, t, url->value_or(""), sec,
                                                        attrs->value_or(json::value()));
  if (!created) co_return error(created.error());
  auto o = subscriber_json(**created);
  if (generated && t == "webhook") o["secret"] = sec;  // shown once
  co_return http::json_response(201, o);
}

asio::awaitable<http::Response> update_subscriber(Context& ctx, const Call& call,
                                                  events::SubscriberPtr sub) {
  events::EventService::SubscriberUpdate u;
  auto url = call.params.str("Url");
  auto secret = call.params.str("Secret");
  auto status = call.params.str("Status");
  auto rotate = call.params.str("RotateSecret");
  if (!url || !secret || !status || !rotate) {
    co_return error(bad("Url, Secret, Status, RotateSecret must be strings"));
  }
  if (*url) {
    if (sub->type != "webhook" || !events::valid_http_url(**url)) {
      co_return error(Error::bad_request(codes::kInvalidUrl, "Url must be an http(s) URL"));
    }
    u.url = **url;
  }
  bool generated = false;
  if (*secret) {
    if (!events::secret_key(**secret)) {
      co_return error(bad("Secret must be whsec_ followed by base64"));
    }
    u.secret = **secret;
  } else if (*rotate && **rotate == "true") {
    u.secret = events::generate_secret();
    generated = true;
  }
  if (*status) {
    if (**status != "active" && **status != "disabled") {
      co_return error(bad("Status must be 'active' or 'disabled'"));
    }
    u.status = **status;
  }
  auto attrs = call.params.attributes("Attributes");
  if (!attrs) co_return error(attrs.error());
  u.attributes = *attrs;
  auto updated = co_await ctx.service.update_subscriber(sub, u);
  if (!updated) co_return error(updated.error());
  auto o = subscriber_json(**updated);
  if (generated) o["secret"] = *u.secret;
  co_return http::json_response(200, o);
}

asio::awaitable<http::Response> delete_subscriber(Context& ctx, const Call& call,
                                                  events::SubscriberPtr sub) {
  Status s = co_await ctx.service.delete_subscriber(sub);
  if (!s) co_return error(s.error());
  co_return http::Response(bhttp::status::no_content, call.req.version());
}

http::Response list_deliveries(Context& ctx, const Call& call, const events::Subscriber& sub) {
  std::size_t limit = 50;
  if (auto v = call.params.str("PageSize"); v && *v) {
    limit = std::clamp<std::size_t>(std::strtoul((*v)->c_str(), nullptr, 10), 1, 1000);
  }
  auto d = ctx.service.deliveries(sub, limit);
  if (!d) return error(Error::internal("Internal storage error"));
  json::object o;
  o["deliveries"] = std::move(*d);
  json::object meta;
  meta["page_size"] = limit;
  meta["key"] = "deliveries";
  o["meta"] = std::move(meta);
  return http::json_response(200, o);
}

asio::awaitable<http::Response> replay(Context& ctx, const Call& call, events::SubscriberPtr sub) {
  auto from = call.params.str("From");
  auto to = call.params.str("To");
  if (!from || !to) co_return error(bad("From and To must be strings"));
  if (!*from) co_return error(bad("From is required (RFC 3339 or Unix seconds)"));
  auto from_ms = events::parse_time_ms(**from);
  auto to_ms =
      *to ? events::parse_time_ms(**to) : std::optional<std::int64_t>(ctx.service.clock().now_ms());
  if (!from_ms || !to_ms || *to_ms < *from_ms) co_return error(bad("From/To: invalid time window"));
  auto count = co_await ctx.service.replay(sub, *from_ms, *to_ms);
  if (!count) co_return error(count.error());
  json::object o;
  o["subscriber_sid"] = sub->sid;
  o["from"] = events::rfc3339_ms(*from_ms);
  o["to"] = events::rfc3339_ms(*to_ms);
  o["queued"] = *count;
  co_return http::json_response(202, o);
}

}  // namespace sb::api::v1
