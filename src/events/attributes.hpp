// Channel and subscriber configuration attributes: the JSON users set through the API, parsed
// and validated into typed form (unknown keys and bad types are 400s naming the key), and the
// small predicates the pipeline applies (type globs, `when` conditions, filters).
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace sb::events {

namespace json = boost::json;

// Processing stages a channel's `order` lists; history retention and rate limits are not
// stages (they apply to what the channel finally keeps and sends).
enum class Stage { kPermissions, kFilter, kDelegates, kTranslate, kRoutes, kWebhook };
std::string_view stage_name(Stage s);
const std::vector<Stage>& default_order();

// Field equality on the event body ({"metadata.vip": true, "data.status": "completed"}).
struct Condition {
  std::vector<std::pair<std::string, json::value>> equals;
  bool empty() const { return equals.empty(); }
  bool matches(const json::object& body) const;
};

// `*` matches any run of characters (dots included); everything else literally.
bool type_matches(std::string_view pattern, std::string_view type);

struct Filter {
  std::vector<std::string> types;  // empty: every type
  Condition where;
  Condition when;  // the filter applies only when this matches
  bool passes(const json::object& body) const;
};

struct Delegate {
  std::string url;
  std::int64_t timeout_ms = 2000;
  bool drop_on_failure = false;  // on_failure: "drop" (else "pass")
  Condition when;
};

struct Translate {
  std::vector<std::string> select;
  std::vector<std::pair<std::string, std::string>> rename;
  std::vector<std::pair<std::string, json::value>> set;
  Condition when;
  bool empty() const { return select.empty() && rename.empty() && set.empty(); }
};

struct Route {
  std::string to;
  Condition when;
};

struct ChannelWebhook {
  std::string url;
  std::string secret;  // whsec_…; empty: the channel's generated signing secret
  Condition when;
};

struct History {
  std::int64_t max_events = 1000;
  std::int64_t max_age_s = 86400;
};

struct RateLimit {
  double per_second = 0;  // 0: unlimited
  double burst = 0;
  bool enabled() const { return per_second > 0; }
};

// Principal kinds: "account" (Basic auth), "token" (access token), "system" (the platform).
struct Permissions {
  std::vector<std::string> publish{"account", "token", "system"};
  std::vector<std::string> subscribe{"account", "token"};
  bool may_publish(std::string_view kind) const;
  bool may_subscribe(std::string_view kind) const;
};

struct ChannelAttributes {
  Permissions permissions;
  Filter filter;
  std::vector<Delegate> delegates;
  bool delegates_parallel = false;
  Translate translate;
  std::vector<Route> routes;
  bool publish_to_parent = true;
  std::optional<ChannelWebhook> webhook;
  std::vector<Stage> order = default_order();
  History history;
  RateLimit rate_limit;  // per subscriber of this channel (a subscriber's own one wins)
  json::object raw;      // as given, echoed by the API
};

enum class Overflow { kDisconnect, kDropOldest };

struct SubscriberAttributes {
  Filter filter;
  std::optional<RateLimit> rate_limit;
  std::size_t queue_max = 1000;  // events buffered for a stream client
  Overflow overflow = Overflow::kDisconnect;
  std::vector<std::int64_t> retry_schedule_ms;  // empty: the service default
  std::int64_t timeout_ms = 15000;              // webhook request timeout
  json::object raw;
};

// `value` null or absent means defaults. Errors are 400 / 20001 naming the offending key.
Result<ChannelAttributes> parse_channel_attributes(const json::value& value);
Result<SubscriberAttributes> parse_subscriber_attributes(const json::value& value);
// Parses a JSON text attribute parameter; empty text means defaults.
Result<json::value> parse_attributes_text(std::string_view text);

// 1..128 characters of [A-Za-z0-9_-] in 1..8 dot-separated segments, not a CH… SID.
Status validate_channel_name(std::string_view name);
// The parent of "a.b.c" is "a.b"; of "a", none.
std::optional<std::string> parent_name(std::string_view name);

// http or https URL with a host, at most 2048 characters.
bool valid_http_url(std::string_view url);

// Parses "5s,5m,30m,2h" or "100,200" (milliseconds) into a schedule of 1 to 20 delays, each
// 1 ms to 7 days (a subscriber attribute's limits); empty on error.
std::vector<std::int64_t> parse_schedule(std::string_view text);

}  // namespace sb::events
