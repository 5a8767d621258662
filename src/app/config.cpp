#include "app/config.hpp"

#include <toml++/toml.h>
#include <algorithm>
#include <limits>
#include <set>

#include "core/sid.hpp"
#include "core/text.hpp"
#include "events/attributes.hpp"

namespace sb::app {
namespace {

Error config_error(std::string message) {
  return Error::bad_request(codes::kInvalidParameter, std::move(message));
}

template <typename Int>
Result<Int> parse_uint(std::string_view name, std::string_view text) {
  auto v = parse_decimal(name, text, std::numeric_limits<Int>::max());
  if (!v) return v.error();
  return static_cast<Int>(*v);
}

// "5s,5m,30m" or plain milliseconds "100,200".
Result<std::vector<std::int64_t>> retry_schedule(std::string_view name, std::string_view text) {
  auto schedule = events::parse_schedule(text);
  if (schedule.empty()) {
    return config_error(std::string(name) + ": expected e.g. '5s,5m,30m' or '100,200'");
  }
  return schedule;
}

}  // namespace

Status parse_port_range(std::string_view text, std::uint16_t& first, std::uint16_t& last) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    return config_error("port range '" + std::string(text) + "': expected first-last");
  }
  auto a = parse_uint<std::uint16_t>("port range", text.substr(0, dash));
  if (!a) return a.error();
  auto b = parse_uint<std::uint16_t>("port range", text.substr(dash + 1));
  if (!b) return b.error();
  first = *a;
  last = *b;
  return Ok{};
}

std::string Config::effective_public_url() const {
  std::string url = public_url;
  if (url.empty()) {
    auto addr = parse_listen_address(http_listen);
    std::string host = addr ? addr->host : "127.0.0.1";
    if (host == "0.0.0.0" || host == "::") host = "127.0.0.1";
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    url = (http_tls() ? "https://" : "http://") + host + ":" +
          std::to_string(addr ? addr->port : 8080);
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

Status apply_toml_file(Config& config, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return config_error("config " + path + ":" + std::to_string(where.line) + ":" +
                        std::to_string(where.column) + ": " + std::string(e.description()));
  }

  static const std::set<std::string, std::less<>> kTop = {
      "data_dir", "public_url", "log_level", "workers", "shutdown_timeout_ms",
      "http",     "sip",        "account",   "demo",    "media",
      "events",   "calls",      "speech",    "console", "api"};
  static const std::set<std::string, std::less<>> kHttp = {
      "listen",          "max_body_bytes",  "max_header_bytes",      "read_timeout_ms",
      "idle_timeout_ms", "max_connections", "outbound_deny_private", "tls_cert",
      "tls_key"};
  static const std::set<std::string, std::less<>> kSip = {
      "listen",     "max_calls",    "allow",         "realm",       "digest",       "users",
      "trunks",     "message_rate", "message_burst", "source_rate", "source_burst", "ban_after",
      "ban_window", "ban_time",     "tls_listen",    "tls_cert",    "tls_key",      "tls_ca"};
  static const std::set<std::string, std::less<>> kTrunk = {
      "name",        "address",  "transport",        "prefixes",   "username", "password",
      "from_domain", "register", "register_expires", "tls_verify", "srtp"};
  static const std::set<std::string, std::less<>> kCalls = {
      "cps_per_account", "max_queued_per_account", "max_active_per_account",
      "inbound_cps_per_account"};
  static const std::set<std::string, std::less<>> kMedia = {
      "rtp_port_min", "rtp_port_max", "rtp_address", "realtime", "latch", "srtp"};
  static const std::set<std::string, std::less<>> kEvents = {"retry_schedule"};
  static const std::set<std::string, std::less<>> kSpeech = {"engine",       "model_dir", "threads",
                                                             "max_decoders", "vosk_url",  "models",
                                                             "accounts",     "preload"};
  static const std::set<std::string, std::less<>> kAccount = {"sid", "auth_token"};
  static const std::set<std::string, std::less<>> kApi = {"account_rate", "account_burst"};
  static const std::set<std::string, std::less<>> kConsole = {"enabled", "session_ttl",
                                                              "max_failed_signins"};

  auto check_keys = [&](const toml::table& table, const std::set<std::string, std::less<>>& keys,
                        std::string_view section) -> Status {
    for (const auto& [key, _] : table) {
      if (!keys.contains(key.str())) {
        return config_error("config " + path + ": unknown key '" +
                            (section.empty() ? "" : std::string(section) + ".") +
                            std::string(key.str()) + "'");
      }
    }
    return Ok{};
  };
  if (auto s = check_keys(root, kTop, ""); !s) return s;

  auto str = [](const toml::node_view<toml::node>& n, std::string& out) {
    if (auto v = n.value<std::string>()) out = *v;
  };
  auto num = [](const toml::node_view<toml::node>& n, auto& out) {
    if (auto v = n.value<std::int64_t>(); v && *v >= 0) {
      out = static_cast<std::decay_t<decltype(out)>>(*v);
    }
  };

  str(root["data_dir"], config.data_dir);
  str(root["public_url"], config.public_url);
  str(root["log_level"], config.log_level);
  num(root["workers"], config.workers);
  num(root["shutdown_timeout_ms"], config.shutdown_timeout_ms);
  if (auto v = root["demo"].value<bool>()) config.demo = *v;
  if (auto* http = root["http"].as_table()) {
    if (auto s = check_keys(*http, kHttp, "http"); !s) return s;
    str(root["http"]["listen"], config.http_listen);
    num(root["http"]["max_body_bytes"], config.http.max_body_bytes);
    num(root["http"]["max_header_bytes"], config.http.max_header_bytes);
    num(root["http"]["read_timeout_ms"], config.http.read_timeout_ms);
    num(root["http"]["idle_timeout_ms"], config.http.idle_timeout_ms);
    num(root["http"]["max_connections"], config.http.max_connections);
    str(root["http"]["tls_cert"], config.http_tls_cert);
    str(root["http"]["tls_key"], config.http_tls_key);
    if (auto v = root["http"]["outbound_deny_private"].value<bool>()) {
      config.outbound_deny_private = *v;
    }
  }
  if (auto* sip = root["sip"].as_table()) {
    if (auto s = check_keys(*sip, kSip, "sip"); !s) return s;
    str(root["sip"]["listen"], config.sip_listen);
    num(root["sip"]["max_calls"], config.max_calls);
    str(root["sip"]["realm"], config.sip_realm);
    str(root["sip"]["digest"], config.sip_digest);
    str(root["sip"]["tls_listen"], config.sip_tls_listen);
    str(root["sip"]["tls_cert"], config.sip_tls_cert);
    str(root["sip"]["tls_key"], config.sip_tls_key);
    str(root["sip"]["tls_ca"], config.sip_tls_ca);
    for (auto [key, target] : {std::pair{"message_rate", &config.sip_message_rate},
                               std::pair{"message_burst", &config.sip_message_burst}}) {
      const auto node = root["sip"][key];
      if (!node) continue;
      const auto v = node.value<double>();
      if (!v || *v <= 0 || *v > 1e6) {
        return config_error(std::string("sip.") + key + " must be a number above 0 (at most 1e6)");
      }
      *target = *v;
    }
    for (auto [key, target] : {std::pair{"source_rate", &config.sip_guard.request_rate},
                               std::pair{"source_burst", &config.sip_guard.request_burst}}) {
      const auto node = root["sip"][key];
      if (!node) continue;
      const auto v = node.value<double>();
      if (!v || *v < 0 || *v > 1e6) {
        return config_error(std::string("sip.") + key + " must be a number from 0 to 1e6");
      }
      *target = *v;
    }
    if (const auto node = root["sip"]["ban_after"]) {
      const auto v = node.value<std::int64_t>();
      if (!v || *v < 0 || *v > 1000000) {
        return config_error("sip.ban_after must be 0 (no bans) to 1000000");
      }
      config.sip_guard.ban_after = static_cast<int>(*v);
    }
    for (auto [key, target] : {std::pair{"ban_window", &config.sip_guard.ban_window},
                               std::pair{"ban_time", &config.sip_guard.ban_time}}) {
      const auto node = root["sip"][key];
      if (!node) continue;
      const auto v = node.value<std::int64_t>();
      if (!v || *v < 1 || *v > std::int64_t{30} * 86400) {
        return config_error(std::string("sip.") + key + " must be 1 to 2592000 seconds");
      }
      *target = std::chrono::seconds(*v);
    }
    if (auto* users = root["sip"]["users"].as_table()) {
      config.sip_users.clear();
      for (const auto& [name, password] : *users) {
        if (auto v = password.value<std::string>()) config.sip_users[std::string(name.str())] = *v;
      }
    }
    if (auto* trunks = root["sip"]["trunks"].as_array()) {
      config.sip_trunks.clear();
      for (const auto& node : *trunks) {
        const auto* table = node.as_table();
        if (!table) {
          return config_error("config " + path + ": sip.trunks must be [[sip.trunks]] tables");
        }
        if (auto s = check_keys(*table, kTrunk, "sip.trunks"); !s) return s;
        voice::Trunk t;
        const toml::node_view<const toml::node> v(node);
        if (auto x = v["name"].value<std::string>()) t.name = *x;
        if (auto x = v["address"].value<std::string>()) {
          auto where = parse_listen_address(*x);
          if (!where) {
            return config_error("sip.trunks '" + t.name + "': address must be host:port, not '" +
                                *x + "'");
          }
          t.host = where->host;
          t.port = where->port;
        }
        if (auto x = v["transport"].value<std::string>()) {
          const auto transport = sip::transport_from_name(*x);
          if (!transport || *x != to_lower(*x)) {
            return config_error("sip.trunks '" + t.name + "': transport must be udp, tcp or tls");
          }
          t.transport = *transport;
        }
        if (auto x = v["tls_verify"].value<bool>()) t.tls_verify = *x;
        if (auto x = v["srtp"].value<std::string>()) {
          t.srtp = media::parse_srtp_policy(*x);
          if (!t.srtp) {
            return config_error("sip.trunks '" + t.name +
                                "': srtp must be off, optional or required, not '" + *x + "'");
          }
        }
        if (auto* prefixes = v["prefixes"].as_array()) {
          for (const auto& p : *prefixes) {
            if (auto x = p.value<std::string>()) t.prefixes.push_back(*x);
          }
        }
        if (auto x = v["username"].value<std::string>()) t.username = *x;
        if (auto x = v["password"].value<std::string>()) t.password = *x;
        if (auto x = v["from_domain"].value<std::string>()) t.from_domain = *x;
        if (auto x = v["register"].value<bool>()) t.register_to = *x;
        if (auto x = v["register_expires"].value<std::int64_t>()) {
          t.register_expires = static_cast<int>(std::clamp<std::int64_t>(*x, 0, 1 << 30));
        }
        if (auto s = voice::validate_trunk(t); !s) return config_error(s.error().message);
        config.sip_trunks.push_back(std::move(t));
      }
    }
    if (auto* allow = root["sip"]["allow"].as_array()) {
      config.sip_allow.clear();
      for (const auto& entry : *allow) {
        if (auto v = entry.value<std::string>()) config.sip_allow.push_back(*v);
      }
    }
  }
  if (auto* api = root["api"].as_table()) {
    if (auto s = check_keys(*api, kApi, "api"); !s) return s;
    for (auto [key, target] : {std::pair{"account_rate", &config.api_account_rate},
                               std::pair{"account_burst", &config.api_account_burst}}) {
      const auto node = root["api"][key];
      if (!node) continue;
      const auto v = node.value<double>();
      if (!v || *v < 0 || *v > 1e6) {
        return config_error(std::string("api.") + key + " must be a number from 0 to 1e6");
      }
      *target = *v;
    }
  }
  if (auto* media = root["media"].as_table()) {
    if (auto s = check_keys(*media, kMedia, "media"); !s) return s;
    num(root["media"]["rtp_port_min"], config.rtp_port_min);
    num(root["media"]["rtp_port_max"], config.rtp_port_max);
    str(root["media"]["rtp_address"], config.rtp_address);
    if (auto v = root["media"]["realtime"].value<bool>()) config.realtime = *v;
    if (auto v = root["media"]["latch"].value<std::string>()) {
      auto policy = media::parse_latch_policy(*v);
      if (!policy) return config_error("media.latch must be strict, nat or any, not '" + *v + "'");
      config.media_latch = *policy;
    }
    if (auto v = root["media"]["srtp"].value<std::string>()) {
      auto policy = media::parse_srtp_policy(*v);
      if (!policy) {
        return config_error("media.srtp must be off, optional or required, not '" + *v + "'");
      }
      config.media_srtp = *policy;
    }
  }
  if (auto* events = root["events"].as_table()) {
    if (auto s = check_keys(*events, kEvents, "events"); !s) return s;
    if (auto v = root["events"]["retry_schedule"].value<std::string>()) {
      auto schedule = retry_schedule("events.retry_schedule", *v);
      if (!schedule) return schedule.error();
      config.events_retry_schedule_ms = std::move(*schedule);
    }
  }
  if (auto* calls = root["calls"].as_table()) {
    if (auto s = check_keys(*calls, kCalls, "calls"); !s) return s;
    if (auto v = root["calls"]["cps_per_account"].value<double>()) {
      if (*v <= 0 || *v > 10000) {
        return config_error("calls.cps_per_account must be above 0 and at most 10000");
      }
      config.calls_per_second = *v;
    }
    if (auto v = root["calls"]["max_queued_per_account"].value<std::int64_t>()) {
      if (*v < 1 || *v > 10000000) {
        return config_error("calls.max_queued_per_account must be 1 to 10000000");
      }
      config.max_queued_per_account = static_cast<std::uint32_t>(*v);
    }
    if (auto v = root["calls"]["max_active_per_account"].value<std::int64_t>()) {
      if (*v < 0 || *v > 10000000) {
        return config_error("calls.max_active_per_account must be 0 (no limit) to 10000000");
      }
      config.max_active_per_account = static_cast<std::uint32_t>(*v);
    }
    if (auto node = root["calls"]["inbound_cps_per_account"]) {
      const auto v = node.value<double>();
      if (!v || *v < 0 || *v > 10000) {
        return config_error("calls.inbound_cps_per_account must be 0 (no limit) to 10000");
      }
      config.inbound_cps_per_account = *v;
    }
  }
  if (auto* console = root["console"].as_table()) {
    if (auto s = check_keys(*console, kConsole, "console"); !s) return s;
    if (auto v = root["console"]["enabled"].value<bool>()) config.console_enabled = *v;
    if (auto v = root["console"]["session_ttl"].value<std::int64_t>()) {
      if (*v < 1 || *v > std::int64_t{30} * 86400) {
        return config_error("console.session_ttl must be 1 to 2592000 seconds");
      }
      config.console_session_ttl_s = *v;
    }
    if (auto v = root["console"]["max_failed_signins"].value<std::int64_t>()) {
      if (*v < 1 || *v > 100000) {
        return config_error("console.max_failed_signins must be 1 to 100000");
      }
      config.console_max_failed_signins = static_cast<int>(*v);
    }
  }
  if (auto* speech = root["speech"].as_table()) {
    if (auto s = check_keys(*speech, kSpeech, "speech"); !s) return s;
    str(root["speech"]["engine"], config.speech.default_engine);
    str(root["speech"]["model_dir"], config.speech.model_dir);
    str(root["speech"]["vosk_url"], config.speech.vosk_url);
    if (auto v = root["speech"]["preload"].value<bool>()) config.speech_preload = *v;
    if (auto v = root["speech"]["threads"].value<std::int64_t>()) {
      config.speech.threads = static_cast<int>(*v);
    }
    if (auto v = root["speech"]["max_decoders"].value<std::int64_t>()) {
      config.speech.max_decoders = static_cast<int>(*v);
    }
    // speechModel = "engine" and AC… = "engine": which engine serves whom.
    for (const auto& [section, out] : {std::pair{"models", &config.speech.by_model},
                                       std::pair{"accounts", &config.speech.by_account}}) {
      const toml::table* table = root["speech"][section].as_table();
      if (!table) continue;
      for (const auto& [key, value] : *table) {
        auto engine = value.value<std::string>();
        if (!engine) {
          return config_error("config " + path + ": speech." + section + "." +
                              std::string(key.str()) + " must be an engine name");
        }
        (*out)[std::string(key.str())] = *engine;
      }
    }
  }
  if (auto* account = root["account"].as_table()) {
    if (auto s = check_keys(*account, kAccount, "account"); !s) return s;
    if (auto v = root["account"]["sid"].value<std::string>()) config.account_sid = *v;
    if (auto v = root["account"]["auth_token"].value<std::string>()) config.auth_token = *v;
  }
  return Ok{};
}

Status apply_environment(Config& config, const std::function<const char*(const char*)>& getenv_fn) {
  auto get = [&](const char* name) -> std::optional<std::string> {
    const char* v = getenv_fn(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
  if (auto v = get("SWITCHBOARD_DATA_DIR")) config.data_dir = *v;
  if (auto v = get("SWITCHBOARD_HTTP_LISTEN")) config.http_listen = *v;
  if (auto v = get("SWITCHBOARD_HTTP_TLS_CERT")) config.http_tls_cert = *v;
  if (auto v = get("SWITCHBOARD_HTTP_TLS_KEY")) config.http_tls_key = *v;
  if (auto v = get("SWITCHBOARD_SIP_LISTEN")) config.sip_listen = *v;
  if (auto v = get("SWITCHBOARD_SIP_TLS_LISTEN")) config.sip_tls_listen = *v;
  if (auto v = get("SWITCHBOARD_SIP_TLS_CERT")) config.sip_tls_cert = *v;
  if (auto v = get("SWITCHBOARD_SIP_TLS_KEY")) config.sip_tls_key = *v;
  if (auto v = get("SWITCHBOARD_SIP_TLS_CA")) config.sip_tls_ca = *v;
  if (auto v = get("SWITCHBOARD_PUBLIC_URL")) config.public_url = *v;
  if (auto v = get("SWITCHBOARD_LOG_LEVEL")) config.log_level = *v;
  if (auto v = get("SWITCHBOARD_ACCOUNT_SID")) config.account_sid = *v;
  if (auto v = get("SWITCHBOARD_AUTH_TOKEN")) config.auth_token = *v;
  if (auto v = get("SWITCHBOARD_RTP_ADDRESS")) config.rtp_address = *v;
  if (auto v = get("SWITCHBOARD_REALTIME")) config.realtime = *v == "1" || *v == "true";
  if (auto v = get("SWITCHBOARD_OUTBOUND_DENY_PRIVATE")) {
    config.outbound_deny_private = *v == "1" || *v == "true";
  }
  if (auto v = get("SWITCHBOARD_SIP_REALM")) config.sip_realm = *v;
  if (auto v = get("SWITCHBOARD_SIP_DIGEST")) config.sip_digest = *v;
  if (auto v = get("SWITCHBOARD_MEDIA_LATCH")) {
    auto policy = media::parse_latch_policy(*v);
    if (!policy) return config_error("SWITCHBOARD_MEDIA_LATCH must be strict, nat or any");
    config.media_latch = *policy;
  }
  if (auto v = get("SWITCHBOARD_MEDIA_SRTP")) {
    auto policy = media::parse_srtp_policy(*v);
    if (!policy) return config_error("SWITCHBOARD_MEDIA_SRTP must be off, optional or required");
    config.media_srtp = *policy;
  }
  if (auto v = get("SWITCHBOARD_SIP_USERS")) {  // "alice:secret,bob:pw"
    config.sip_users.clear();
    std::string_view rest = *v;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      const auto colon = item.find(':');
      if (colon == std::string_view::npos || colon == 0) {
        return config_error("SWITCHBOARD_SIP_USERS: expected user:password[,user:password...]");
      }
      config.sip_users[std::string(item.substr(0, colon))] = std::string(item.substr(colon + 1));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  if (auto v = get("SWITCHBOARD_SIP_ALLOW")) {
    config.sip_allow.clear();
    std::string_view rest = *v;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      item = trim(item);
      if (!item.empty()) config.sip_allow.emplace_back(item);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  if (auto v = get("SWITCHBOARD_EVENTS_RETRY_SCHEDULE")) {
    auto schedule = retry_schedule("SWITCHBOARD_EVENTS_RETRY_SCHEDULE", *v);
    if (!schedule) return schedule.error();
    config.events_retry_schedule_ms = std::move(*schedule);
  }
  if (auto v = get("SWITCHBOARD_RTP_PORTS")) {
    auto s = parse_port_range(*v, config.rtp_port_min, config.rtp_port_max);
    if (!s) return s;
  }
  if (auto v = get("SWITCHBOARD_MAX_CALLS")) {
    auto n = parse_uint<std::uint32_t>("SWITCHBOARD_MAX_CALLS", *v);
    if (!n) return n.error();
    config.max_calls = *n;
  }
  // Whole numbers from `lo` to `hi`, applied by `set`; absent: unchanged.
  auto bounded = [&](const char* name, std::uint32_t lo, std::uint32_t hi,
                     const std::function<void(std::uint32_t)>& set) -> Status {
    const auto v = get(name);
    if (!v) return Ok{};
    auto n = parse_uint<std::uint32_t>(name, *v);
    if (!n) return n.error();
    if (*n < lo || *n > hi) {
      return config_error(std::string(name) + " must be " + std::to_string(lo) + " to " +
                          std::to_string(hi));
    }
    set(*n);
    return Ok{};
  };
  const Status limits[] = {
      bounded("SWITCHBOARD_SIP_BAN_AFTER", 0, 1000000,
              [&](std::uint32_t n) { config.sip_guard.ban_after = static_cast<int>(n); }),
      bounded("SWITCHBOARD_SIP_BAN_TIME", 1, 30 * 86400,
              [&](std::uint32_t n) { config.sip_guard.ban_time = std::chrono::seconds(n); }),
      bounded("SWITCHBOARD_SIP_SOURCE_RATE", 0, 1000000,
              [&](std::uint32_t n) {
                config.sip_guard.request_rate = n;
                config.sip_guard.request_burst = 2.0 * n;
              }),
      bounded("SWITCHBOARD_API_ACCOUNT_RATE", 0, 1000000,
              [&](std::uint32_t n) {
                config.api_account_rate = n;
                config.api_account_burst = 2.0 * n;
              }),
      bounded("SWITCHBOARD_MAX_CALLS_PER_ACCOUNT", 0, 10000000,
              [&](std::uint32_t n) { config.max_active_per_account = n; }),
      bounded("SWITCHBOARD_INBOUND_CPS_PER_ACCOUNT", 0, 10000,
              [&](std::uint32_t n) { config.inbound_cps_per_account = n; }),
  };
  for (const Status& status : limits) {
    if (!status) return status;
  }
  if (auto v = get("SWITCHBOARD_WORKERS")) {
    auto n = parse_uint<unsigned>("SWITCHBOARD_WORKERS", *v);
    if (!n) return n.error();
    config.workers = *n;
  }
  return Ok{};
}

Result<std::vector<sip::DigestAlgorithm>> parse_digest_algorithms(std::string_view text) {
  std::vector<sip::DigestAlgorithm> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    auto alg = sip::parse_algorithm(item);
    if (!alg) {
      return config_error("sip.digest: '" + std::string(item) +
                          "' is not a digest algorithm (sha-256, md5)");
    }
    if (std::find(out.begin(), out.end(), *alg) == out.end()) out.push_back(*alg);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  if (out.empty()) return config_error("sip.digest: name at least one algorithm (sha-256, md5)");
  return out;
}

Status validate(const Config& config) {
  if (auto d = parse_digest_algorithms(config.sip_digest); !d) return d.error();
  if (auto a = parse_listen_address(config.http_listen); !a) return a.error();
  if (auto a = parse_listen_address(config.sip_listen); !a) return a.error();
  if (!config.sip_tls_listen.empty()) {
    if (auto a = parse_listen_address(config.sip_tls_listen); !a) return a.error();
    if (config.sip_tls_cert.empty() || config.sip_tls_key.empty()) {
      return config_error(
          "SIP over TLS (sip.tls_listen) needs sip.tls_cert and sip.tls_key "
          "(SWITCHBOARD_SIP_TLS_CERT/_KEY)");
    }
  }
  if (config.data_dir.empty()) return config_error("data_dir must not be empty");
  if (!config.public_url.empty() && config.public_url.rfind("http://", 0) != 0 &&
      config.public_url.rfind("https://", 0) != 0) {
    return config_error("public_url must start with http:// or https://");
  }
  if (config.account_sid.has_value() != config.auth_token.has_value()) {
    return config_error("SWITCHBOARD_ACCOUNT_SID and SWITCHBOARD_AUTH_TOKEN must be set together");
  }
  if (config.account_sid && !is_sid(*config.account_sid, sid_prefix::kAccount)) {
    return config_error("account SID must be AC followed by 32 lowercase hex digits");
  }
  if (config.auth_token && config.auth_token->size() < 16) {
    return config_error("auth token must be at least 16 characters");
  }
  static const std::set<std::string, std::less<>> kLevels = {"trace", "debug",    "info", "warn",
                                                             "error", "critical", "off"};
  if (!kLevels.contains(config.log_level)) {
    return config_error("log_level must be one of trace, debug, info, warn, error, critical, off");
  }
  if (config.rtp_port_min < 1024 || config.rtp_port_max <= config.rtp_port_min ||
      config.rtp_port_max - config.rtp_port_min < 3) {
    return config_error("RTP port range must lie in 1024-65535 and hold at least two pairs (" +
                        std::to_string(config.rtp_port_min) + "-" +
                        std::to_string(config.rtp_port_max) + ")");
  }
  if (config.max_calls == 0) return config_error("max_calls must be positive");
  if (config.http.max_body_bytes == 0 || config.http.max_header_bytes == 0) {
    return config_error("http size limits must be positive");
  }
  if (config.http_tls_cert.empty() != config.http_tls_key.empty()) {
    return config_error(
        "HTTPS needs both http.tls_cert and http.tls_key (SWITCHBOARD_HTTP_TLS_CERT/_KEY)");
  }
  return Ok{};
}

}  // namespace sb::app
