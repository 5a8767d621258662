// SIP/Trunks.json and SIP/Trunks/{Sid}.json (an extension of Twilio's API: Twilio's Elastic SIP
// Trunking lives elsewhere): an account's own trunks for outbound calls, changed without a
// restart. Each write goes to the store, then to the call router's TrunkTable. The password is
// kept for the trunk's digest challenges and never shown.
#include "api/auth.hpp"
#include "api/json.hpp"
#include "api/pagination.hpp"
#include "api/resources.hpp"
#include "api/validation.hpp"
#include "core/sid.hpp"
#include "core/time.hpp"

namespace sb::api {
namespace {

boost::json::object trunk_json(const store::SipTrunk& t) {
  boost::json::object o;
  o["sid"] = t.sid;
  o["account_sid"] = t.account_sid;
  o["friendly_name"] = t.friendly_name;
  o["address"] = t.address;
  o["transport"] = t.transport;
  o["tls_verify"] = t.tls_verify;
  o["srtp"] = t.srtp.empty() ? boost::json::value(nullptr) : boost::json::value(t.srtp);
  boost::json::array prefixes;
  auto trunk = voice::trunk_from(t);
  if (trunk) {
    for (const auto& p : trunk->prefixes) prefixes.emplace_back(p);
  }
  o["prefixes"] = std::move(prefixes);
  o["username"] = t.username.empty() ? boost::json::value(nullptr) : boost::json::value(t.username);
  o["from_domain"] =
      t.from_domain.empty() ? boost::json::value(nullptr) : boost::json::value(t.from_domain);
  o["date_created"] = rfc2822(t.date_created);
  o["date_updated"] = rfc2822(t.date_updated);
  o["uri"] = account_child_path(t.account_sid, "SIP/Trunks/" + t.sid) + ".json";
  return o;
}

// FriendlyName, Address, Transport (udp, tcp, tls), TlsVerify (true, false), Srtp (off,
// optional, required, default), Prefixes (repeated or comma-separated), Username, Password,
// FromDomain onto `row`; the result must make a valid trunk.
Result<voice::Trunk> apply_params(const http::Form& params, store::SipTrunk& row) {
  if (auto v = params.get("FriendlyName")) {
    if (auto s = check_friendly_name(*v); !s) return s.error();
    row.friendly_name = std::string(*v);
  }
  if (auto v = params.get("Address")) row.address = std::string(*v);
  if (auto v = params.get("Transport")) row.transport = std::string(*v);
  if (auto v = params.get("TlsVerify")) {
    if (*v != "true" && *v != "false") {
      return Error::bad_request(codes::kInvalidParameter, "TlsVerify must be true or false");
    }
    row.tls_verify = *v == "true";
  }
  if (auto v = params.get("Srtp")) row.srtp = *v == "default" ? std::string() : std::string(*v);
  if (params.has("Prefixes")) {
    std::string joined;
    for (std::string_view p : params.get_all("Prefixes")) {
      if (!joined.empty()) joined += ",";
      joined += p;
    }
    row.prefixes = joined;
  }
  if (auto v = params.get("Username")) row.username = std::string(*v);
  if (auto v = params.get("Password")) row.password = std::string(*v);
  if (auto v = params.get("FromDomain")) row.from_domain = std::string(*v);
  if (row.friendly_name.empty()) {
    return Error::bad_request(codes::kInvalidParameter,
                              "FriendlyName (the trunk's name) is required");
  }
  return voice::trunk_from(row);
}

}  // namespace

asio::awaitable<http::Response> list_trunks(Context& ctx, const Scope& scope,
                                            const http::Form& query) {
  auto page = parse_page_params(query);
  if (!page) co_return http::error_response(page.error());
  auto rows = ctx.store.list_trunks({scope.account.sid}, page->request());
  if (!rows) co_return store_error(rows.error());
  co_return page_response("trunks", *rows, trunk_json, scope.path, "", *page);
}

asio::awaitable<http::Response> create_trunk(Context& ctx, const Scope& scope,
                                             const http::Form& params) {
  store::SipTrunk row;
  row.sid = make_sid(sid_prefix::kTrunk);
  row.account_sid = scope.account.sid;
  auto trunk = apply_params(params, row);
  if (!trunk) co_return http::error_response(trunk.error());
  row.date_created = row.date_updated = ctx.clock.now_unix();
  store::Mutation insert = store::InsertTrunk{row};
  if (auto s = co_await commit(ctx.store, insert); !s) co_return store_error(s.error());
  if (ctx.trunks) ctx.trunks->put(row.account_sid, row.sid, std::move(*trunk));
  co_return http::json_response(201, trunk_json(row));
}

asio::awaitable<http::Response> fetch_trunk(Context& ctx, const Scope& scope,
                                            std::string_view sid) {
  auto found = ctx.store.find_trunk(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  co_return http::json_response(200, trunk_json(**found));
}

asio::awaitable<http::Response> update_trunk(Context& ctx, const Scope& scope, std::string_view sid,
                                             const http::Form& params) {
  auto found = ctx.store.find_trunk(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  store::SipTrunk row = std::move(**found);
  auto trunk = apply_params(params, row);
  if (!trunk) co_return http::error_response(trunk.error());
  row.date_updated = ctx.clock.now_unix();
  store::Mutation update = store::UpdateTrunk{row};
  if (auto s = co_await commit(ctx.store, update); !s) {
    if (s.error().status == 404) co_return http::error_response(not_found_error(scope.path));
    co_return store_error(s.error());
  }
  if (ctx.trunks) ctx.trunks->put(row.account_sid, row.sid, std::move(*trunk));
  co_return http::json_response(200, trunk_json(row));
}

asio::awaitable<http::Response> delete_trunk(Context& ctx, const Scope& scope,
                                             std::string_view sid) {
  store::Mutation remove = store::DeleteTrunk{scope.account.sid, std::string(sid)};
  if (auto s = co_await commit(ctx.store, remove); !s) {
    if (s.error().status == 404) co_return http::error_response(not_found_error(scope.path));
    co_return store_error(s.error());
  }
  if (ctx.trunks) ctx.trunks->remove(std::string(sid));
  co_return http::Response{boost::beast::http::status::no_content, 11};
}

}  // namespace sb::api
