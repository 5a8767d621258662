#include "api/admin.hpp"

#include <boost/json.hpp>

#include "api/auth.hpp"
#include "api/path.hpp"
#include "api/resources.hpp"
#include "core/time.hpp"
#include "http/outbound_policy.hpp"

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

Error invalid(std::string message) {
  return Error::bad_request(codes::kInvalidParameter, std::move(message));
}

boost::json::object settings_json(const store::Account& a) {
  boost::json::object o;
  o["account_sid"] = a.sid;
  o["friendly_name"] = a.friendly_name;
  if (a.outbound_deny_private) {
    o["outbound_deny_private"] = *a.outbound_deny_private;
  } else {
    o["outbound_deny_private"] = nullptr;
  }
  // What this account's fetches obey now: its own setting, else the daemon's.
  o["effective_outbound_deny_private"] =
      a.outbound_deny_private.value_or(http::OutboundPolicy::process_default().deny_private);
  o["enforce_media_auth"] = a.enforce_media_auth;
  o["url"] = std::string(kAdminBase) + "Accounts/" + a.sid + ".json";
  return o;
}

// GET or POST /admin/v1/Accounts/{AC}.json for an account of the caller's tree.
asio::awaitable<http::Response> account_settings(Context& ctx, const store::Account& caller,
                                                 const http::Request& req, std::string_view sid,
                                                 std::string_view path, std::string_view query) {
  const auto method = req.method();
  if (method != bhttp::verb::get && method != bhttp::verb::post) {
    co_return http::method_not_allowed("GET, POST");
  }
  auto found = ctx.store.find_account(sid);
  if (!found) co_return store_error(found.error());
  // Another tree's account is not there for this operator (no hint that it exists).
  if (!*found || ((*found)->sid != caller.sid && (*found)->owner_sid != caller.sid)) {
    co_return http::error_response(not_found_error(path));
  }
  store::Account account = **found;
  if (method == bhttp::verb::post) {
    auto params = request_params(req, query, ctx.form_limits);
    if (!params) co_return http::error_response(params.error());
    const auto deny = params->get("OutboundDenyPrivate");
    const auto media = params->get("EnforceMediaAuth");
    if (!deny && !media) {
      co_return http::error_response(
          invalid("Set OutboundDenyPrivate (true, false or default) or EnforceMediaAuth "
                  "(true or false)"));
    }
    if (deny) {
      if (*deny == "true") {
        account.outbound_deny_private = true;
      } else if (*deny == "false") {
        account.outbound_deny_private = false;
      } else if (*deny == "default") {
        account.outbound_deny_private.reset();
      } else {
        co_return http::error_response(
            invalid("OutboundDenyPrivate must be true, false or default (follow the "
                    "daemon's http.outbound_deny_private)"));
      }
    }
    if (media) {
      if (*media != "true" && *media != "false") {
        co_return http::error_response(invalid("EnforceMediaAuth must be true or false"));
      }
      account.enforce_media_auth = *media == "true";
    }
    account.date_updated = ctx.clock.now_unix();
    store::Mutation mutation = store::UpdateAccount{account};
    auto s = co_await commit(ctx.store, mutation);
    if (!s) co_return store_error(s.error());
  }
  co_return http::json_response(200, settings_json(account));
}

}  // namespace

asio::awaitable<http::Response> handle_admin(Context& ctx, SipBanList* bans, http::Request& req,
                                             http::RequestInfo& info, std::string_view path,
                                             std::string_view query) {
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
  constexpr std::string_view kAccounts = "Accounts/";
  if (rest.substr(0, kAccounts.size()) == kAccounts &&
      rest.size() > kAccounts.size() + kJson.size() &&
      rest.substr(rest.size() - kJson.size()) == kJson) {
    info.route = "/admin/v1/Accounts/{AccountSid}.json";
    const std::string_view sid =
        rest.substr(kAccounts.size(), rest.size() - kAccounts.size() - kJson.size());
    co_return co_await account_settings(ctx, caller->account, req, sid, path, query);
  }
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
