// Twilio-style resource identifiers: a two-letter prefix and 32 lowercase hex digits.
#pragma once

#include <string>
#include <string_view>

namespace sb {

namespace sid_prefix {
inline constexpr std::string_view kAccount = "AC";
inline constexpr std::string_view kIncomingNumber = "PN";
inline constexpr std::string_view kApplication = "AP";
inline constexpr std::string_view kCall = "CA";
inline constexpr std::string_view kRecording = "RE";
inline constexpr std::string_view kNotification = "NO";
inline constexpr std::string_view kTrunk = "TK";
inline constexpr std::string_view kCredentialList = "CL";
inline constexpr std::string_view kCredential = "CR";
inline constexpr std::string_view kSipDomain = "SD";
inline constexpr std::string_view kMessage = "SM";
inline constexpr std::string_view kMedia = "ME";
inline constexpr std::string_view kConference = "CF";
inline constexpr std::string_view kQueue = "QU";
inline constexpr std::string_view kStream = "MZ";
}  // namespace sid_prefix

inline constexpr std::size_t kSidLength = 34;

// A fresh random SID with the given two-letter prefix.
std::string make_sid(std::string_view prefix);

// True when `sid` is `prefix` followed by exactly 32 lowercase hex digits.
bool is_sid(std::string_view sid, std::string_view prefix);

// True when `token` is 32 lowercase hex digits (the auth-token shape).
bool is_hex32(std::string_view token);

}  // namespace sb
