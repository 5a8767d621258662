// The operator's endpoints, outside Twilio's namespace: /admin/v1/…, for a main account's own
// credentials only (not subaccounts, not API keys, which get 403 with 70051).
//
//   GET    /admin/v1/SipBans.json            the SIP sources banned now (sip.ban_*)
//   DELETE /admin/v1/SipBans/{address}.json  lifts one ban at once
//   GET    /admin/v1/Accounts/{AC}.json      an account's security settings (the caller's own
//   POST   /admin/v1/Accounts/{AC}.json      account or one of its subaccounts):
//          OutboundDenyPrivate=true|false|default  the account's own outbound request policy
//          EnforceMediaAuth=true|false             recording media only with credentials
#pragma once

#include <boost/asio.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "api/context.hpp"
#include "http/server.hpp"

namespace sb::api {

// A SIP source the daemon is ignoring, with wall-clock times (Unix ms).
struct SourceBan {
  std::string address;
  std::int64_t since_ms = 0, until_ms = 0;
  int failures = 0;
  std::uint64_t dropped = 0;
};

// The SIP side's ban list as the API sees it (app::SipService implements it).
class SipBanList {
 public:
  virtual ~SipBanList() = default;
  // The bans in force, earliest first.
  virtual std::vector<SourceBan> bans() const = 0;
  // Lifts the ban on `address`; false when there was none.
  virtual bool lift(const std::string& address) = 0;
};

inline constexpr std::string_view kAdminBase = "/admin/v1/";

// Serves a request whose path starts with kAdminBase.
asio::awaitable<http::Response> handle_admin(Context& ctx, SipBanList* bans, http::Request& req,
                                             http::RequestInfo& info, std::string_view path,
                                             std::string_view query);

}  // namespace sb::api
