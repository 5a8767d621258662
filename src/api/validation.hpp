// Validation of REST parameters: URLs, HTTP methods, phone numbers, and the Voice*/Sms*
// webhook settings that numbers and applications share.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "http/form.hpp"
#include "store/models.hpp"

namespace sb::api {

// An absolute http(s) URL with a host and no whitespace or control characters.
bool is_valid_webhook_url(std::string_view url);

// "GET" or "POST" (any case) normalised to upper case; nullopt otherwise.
std::optional<std::string> normalize_method(std::string_view method);

// E.164 ("+14155550100") or a SIP user part ("1000", "support", "sales.team").
bool is_valid_phone_number(std::string_view number);

// Applies VoiceUrl, VoiceMethod, VoiceFallbackUrl, …, SmsFallbackMethod from `params` onto
// `hooks`, validating each one given (21402 Url, 21403 Method, 21502 StatusCallback). An empty
// URL clears it. Checks 21405/21406 on the result.
Status apply_webhook_settings(const http::Form& params, store::WebhookSettings& hooks);

// A FriendlyName: at most 64 characters (Twilio's limit), no control characters.
Status check_friendly_name(std::string_view name);

}  // namespace sb::api
