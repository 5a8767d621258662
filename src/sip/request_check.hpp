// The checks a UAS makes on a well-formed request before any dialog or transaction logic
// (RFC 3261 §8.2.1-8.2.3): method, Request-URI scheme, Require, Content-Type and Accept.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sip/message.hpp"

namespace sb::sip {

// Methods this user agent implements (the Allow header it advertises).
inline constexpr std::string_view kAllowedMethods =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REGISTER, MESSAGE";
inline constexpr std::string_view kSupportedExtensions = "timer";

bool is_known_method(std::string_view method);
bool is_allowed_method(std::string_view method);

// A response refusing `request`, or nullopt when it may proceed. Covers: 405 (known but not
// allowed here, e.g. MESSAGE), 501 (unknown method), 416 (non-SIP
// Request-URI), 420 (unsupported Require), 415 (body type other than SDP/dtmf-relay), 406
// (Accept excludes application/sdp for INVITE/OPTIONS).
std::optional<std::string> check_request(const Message& request, std::string_view to_tag);

}  // namespace sb::sip
