#include "http/url_overrides.hpp"

#include <cctype>
#include <charconv>

#include "core/text.hpp"

namespace sb::http {

namespace {

constexpr std::size_t kMaxFragmentBytes = 1024;
constexpr std::size_t kMaxPairs = 32;

// Percent-decodes; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::optional<long> parse_decimal(std::string_view text) {
  long value = 0;
  if (text.empty() || text.size() > 9) return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

std::optional<RetryPolicy> parse_policy(std::string_view text) {
  if (text.empty()) return std::nullopt;
  RetryPolicy policy = RetryPolicy::none();
  while (true) {
    const auto comma = text.find(',');
    std::string token(text.substr(0, comma));
    for (char& c : token) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (token == "4xx") {
      policy.on_4xx = true;
    } else if (token == "5xx") {
      policy.on_5xx = true;
    } else if (token == "ct") {
      policy.on_connect_failure = true;
    } else if (token == "rt") {
      policy.on_read_failure = true;
    } else if (token == "all") {
      policy = RetryPolicy::all();
    } else {
      return std::nullopt;
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return policy;
}

std::string range_reason(long min, long max) {
  return "must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
}

}  // namespace

std::string_view strip_fragment(std::string_view url) { return url.substr(0, url.find('#')); }

std::string to_string(const RetryPolicy& policy) {
  std::string out;
  auto add = [&out](bool on, const char* name) {
    if (!on) return;
    if (!out.empty()) out += ',';
    out += name;
  };
  add(policy.on_4xx, "4xx");
  add(policy.on_5xx, "5xx");
  add(policy.on_connect_failure, "ct");
  add(policy.on_read_failure, "rt");
  return out;
}

WebhookUrl parse_webhook_url(std::string_view url, const ConnectionSettings& defaults) {
  WebhookUrl out;
  out.settings = defaults;
  const auto hash = url.find('#');
  out.request_url = std::string(url.substr(0, hash));
  if (hash == std::string_view::npos) return out;
  out.has_fragment = true;

  std::string_view fragment = url.substr(hash + 1);
  auto warn = [&out](std::string_view key, std::string_view value, std::string reason,
                     int code = 0) {
    out.warnings.push_back({std::string(key), std::string(value), std::move(reason), code});
  };
  if (fragment.size() > kMaxFragmentBytes) {
    warn("", "", "fragment longer than " + std::to_string(kMaxFragmentBytes) + " bytes ignored");
    return out;
  }

  std::size_t pairs = 0;
  while (!fragment.empty()) {
    const auto amp = fragment.find('&');
    const std::string_view pair = fragment.substr(0, amp);
    fragment = amp == std::string_view::npos ? std::string_view{} : fragment.substr(amp + 1);
    if (pair.empty()) continue;
    if (++pairs > kMaxPairs) {
      warn("", "", "more than " + std::to_string(kMaxPairs) + " overrides; the rest ignored");
      break;
    }
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) {
      warn(pair, "", "not a key=value pair");
      continue;
    }
    const std::string_view key = pair.substr(0, eq);
    const std::string_view raw = pair.substr(eq + 1);
    const auto value = percent_decode(raw);
    if (!value) {
      warn(key, raw, "malformed percent escape");
      continue;
    }

    auto timeout = [&](std::chrono::milliseconds& field, long max) {
      const auto ms = parse_decimal(*value);
      if (!ms || *ms < OverrideLimits::kMinTimeoutMs || *ms > max) {
        warn(key, raw, range_reason(OverrideLimits::kMinTimeoutMs, max) + " (milliseconds)");
        return;
      }
      field = std::chrono::milliseconds(*ms);
    };

    if (key == "ct") {
      timeout(out.settings.connect_timeout, OverrideLimits::kMaxConnectTimeoutMs);
    } else if (key == "rt") {
      timeout(out.settings.read_timeout, OverrideLimits::kMaxReadTimeoutMs);
    } else if (key == "tt") {
      timeout(out.settings.total_timeout, OverrideLimits::kMaxTotalTimeoutMs);
    } else if (key == "rc") {
      const auto n = parse_decimal(*value);
      if (!n || *n > OverrideLimits::kMaxRetryCount) {
        warn(key, raw, range_reason(0, OverrideLimits::kMaxRetryCount));
      } else {
        out.settings.retry_count = static_cast<int>(*n);
      }
    } else if (key == "rp") {
      const auto policy = parse_policy(*value);
      if (!policy) {
        warn(key, raw, "must be a comma-separated list of 4xx, 5xx, ct, rt, all",
             kInvalidRetryPolicy);
      } else {
        out.settings.retry_policy = *policy;
      }
    } else if (key == "e") {
      out.settings.edge = *value;
    } else if (key == "sni") {
      if (*value == "y" || *value == "yes" || *value == "true" || *value == "1") {
        out.settings.sni = true;
      } else if (*value == "n" || *value == "no" || *value == "false" || *value == "0") {
        out.settings.sni = false;
      } else {
        warn(key, raw, "must be y or n");
      }
    } else {
      warn(key, raw, "unknown connection override");
    }
  }
  return out;
}

}  // namespace sb::http
