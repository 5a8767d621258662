#include "http/outbound_policy.hpp"

#include <atomic>
#include <cstdint>

namespace sb::http {
namespace {

std::atomic<bool> g_deny_private{false};

constexpr bool in(std::uint32_t a, std::uint32_t net, int bits) {
  const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
  return (a & mask) == net;
}

constexpr std::uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

const char* const kPrivateRule = "and http.outbound_deny_private = true";

std::optional<std::string> refuse_v4(const std::string& text, std::uint32_t a, bool deny_private) {
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
  if (!deny_private) return std::nullopt;
  if (in(a, v4(127, 0, 0, 0), 8)) return text + " is loopback " + kPrivateRule;
  if (in(a, v4(10, 0, 0, 0), 8) || in(a, v4(172, 16, 0, 0), 12) || in(a, v4(192, 168, 0, 0), 16)) {
    return text + " is private (RFC 1918) " + kPrivateRule;
  }
  if (in(a, v4(100, 64, 0, 0), 10)) {
    return text + " is shared address space (100.64.0.0/10) " + kPrivateRule;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> OutboundPolicy::refusal(const boost::asio::ip::address& address) const {
  const std::string text = address.to_string();
  if (address.is_v4()) return refuse_v4(text, address.to_v4().to_uint(), deny_private);
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    // ::ffff:169.254.169.254 is 169.254.169.254.
    return refuse_v4(text,
                     boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_uint(),
                     deny_private);
  }
  const auto b = v6.to_bytes();
  // fd00:ec2::254, the IPv6 metadata address.
  static const auto kMetadata = boost::asio::ip::make_address_v6("fd00:ec2::254").to_bytes();
  if (b == kMetadata) return text + " is a cloud metadata address: never fetched";
  if (v6.is_link_local()) return text + " is link-local (fe80::/10): never fetched";
  if (v6.is_unspecified()) return text + " is an unspecified address: never fetched";
  if (v6.is_multicast()) return text + " is multicast: never fetched";
  if (!deny_private) return std::nullopt;
  if (v6.is_loopback()) return text + " is loopback " + kPrivateRule;
  if ((b[0] & 0xfe) == 0xfc) return text + " is unique-local (fc00::/7) " + kPrivateRule;
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

}  // namespace sb::http
