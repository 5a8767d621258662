#include "voice/routing.hpp"

#include <boost/asio/ip/address.hpp>
#include <charconv>

namespace sb::voice {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

VoiceApplication application_from(const store::WebhookSettings& hooks) {
  VoiceApplication app;
  app.url = hooks.voice_url;
  app.method = hooks.voice_method;
  app.fallback_url = hooks.voice_fallback_url;
  app.fallback_method = hooks.voice_fallback_method;
  app.status_callback = hooks.status_callback;
  app.status_callback_method = hooks.status_callback_method;
  return app;
}

Result<RouteResult> route_domain_call(store::Store& store, std::string_view account_sid,
                                      std::string_view domain_sid) {
  RouteResult out;
  auto domain = store.find_sip_domain(account_sid, domain_sid);
  if (!domain) return domain.error();
  if (!domain->has_value()) return out;  // deleted since the INVITE was authenticated
  auto account = store.find_account(account_sid);
  if (!account) return account.error();
  if (!account->has_value() || (*account)->status != "active") {
    out.failure = RouteFailure::kInactiveAccount;
    return out;
  }
  const store::SipDomain& d = **domain;
  Route route;
  route.application.url = d.voice_url;
  route.application.method = d.voice_method;
  route.application.fallback_url = d.voice_fallback_url;
  route.application.fallback_method = d.voice_fallback_method;
  route.application.status_callback = d.voice_status_callback_url;
  route.application.status_callback_method = d.voice_status_callback_method;
  if (!d.srtp.empty()) route.srtp = media::parse_srtp_policy(d.srtp);
  if (route.application.url.empty()) {
    out.failure = RouteFailure::kNoApplication;
    return out;
  }
  route.account = std::move(**account);
  out.route = std::move(route);
  return out;
}

Result<std::optional<store::IncomingNumber>> find_dialed_number(store::Store& store,
                                                                std::string_view dialed) {
  // As dialed first, then the other E.164 spelling: "+1415…" <-> "1415…".
  std::vector<std::string> candidates = {std::string(dialed)};
  if (dialed.size() > 1 && dialed.front() == '+' && all_digits(dialed.substr(1))) {
    candidates.emplace_back(dialed.substr(1));
  } else if (all_digits(dialed)) {
    candidates.push_back("+" + std::string(dialed));
  }
  for (const auto& c : candidates) {
    auto found = store.find_number_by_phone(c);
    if (!found) return found.error();
    if (found->has_value()) return std::move(*found);
  }
  return std::optional<store::IncomingNumber>();
}

Result<RouteResult> route_call(store::Store& store, std::string_view dialed) {
  RouteResult out;
  auto found = find_dialed_number(store, dialed);
  if (!found) return found.error();
  std::optional<store::IncomingNumber> number = std::move(*found);
  if (!number) return out;

  auto account = store.find_account(number->account_sid);
  if (!account) return account.error();
  if (!account->has_value() || (*account)->status != "active") {
    out.failure = RouteFailure::kInactiveAccount;
    return out;
  }
  Route route;
  route.application = application_from(number->hooks);
  if (!number->voice_application_sid.empty()) {
    auto app = store.find_application(number->account_sid, number->voice_application_sid);
    if (!app) return app.error();
    if (app->has_value()) {
      route.application = application_from((*app)->hooks);
      route.application_sid = (*app)->sid;
    }
  }
  if (route.application.url.empty()) {
    out.failure = RouteFailure::kNoApplication;
    return out;
  }
  route.number = std::move(*number);
  route.account = std::move(**account);
  out.route = std::move(route);
  return out;
}

}  // namespace sb::voice

namespace sb::voice {
namespace {

// The address as 16 bytes (IPv4 in the first 4), or nullopt.
std::optional<std::pair<std::array<unsigned char, 16>, bool>> address_bytes(std::string_view text) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  std::array<unsigned char, 16> out{};
  if (address.is_v4()) {
    const auto b = address.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), out.begin());
    return std::make_pair(out, false);
  }
  auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    const auto b = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_bytes();
    std::copy(b.begin(), b.end(), out.begin());
    return std::make_pair(out, false);
  }
  const auto b = v6.to_bytes();
  std::copy(b.begin(), b.end(), out.begin());
  return std::make_pair(out, true);
}

}  // namespace

Result<AddressAcl> AddressAcl::parse(const std::vector<std::string>& entries) {
  AddressAcl acl;
  for (const auto& entry : entries) {
    const auto slash = entry.find('/');
    const std::string_view host = std::string_view(entry).substr(0, slash);
    auto bytes = address_bytes(host);
    if (!bytes) {
      return Error::bad_request(codes::kInvalidParameter,
                                "SIP allow list: '" + entry + "' is not an address or CIDR range");
    }
    Rule rule;
    rule.bytes = bytes->first;
    rule.v6 = bytes->second;
    const int max = rule.v6 ? 128 : 32;
    rule.prefix = max;
    if (slash != std::string::npos) {
      const std::string bits = entry.substr(slash + 1);
      int n = -1;
      auto [p, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), n);
      if (ec != std::errc{} || p != bits.data() + bits.size() || n < 0 || n > max) {
        return Error::bad_request(codes::kInvalidParameter,
                                  "SIP allow list: bad prefix length in '" + entry + "'");
      }
      rule.prefix = n;
    }
    acl.rules_.push_back(rule);
  }
  return acl;
}

bool AddressAcl::allows(std::string_view address) const {
  if (rules_.empty()) return true;
  auto bytes = address_bytes(address);
  if (!bytes) return false;
  for (const Rule& rule : rules_) {
    if (rule.v6 != bytes->second) continue;
    int left = rule.prefix;
    bool match = true;
    for (std::size_t i = 0; left > 0 && match; ++i, left -= 8) {
      const unsigned char mask = left >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - left));
      match = (rule.bytes[i] & mask) == (bytes->first[i] & mask);
    }
    if (match) return true;
  }
  return false;
}

}  // namespace sb::voice
