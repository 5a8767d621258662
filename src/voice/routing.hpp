// Which application answers a call: the called user part (Request-URI or To) is looked up among
// the IncomingPhoneNumbers, as E.164 with or without '+' or as a SIP user part; the number's
// VoiceApplicationSid takes precedence over its own Voice* URLs.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "media/srtp.hpp"
#include "store/store.hpp"
#include "voice/call_info.hpp"

namespace sb::voice {

struct Route {
  store::IncomingNumber number;
  store::Account account;
  VoiceApplication application;
  std::string application_sid;            // when the number points at an Application
  std::optional<media::SrtpPolicy> srtp;  // a SIP domain's own media.srtp
};

enum class RouteFailure {
  kUnknownNumber,    // SIP 404
  kInactiveAccount,  // suspended or closed account: SIP 403 (Twilio 10003)
  kNoApplication,    // the number has no voice URL and no application: SIP 480 (Twilio 11100)
};

struct RouteResult {
  std::optional<Route> route;
  RouteFailure failure = RouteFailure::kUnknownNumber;
};

// The number `dialed` is ("+14155550100" or "14155550100" find either spelling; "1000",
// "support" as they are), if it is one.
Result<std::optional<store::IncomingNumber>> find_dialed_number(store::Store& store,
                                                                std::string_view dialed);

// The application for `dialed` ("+14155550100", "14155550100", "1000", "support").
Result<RouteResult> route_call(store::Store& store, std::string_view dialed);

// The application of a call to the SIP domain `domain_sid` of `account_sid`: its VoiceUrl.
Result<RouteResult> route_domain_call(store::Store& store, std::string_view account_sid,
                                      std::string_view domain_sid);

// The application settings of `hooks` (a number's or an Application's).
VoiceApplication application_from(const store::WebhookSettings& hooks);

}  // namespace sb::voice

namespace sb::voice {

// Who may call in: an address range in CIDR form ("10.0.0.0/8", "192.0.2.7", "2001:db8::/32").
class AddressAcl {
 public:
  // Empty: everyone may call. An entry that does not parse is an error naming it.
  static Result<AddressAcl> parse(const std::vector<std::string>& entries);
  bool allows(std::string_view address) const;
  bool empty() const { return rules_.empty(); }

 private:
  struct Rule {
    std::array<unsigned char, 16> bytes{};
    bool v6 = false;
    int prefix = 0;
  };
  std::vector<Rule> rules_;
};

}  // namespace sb::voice
