// Calls/{CallSid}/Streams.json (create) and Calls/{CallSid}/Streams/{Sid|Name}.json (update
// Status=stopped): Media Streams started and stopped on a live call through its worker. Twilio
// keeps no list or fetch for streams; the live call's registry entry is the resource.
#include <boost/url/parse.hpp>

#include "api/auth.hpp"
#include "api/json.hpp"
#include "api/resources.hpp"
#include "api/validation.hpp"
#include "core/sid.hpp"
#include "core/time.hpp"
#include "voice/call_registry.hpp"
#include "voice/call_session.hpp"
#include "voice/call_streams.hpp"

namespace sb::api {

namespace {

constexpr int kInvalidCallState = 21220;

boost::json::object stream_json(const std::string& account_sid, std::string_view call_sid,
                                const voice::CallRegistry::StreamEntry& s) {
  boost::json::object o;
  o["sid"] = s.sid;
  o["account_sid"] = account_sid;
  o["call_sid"] = call_sid;
  o["name"] = s.name;
  o["status"] = s.status;
  o["date_updated"] = rfc2822(s.date_updated);
  o["uri"] = "/2010-04-01/Accounts/" + account_sid + "/Calls/" + std::string(call_sid) +
             "/Streams/" + s.sid + ".json";
  return o;
}

bool is_stream_url(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  return parsed && (parsed->scheme() == "wss" || parsed->scheme() == "ws") &&
         !parsed->host().empty();
}

}  // namespace

asio::awaitable<http::Response> create_stream(Context& ctx, const Scope& scope,
                                              std::string_view call_sid, const http::Form& params) {
  auto found = ctx.store.find_call(scope.account.sid, call_sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));

  twiml::StreamNoun noun;
  auto url = params.get("Url");
  if (!url || url->empty()) {
    co_return http::error_response(
        Error::bad_request(codes::kInvalidParameter, "Required parameter Url missing"));
  }
  if (!is_stream_url(*url)) {
    co_return http::error_response(
        Error::bad_request(codes::kInvalidUrl, "Url must be an absolute wss:// (or ws://) URL"));
  }
  noun.url = std::string(*url);
  if (auto name = params.get("Name")) noun.name = std::string(*name);
  if (auto track = params.get("Track"); track && !track->empty()) {
    if (*track != "inbound_track" && *track != "outbound_track" && *track != "both_tracks") {
      co_return http::error_response(Error::bad_request(
          codes::kInvalidParameter, "Track must be inbound_track, outbound_track or both_tracks"));
    }
    noun.track = std::string(*track);
  }
  if (auto cb = params.get("StatusCallback"); cb && !cb->empty()) {
    if (!is_valid_webhook_url(*cb)) {
      co_return http::error_response(
          Error::bad_request(codes::kInvalidCallbackUrl, "StatusCallback is not a valid URL"));
    }
    noun.status_callback = std::string(*cb);
  }
  if (auto m = params.get("StatusCallbackMethod"); m && !m->empty()) {
    auto normalized = normalize_method(*m);
    if (!normalized) {
      co_return http::error_response(
          Error::bad_request(codes::kInvalidMethod, "StatusCallbackMethod must be GET or POST"));
    }
    noun.status_callback_method = *normalized;
  }
  for (int i = 1; i <= 99; ++i) {
    const std::string key = "Parameter" + std::to_string(i);
    auto name = params.get(key + ".Name");
    if (!name || name->empty()) continue;
    auto value = params.get(key + ".Value");
    noun.parameters.emplace_back(std::string(*name), value ? std::string(*value) : std::string());
  }

  const std::string call(call_sid);
  if ((*found)->status != "in-progress" || !ctx.calls) {
    co_return http::error_response(
        Error::bad_request(kInvalidCallState, "Call is not in progress: it cannot be streamed"));
  }
  if (!noun.name.empty()) {
    auto taken = ctx.calls->find_stream(scope.account.sid, call, noun.name);
    if (taken && taken->status == "in-progress") {
      co_return http::error_response(Error::bad_request(
          codes::kInvalidParameter, "A stream named " + noun.name + " is running on this call"));
    }
  }
  voice::CallRegistry::StreamEntry entry;
  entry.sid = make_sid(sid_prefix::kStream);
  entry.name = noun.name.empty() ? entry.sid : noun.name;
  entry.date_updated = ctx.clock.now_unix();
  // The entry first, so a stop that follows at once finds it; the call's worker starts it.
  ctx.calls->put_stream(call, entry);
  voice::CallRegistry* registry = ctx.calls;
  const bool live = registry->post(
      scope.account.sid, call,
      [noun, sid = entry.sid, registry, call](voice::CallSession& session) {
        auto started = session.streams().start(noun, "", sid);
        if (!started) {
          session.warn(started.error().code, "Streams.json: " + started.error().message);
          voice::CallRegistry::StreamEntry over{sid, noun.name.empty() ? sid : noun.name,
                                                "stopped"};
          registry->put_stream(call, std::move(over));
        }
      });
  if (!live) {
    co_return http::error_response(
        Error::bad_request(kInvalidCallState, "Call is not in progress: it cannot be streamed"));
  }
  co_return http::json_response(201, stream_json(scope.account.sid, call_sid, entry));
}

asio::awaitable<http::Response> update_stream(Context& ctx, const Scope& scope,
                                              std::string_view call_sid,
                                              const std::string& sid_or_name,
                                              const http::Form& params) {
  auto status = params.get("Status");
  if (!status || *status != "stopped") {
    co_return http::error_response(
        Error::bad_request(codes::kInvalidParameter, "Status must be stopped"));
  }
  const std::string call(call_sid);
  std::optional<voice::CallRegistry::StreamEntry> entry;
  if (ctx.calls) entry = ctx.calls->find_stream(scope.account.sid, call, sid_or_name);
  if (!entry) co_return http::error_response(not_found_error(scope.path));
  if (entry->bidirectional) {
    co_return http::error_response(Error::bad_request(
        codes::kInvalidParameter,
        "A bidirectional stream (<Connect><Stream>) ends with its call or a new document"));
  }
  if (entry->status == "in-progress") {
    ctx.calls->post(scope.account.sid, call, [sid = entry->sid](voice::CallSession& session) {
      session.streams().stop(sid);
    });
    entry->status = "stopped";
    entry->date_updated = ctx.clock.now_unix();
    ctx.calls->put_stream(call, *entry);
  }
  co_return http::json_response(200, stream_json(scope.account.sid, call_sid, *entry));
}

}  // namespace sb::api
