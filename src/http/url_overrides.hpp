// Twilio's webhook connection overrides: the `#ct=…&rt=…&tt=…&rc=…&rp=…` URL fragment that tunes
// timeouts and retries per URL. Splits a URL into what is requested (fragment never sent) and the
// effective connection settings; bad values keep the defaults and are reported as warnings.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::http {

// Which failures a request is retried on (`rp`). Twilio's default is `ct`.
struct RetryPolicy {
  bool on_4xx = false;             // "4xx": the server answered 400-499
  bool on_5xx = false;             // "5xx": the server answered 500-599
  bool on_connect_failure = true;  // "ct": TCP connect refused or timed out
  bool on_read_failure = false;    // "rt": no (or a broken) response after the request was sent

  static RetryPolicy none() { return {false, false, false, false}; }
  static RetryPolicy all() { return {true, true, true, true}; }
  bool operator==(const RetryPolicy&) const = default;
};

// Effective per-URL connection settings. The defaults are Twilio's: 5 s per connect attempt with
// one retry on connect failure (10 s in all), 15 s to the first response byte and between
// bytes, 15 s for everything including retries.
struct ConnectionSettings {
  std::chrono::milliseconds connect_timeout{5000};  // ct, per attempt
  std::chrono::milliseconds read_timeout{15000};    // rt, to first byte and between bytes
  std::chrono::milliseconds total_timeout{15000};   // tt, all attempts together
  int retry_count = 1;                              // rc, retries after the first attempt
  RetryPolicy retry_policy;                         // rp
  std::string edge;                                 // e: recorded, no effect (one egress here)
  std::optional<bool> sni;                          // sni: recorded, SNI is always sent here
};

// Twilio's documented ranges for the numeric overrides.
struct OverrideLimits {
  static constexpr long kMinTimeoutMs = 100;
  static constexpr long kMaxConnectTimeoutMs = 10000;
  static constexpr long kMaxReadTimeoutMs = 15000;
  static constexpr long kMaxTotalTimeoutMs = 15000;
  static constexpr int kMaxRetryCount = 5;
};

// Twilio 11243 "HTTP retry policy is invalid", carried by a warning about `rp`.
inline constexpr int kInvalidRetryPolicy = 11243;

struct OverrideWarning {
  std::string key;    // as written in the fragment
  std::string value;  // as written (still percent-encoded)
  std::string reason;
  int code = 0;  // a Twilio error number where one exists (11243 for rp), else 0
};

struct WebhookUrl {
  std::string request_url;  // the URL to request: everything before the first '#'
  ConnectionSettings settings;
  std::vector<OverrideWarning> warnings;
  bool has_fragment = false;
};

// Everything before the first '#'.
std::string_view strip_fragment(std::string_view url);

// Reads the overrides in `url`'s fragment on top of `defaults`. Unknown keys, values outside the
// documented ranges and malformed pairs are ignored with a warning; the last valid value of a
// repeated key wins. Never fails: a URL without a fragment simply gets the defaults.
WebhookUrl parse_webhook_url(std::string_view url, const ConnectionSettings& defaults = {});

// "ct,5xx"-style text of a policy ("" for none), for logs and tests.
std::string to_string(const RetryPolicy& policy);

}  // namespace sb::http
