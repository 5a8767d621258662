// Which application answers a call: the called user part (Request-URI or To) is looked up among
// the IncomingPhoneNumbers, as E.164 with or without '+' or as a SIP user part; the number's
// VoiceApplicationSid takes precedence over its own Voice* URLs.
#pragma once

#include <optional>
#include <string_view>

#include "store/store.hpp"
#include "voice/call_info.hpp"

namespace sb::voice {

struct Route {
  store::IncomingNumber number;
  store::Account account;
  VoiceApplication application;
  std::string application_sid;  // when the number points at an Application
};

enum class RouteFailure {
  kUnknownNumber,     // SIP 404
  kInactiveAccount,   // suspended or closed account: SIP 403 (Twilio 10003)
  kNoApplication,     // the number has no voice URL and no application: SIP 480 (Twilio 11100)
};

struct RouteResult {
  std::optional<Route> route;
  RouteFailure failure = RouteFailure::kUnknownNumber;
};

// The application for `dialed` ("+14155550100", "14155550100", "1000", "support").
Result<RouteResult> route_call(store::Store& store, std::string_view dialed);

// The application settings of `hooks` (a number's or an Application's).
VoiceApplication application_from(const store::WebhookSettings& hooks);

}  // namespace sb::voice
