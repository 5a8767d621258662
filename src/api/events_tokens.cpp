// /v1/Tokens: access tokens for browsers and devices, never more than the issuing key holds.
#include <boost/beast/http.hpp>

#include <cstdlib>
#include "api/events_resources.hpp"

#include "api/auth.hpp"

namespace sb::api::v1 {

namespace beast = boost::beast;
namespace bhttp = beast::http;

http::Response create_token(Context& ctx, const Call& call) {
  auto channels = call.params.list("Channels");
  if (!channels) return error(channels.error());
  if (channels->empty() || channels->size() > 64) {
    return error(bad("Channels: 1 to 64 channel names"));
  }
  for (const auto& c : *channels) {
    std::string plain = c;
    std::erase(plain, '*');
    while (!plain.empty() && plain.back() == '.') plain.pop_back();
    if (c != "*" && !events::validate_channel_name(plain.empty() ? "x" : plain)) {
      return error(bad("Channels: invalid channel name '" + c + "'"));
    }
  }
  auto perms = call.params.list("Permissions");
  if (!perms) return error(perms.error());
  events::AccessToken t;
  t.account_sid = call.caller.account_sid;
  t.channels = *channels;
  if (perms->empty()) t.subscribe = true;
  for (const auto& p : *perms) {
    if (p == "publish") {
      t.publish = true;
    } else if (p == "subscribe") {
      t.subscribe = true;
    } else {
      return error(bad("Permissions: 'publish' or 'subscribe', not '" + p + "'"));
    }
  }
  // A key hands out no more than it holds.
  if (t.publish && !call.caller.may(key_scope::kPublish)) {
    return error(missing_scope_error(key_scope::kPublish, "issue publish tokens"));
  }
  if (t.subscribe && !call.caller.may(key_scope::kSubscribe)) {
    return error(missing_scope_error(key_scope::kSubscribe, "issue subscribe tokens"));
  }
  std::int64_t ttl = 3600;
  auto ttl_param = call.params.str("Ttl");
  if (!ttl_param) return error(ttl_param.error());
  if (const auto& v = *ttl_param; v) {
    char* end = nullptr;
    ttl = std::strtoll(v->c_str(), &end, 10);
    if (!end || *end || ttl < 60 || ttl > 86400) return error(bad("Ttl: 60 to 86400 seconds"));
  }
  t.expires_s = ctx.service.clock().now_ms() / 1000 + ttl;
  const std::string token = ctx.service.issue_token(t);
  json::object o;
  o["token"] = token;
  o["account_sid"] = t.account_sid;
  json::array ch;
  json::object urls;
  for (const auto& c : t.channels) {
    ch.push_back(json::value(c));
    if (c.find('*') == std::string::npos && t.subscribe) {
      std::string url(ctx.public_base);
      url += "/v1/Channels/";
      url += c;
      url += "/Stream?token=";
      url += token;
      urls[c] = url;
    }
  }
  o["channels"] = std::move(ch);
  json::array pa;
  if (t.publish) pa.push_back("publish");
  if (t.subscribe) pa.push_back("subscribe");
  o["permissions"] = std::move(pa);
  o["ttl"] = ttl;
  o["expires_at"] = iso(t.expires_s);
  o["stream_urls"] = std::move(urls);
  return http::json_response(201, o);
}

}  // namespace sb::api::v1
