// A channel's events: publishing (JSON, a JSON batch or form fields) and reading history.
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cstdlib>
#include "api/events_resources.hpp"

namespace sb::api::v1 {

namespace beast = boost::beast;
namespace bhttp = beast::http;

http::Response read_history(Context& ctx, const Call& call, const events::Channel& channel) {
  if (call.caller.token && !call.caller.token->subscribe) {
    return error({codes::kAuthenticationFailed, 403, "The token does not allow subscribe"});
  }
  if (!channel.attributes.permissions.may_subscribe(call.caller.kind)) {
    return error({codes::kAuthenticationFailed, 403, "Reading this channel is not permitted"});
  }
  auto after = call.params.str("After");
  if (!after) return error(after.error());
  std::size_t limit = 50;
  if (auto v = call.params.str("Limit"); v && *v) {
    limit = std::clamp<std::size_t>(std::strtoul((*v)->c_str(), nullptr, 10), 1, 1000);
  }
  auto page = ctx.service.history(channel, *after, limit);
  if (!page) return error(Error::internal("Internal storage error"));
  json::array evs;
  for (const auto& item : page->items) {
    boost::system::error_code ec;
    evs.push_back(json::parse(item.json, ec));
  }
  json::object o;
  o["events"] = std::move(evs);
  json::object meta;
  meta["key"] = "events";
  meta["limit"] = limit;
  meta["gap"] = page->gap;
  meta["next_page_url"] =
      page->has_more && !page->items.empty()
          ? json::value(std::string(call.path) + "?After=" + page->items.back().event_sid +
                        "&Limit=" + std::to_string(limit))
          : json::value(nullptr);
  o["meta"] = std::move(meta);
  return http::json_response(200, o);
}

asio::awaitable<http::Response> publish_events(Context& ctx, const Call& call,
                                               events::ChannelPtr channel) {
  if (call.caller.token && !call.caller.token->publish) {
    co_return error({codes::kAuthenticationFailed, 403, "The token does not allow publish"});
  }
  std::optional<std::string> key;
  if (auto k = call.req["Idempotency-Key"]; !k.empty()) {
    if (k.size() > 255) co_return error(bad("Idempotency-Key is longer than 255 characters"));
    key = std::string(k);
  }
  const std::string default_source = "/v1/Channels/" + channel->name;
  std::vector<events::Body> bodies;
  bool batch = false;
  if (is_json_type(call.req[bhttp::field::content_type])) {
    auto parsed = events::parse_publish_body(call.req.body(), default_source);
    if (!parsed) co_return error(parsed.error());
    bodies = std::move(*parsed);
    batch = !call.req.body().empty() &&
            call.req.body().find_first_not_of(" \t\r\n") != std::string::npos &&
            call.req.body()[call.req.body().find_first_not_of(" \t\r\n")] == '[';
  } else {
    // Form: Type, Data (JSON text), Metadata (JSON text), Subject, Source.
    json::object item;
    for (auto [param, field] : {std::pair{"Type", "type"}, std::pair{"Subject", "subject"},
                                std::pair{"Source", "source"}}) {
      auto v = call.params.str(param);
      if (!v) co_return error(v.error());
      if (*v) item[field] = **v;
    }
    for (auto [param, field] : {std::pair{"Data", "data"}, std::pair{"Metadata", "metadata"}}) {
      auto v = call.params.str(param);
      if (!v) co_return error(v.error());
      if (!*v) continue;
      boost::system::error_code ec;
      auto parsed = json::parse(**v, ec);
      if (ec) co_return error(bad(std::string(param) + " is not valid JSON"));
      item[field] = std::move(parsed);
    }
    auto b = events::parse_publish_item(item, default_source);
    if (!b) co_return error(b.error());
    bodies.push_back(std::move(*b));
  }
  auto published =
      co_await ctx.service.publish(channel, call.caller.kind, std::move(bodies), key, batch);
  if (!published) co_return error(published.error());
  auto res = http::json_response(201, published->response);
  if (published->replayed) res.set("Idempotent-Replayed", "true");
  co_return res;
}

}  // namespace sb::api::v1
