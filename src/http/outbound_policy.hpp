// Which addresses the daemon may connect to when it fetches a URL for a tenant (webhooks, <Play>
// media, status callbacks, event webhooks, message media): checked by CurlClient on the address
// it is about to connect to, after DNS, so a name that resolves to a forbidden address (or
// re-resolves to one: DNS rebinding) is refused as surely as the literal address.
//
// Always refused: link-local (169.254.0.0/16, fe80::/10: cloud metadata services answer at
// 169.254.169.254 and fd00:ec2::254), the metadata addresses themselves, unspecified, multicast,
// broadcast and reserved addresses. Refused only with `deny_private` (http.outbound_deny_private):
// loopback, RFC 1918 private ranges, shared address space (100.64.0.0/10) and IPv6 unique-local
// addresses; allowed by default, since a self-hosted application often runs beside the daemon.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace sb::http {

struct OutboundPolicy {
  bool deny_private = false;
  bool account_override = false;  // deny_private is the account's own setting (for messages)

  // Why connecting to `address` is refused ("169.254.169.254 is link-local …"), or nullopt.
  std::optional<std::string> refusal(const boost::asio::ip::address& address) const;

  // The policy every CurlClient gets unless its options say otherwise: set once by the daemon
  // from its configuration before any client is made (a process-wide rule, so that no client
  // can be built without it).
  static OutboundPolicy process_default();
  static void set_process_default(OutboundPolicy policy);

  // Per-account override for multi-tenant deployments: an operator may deny private addresses
  // to one account on a daemon that allows them, or allow them to a trusted one on a daemon
  // that denies them. `lookup` answers an account's own setting (nullopt: none, the daemon's
  // applies); it must be callable from any thread. Set once at start-up, before any fetch.
  using AccountLookup = std::function<std::optional<bool>(std::string_view account_sid)>;
  static void set_account_lookup(AccountLookup lookup);
  // This policy with `account_sid`'s own setting applied, when it has one.
  OutboundPolicy for_account(std::string_view account_sid) const;
};

}  // namespace sb::http
