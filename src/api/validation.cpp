#include "api/validation.hpp"

#include <boost/url/parse.hpp>

namespace sb::api {

bool is_valid_webhook_url(std::string_view url) {
  if (url.empty() || url.size() > 2048) return false;
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) return false;
  }
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    // parse_absolute_uri refuses fragments; Twilio's #ct/#rt… overrides live there.
    const auto hash = url.find('#');
    if (hash == std::string_view::npos) return false;
    parsed = boost::urls::parse_absolute_uri(url.substr(0, hash));
    if (!parsed) return false;
  }
  const auto scheme = parsed->scheme_id();
  if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https) return false;
  return parsed->has_authority() && !parsed->encoded_host().empty();
}

std::optional<std::string> normalize_method(std::string_view method) {
  std::string upper;
  for (char c : method) upper += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  if (upper == "GET" || upper == "POST") return upper;
  return std::nullopt;
}

bool is_valid_phone_number(std::string_view number) {
  if (number.empty()) return false;
  if (number.front() == '+') {
    const auto digits = number.substr(1);
    if (digits.size() < 2 || digits.size() > 15 || digits.front() == '0') return false;
    for (char c : digits) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  }
  if (number.size() > 64) return false;
  for (char c : number) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_' || c == '~';
    if (!ok) return false;
  }
  return true;
}

Status check_friendly_name(std::string_view name) {
  if (name.size() > 64) {
    return Error::bad_request(codes::kInvalidParameter,
                              "FriendlyName must be at most 64 characters");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return Error::bad_request(codes::kInvalidParameter,
                                "FriendlyName must not contain control characters");
    }
  }
  return Ok{};
}

namespace {

struct UrlField {
  const char* param;
  std::string store::WebhookSettings::*member;
  int code;
};
struct MethodField {
  const char* param;
  std::string store::WebhookSettings::*member;
};

constexpr UrlField kUrls[] = {
    {"VoiceUrl", &store::WebhookSettings::voice_url, codes::kInvalidUrl},
    {"VoiceFallbackUrl", &store::WebhookSettings::voice_fallback_url, codes::kInvalidUrl},
    {"StatusCallback", &store::WebhookSettings::status_callback, codes::kInvalidCallbackUrl},
    {"SmsUrl", &store::WebhookSettings::sms_url, codes::kInvalidUrl},
    {"SmsFallbackUrl", &store::WebhookSettings::sms_fallback_url, codes::kInvalidUrl},
};
constexpr MethodField kMethods[] = {
    {"VoiceMethod", &store::WebhookSettings::voice_method},
    {"VoiceFallbackMethod", &store::WebhookSettings::voice_fallback_method},
    {"StatusCallbackMethod", &store::WebhookSettings::status_callback_method},
    {"SmsMethod", &store::WebhookSettings::sms_method},
    {"SmsFallbackMethod", &store::WebhookSettings::sms_fallback_method},
};

}  // namespace

Status apply_webhook_settings(const http::Form& params, store::WebhookSettings& hooks) {
  for (const auto& f : kUrls) {
    auto value = params.get(f.param);
    if (!value) continue;
    if (!value->empty() && !is_valid_webhook_url(*value)) {
      return Error::bad_request(f.code, std::string(f.param) + " is not a valid URL: " +
                                            std::string(value->substr(0, 200)));
    }
    hooks.*f.member = std::string(*value);
  }
  for (const auto& f : kMethods) {
    auto value = params.get(f.param);
    if (!value) continue;
    auto method = normalize_method(*value);
    if (!method) {
      return Error::bad_request(codes::kInvalidMethod, std::string(f.param) +
                                                           " must be GET or POST, not '" +
                                                           std::string(value->substr(0, 20)) + "'");
    }
    hooks.*f.member = *method;
  }
  if (!hooks.voice_fallback_url.empty() && hooks.voice_url.empty()) {
    return Error::bad_request(codes::kVoiceFallbackWithoutUrl,
                              "VoiceFallbackUrl provided without VoiceUrl");
  }
  if (!hooks.sms_fallback_url.empty() && hooks.sms_url.empty()) {
    return Error::bad_request(codes::kSmsFallbackWithoutUrl,
                              "SmsFallbackUrl provided without SmsUrl");
  }
  return Ok{};
}

}  // namespace sb::api
