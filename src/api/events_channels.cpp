// /v1/Channels and /v1/Channels/{Sid}: list, create, update, delete (fetch is the JSON shape).
#include <boost/beast/http.hpp>

#include "api/events_resources.hpp"

namespace sb::api::v1 {

namespace beast = boost::beast;
namespace bhttp = beast::http;

http::Response list_channels(Context& ctx, const Call& call) {
  json::array items;
  for (const auto& c : ctx.service.list_channels(call.caller.account_sid)) {
    items.push_back(channel_json(*c));
  }
  return list_response("channels", std::move(items), "/v1/Channels", call.params);
}

asio::awaitable<http::Response> create_channel(Context& ctx, const Call& call) {
  auto name = call.params.str("UniqueName");
  if (!name) co_return error(name.error());
  if (!*name) co_return error(bad("UniqueName is required"));
  auto attrs = call.params.attributes("Attributes");
  if (!attrs) co_return error(attrs.error());
  auto created = co_await ctx.service.create_channel(call.caller.account_sid, **name,
                                                     attrs->value_or(json::value()));
  if (!created) co_return error(created.error());
  auto o = channel_json(**created);
  o["webhook_secret"] = (*created)->signing_secret;  // shown once
  co_return http::json_response(201, o);
}

asio::awaitable<http::Response> update_channel(Context& ctx, const Call& call,
                                               events::ChannelPtr channel) {
  for (const auto& kv : call.params.fields) {
    if (kv.key() != "Attributes") {
      co_return error(bad("Unknown parameter '" + std::string(kv.key()) + "' (Attributes)"));
    }
  }
  auto attrs = call.params.attributes("Attributes");
  if (!attrs) co_return error(attrs.error());
  auto updated = co_await ctx.service.update_channel(channel, *attrs);
  if (!updated) co_return error(updated.error());
  co_return http::json_response(200, channel_json(**updated));
}

asio::awaitable<http::Response> delete_channel(Context& ctx, const Call& call,
                                               events::ChannelPtr channel) {
  Status s = co_await ctx.service.delete_channel(channel);
  if (!s) co_return error(s.error());
  co_return http::Response(bhttp::status::no_content, call.req.version());
}

}  // namespace sb::api::v1
