#include "http/outbound_policy.hpp"

#include <atomic>
#include <cstdint>
#include <utility>

namespace sb::http {
namespace {

std::atomic<bool> g_deny_private{false};
OutboundPolicy::AccountLookup g_account_lookup;  // set once at start-up, read after

constexpr bool in(std::uint32_t a, std::uint32_t net, int bits) {
  const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
  return (a & mask) == net;
}

constexpr std::uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

const char* const kPrivateRule = "and http.outbound_deny_private = true";
const char* const kAccountRule = "and the account's OutboundDenyPrivate = true";

// `rule`: why private addresses are refused (the daemon's setting or the account's); null when
// they are allowed.
std::optional<std::string> refuse_v4(const std::string& text, std::uint32_t a, const char* rule) {
  if (a == v4(169, 254, 169, 254) || a == v4(100, 100, 100, 200)) {
    return text + " is a cloud metadata address: never fetched";
  }
  if (in(a, v4(169, 254, 0, 0), 16)) {
    return text +
           " is link-local (169.254.0.0/16, where cloud metadata services answer): never "
           "fetched";
  }
  if (in(a, v4(0, 0, 0, 0), 8)) return text + " is an unspecified address: never fetched";
  if (in(a, v4(224, 0, 0, 0), 4)) return text + " is multicast: never fetched";
  if (in(a, v4(240, 0, 0, 0), 4)) return text + " is reserved or broadcast: never fetched";
  if (rule == nullptr) return std::nullopt;
  if (in(a, v4(127, 0, 0, 0), 8)) return text + " is loopback " + rule;
  if (in(a, v4(10, 0, 0, 0), 8) || in(a, v4(172, 16, 0, 0), 12) || in(a, v4(192, 168, 0, 0), 16)) {
    return text + " is private (RFC 1918) " + rule;
  }
  if (in(a, v4(100, 64, 0, 0), 10)) {
    return text + " is shared address space (100.64.0.0/10) " + rule;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> OutboundPolicy::refusal(const boost::asio::ip::address& address) const {
  const std::string text = address.to_string();
  const char* rule = !deny_private ? nullptr : account_override ? kAccountRule : kPrivateRule;
  if (address.is_v4()) return refuse_v4(text, address.to_v4().to_uint(), rule);
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    // ::ffff:169.254.169.254 is 169.254.169.254.
    return refuse_v4(
        text, boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_uint(), rule);
  }
  const auto b = v6.to_bytes();
  // fd00:ec2::254, the IPv6 metadata address.
  static const auto kMetadata = boost::asio::ip::make_address_v6("fd00:ec2::254").to_bytes();
  if (b == kMetadata) return text + " is a cloud metadata address: never fetched";
  if (v6.is_link_local()) return text + " is link-local (fe80::/10): never fetched";
  if (v6.is_unspecified()) return text + " is an unspecified address: never fetched";
  if (v6.is_multicast()) return text + " is multicast: never fetched";
  if (rule == nullptr) return std::nullopt;
  if (v6.is_loopback()) return text + " is loopback " + rule;
  if ((b[0] & 0xfe) == 0xfc) return text + " is unique-local (fc00::/7) " + rule;
  return std::nullopt;
}

OutboundPolicy OutboundPolicy::process_default() {
  OutboundPolicy p;
  p.deny_private = g_deny_private.load(std::memory_order_relaxed);
  return p;
}

void OutboundPolicy::set_process_default(OutboundPolicy policy) {
  g_deny_private.store(policy.deny_private, std::memory_order_relaxed);
}

OutboundPolicy OutboundPolicy::for_account(std::string_view account_sid) const {
  if (account_sid.empty() || !g_account_lookup) return *this;
  const std::optional<bool> own = g_account_lookup(account_sid);
  if (!own) return *this;
  OutboundPolicy p = *this;
  p.deny_private = *own;
  p.account_override = true;
  return p;
}

void OutboundPolicy::set_account_lookup(AccountLookup lookup) {
  g_account_lookup = std::move(lookup);
}

}  // namespace sb::http
