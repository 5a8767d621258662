#include "api/admin.hpp"

#include <boost/json.hpp>

#include "api/auth.hpp"
#include "api/path.hpp"
#include "core/time.hpp"

namespace sb::api {

namespace bhttp = boost::beast::http;

namespace {

boost::json::object ban_json(const SourceBan& ban, std::int64_t now_ms) {
  boost::json::object o;
  o["address"] = ban.address;
  o["failures"] = ban.failures;
  o["messages_dropped"] = ban.dropped;
  o["date_banned"] = rfc2822(ban.since_ms / 1000);
  o["date_expires"] = rfc2822(ban.until_ms / 1000);
  o["seconds_left"] = ban.until_ms > now_ms ? (ban.until_ms - now_ms + 999) / 1000 : 0;
  return o;
}

}  // namespace

asio::awaitable<http::Response> handle_admin(Context& ctx, SipBanList* bans, http::Request& req,
                                             http::RequestInfo& info, std::string_view path) {
  info.route = "/admin/v1/unmatched";
  // Basic credentials only: the console's cookie does not reach operator endpoints.
  if (req[bhttp::field::authorization].empty()) {
    co_return http::auth_error_response(
        {codes::kAuthenticationFailed, 401, "Authenticate with a main account's SID and token"});
  }
  auto caller = authenticate(ctx.store, req);
  if (!caller) co_return http::auth_error_response(caller.error());
  if (caller->key || !caller->account.is_main()) {
    co_return http::error_response(authorization_error(
        "Authorization Failed - operator endpoints take a main account's own SID and auth "
        "token (not a subaccount, not an API key)"));
  }
  const std::string_view rest = path.substr(kAdminBase.size());
  const auto method = req.method();
  if (rest == "SipBans.json") {
    info.route = "/admin/v1/SipBans.json";
    if (method != bhttp::verb::get) co_return http::method_not_allowed("GET");
    boost::json::array list;
    const std::int64_t now = ctx.clock.now_ms();
    if (bans) {
      for (const auto& b : bans->bans()) list.push_back(ban_json(b, now));
    }
    boost::json::object body;
    body["sip_bans"] = std::move(list);
    co_return http::json_response(200, body);
  }
  constexpr std::string_view kItem = "SipBans/";
  constexpr std::string_view kJson = ".json";
  if (rest.substr(0, kItem.size()) == kItem && rest.size() > kItem.size() + kJson.size() &&
      rest.substr(rest.size() - kJson.size()) == kJson) {
    info.route = "/admin/v1/SipBans/{Address}.json";
    if (method != bhttp::verb::delete_) co_return http::method_not_allowed("DELETE");
    const auto address =
        decode_segment(rest.substr(kItem.size(), rest.size() - kItem.size() - kJson.size()));
    if (!address) co_return http::error_response(not_found_error(path));
    if (!bans || !bans->lift(*address)) {
      co_return http::error_response(
          Error::not_found("No SIP ban on '" + *address + "' (it may have expired)"));
    }
    co_return http::Response{bhttp::status::no_content, 11};
  }
  co_return http::error_response(not_found_error(path));
}

}  // namespace sb::api
