// The /v1 event API's resource handlers (channels, subscribers, events: publish and history,
// deliveries and replay, tokens, streams), called by EventsApi::handle once the caller is
// authenticated and holds what the route needs; and what they share: request parameters, the
// caller, errors and JSON shapes.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/service.hpp"
#include "http/server.hpp"
#include "store/store.hpp"

namespace sb::api::v1 {

namespace asio = boost::asio;
namespace json = boost::json;

Error bad(std::string message);  // 400 / invalid parameter
Error not_found(std::string_view path);
http::Response error(const Error& e);
using http::method_not_allowed;

// Request parameters from a form body, a JSON object body or the query string. Form values
// are strings (a repeated key becomes an array); JSON values keep their type.
struct Params {
  json::object fields;
  bool from_json = false;

  const json::value* get(std::string_view k) const { return fields.if_contains(k); }
  Result<std::optional<std::string>> str(std::string_view k) const;
  Result<std::vector<std::string>> list(std::string_view k) const;
  // Attributes: a JSON object, or (forms) its JSON text.
  Result<std::optional<json::value>> attributes(std::string_view k) const;
};

bool is_json_type(std::string_view content_type);
Result<Params> form_params(std::string_view text);
// POST: the JSON or form body; otherwise the query.
Result<Params> read_params(const http::Request& req, std::string_view query);

// Who is asking: an account (Basic auth with its own credentials or an API key) or an
// access-token holder. A key counts as "account" in channel permissions, within its scopes.
struct Caller {
  std::string account_sid;
  std::string kind;  // "account" or "token"
  std::optional<events::AccessToken> token;
  std::optional<store::ApiKey> key;

  bool may(std::string_view scope) const { return !key || key->has_scope(scope); }
};

// What every /v1 handler works with.
struct Context {
  events::EventService& service;
  std::string_view public_base;  // prefixes the stream URLs tokens come with
};

// One authenticated request as the handlers see it.
struct Call {
  http::Request& req;
  const Caller& caller;
  const Params& params;  // the body for POST, else the query
  const Params& query;   // the query string
  std::string_view path;
};

std::string iso(std::int64_t unix_s);
json::object channel_json(const events::Channel& c);
json::object subscriber_json(const events::Subscriber& s);
// Twilio's v1 list shape: records under `key`, paging under `meta`.
http::Response list_response(std::string_view key, json::array items, std::string_view base,
                             const Params& q);

// ---- /v1/Channels, /v1/Channels/{Sid} (events_channels.cpp) ----
http::Response list_channels(Context& ctx, const Call& call);
asio::awaitable<http::Response> create_channel(Context& ctx, const Call& call);
asio::awaitable<http::Response> update_channel(Context& ctx, const Call& call,
                                               events::ChannelPtr channel);
asio::awaitable<http::Response> delete_channel(Context& ctx, const Call& call,
                                               events::ChannelPtr channel);

// ---- /v1/Channels/{Sid}/Subscribers[/{Sid}], /v1/Subscribers/{Sid}[/Deliveries|/Replay]
// (events_subscribers.cpp) ----
http::Response list_subscribers(Context& ctx, const Call& call, const events::Channel& channel);
asio::awaitable<http::Response> create_subscriber(Context& ctx, const Call& call,
                                                  events::ChannelPtr channel);
asio::awaitable<http::Response> update_subscriber(Context& ctx, const Call& call,
                                                  events::SubscriberPtr sub);
asio::awaitable<http::Response> delete_subscriber(Context& ctx, const Call& call,
                                                  events::SubscriberPtr sub);
http::Response list_deliveries(Context& ctx, const Call& call, const events::Subscriber& sub);
asio::awaitable<http::Response> replay(Context& ctx, const Call& call, events::SubscriberPtr sub);

// ---- /v1/Channels/{Sid}/Events (events_publish.cpp) ----
// GET: history after `After`, `Limit` at a time.
http::Response read_history(Context& ctx, const Call& call, const events::Channel& channel);
// POST: one event or a batch (JSON), or one from form fields; Idempotency-Key honoured.
asio::awaitable<http::Response> publish_events(Context& ctx, const Call& call,
                                               events::ChannelPtr channel);

// ---- /v1/Tokens (events_tokens.cpp) ----
http::Response create_token(Context& ctx, const Call& call);

// ---- /v1/Channels/{Sid}/Stream (events_streams.cpp) ----
// Checks the request and hands the connection over (info.takeover) to the SSE or WebSocket
// writer; the response is what the server sends before the takeover.
http::Response open_stream(Context& ctx, const Call& call, events::ChannelPtr channel,
                           http::RequestInfo& info);

}  // namespace sb::api::v1
