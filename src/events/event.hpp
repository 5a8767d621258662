// Events: what a publisher sends (type, data, metadata…), the processed body the pipeline works
// on, and the CloudEvents 1.0 structured-JSON form every subscriber receives.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace sb::events {

namespace json = boost::json;

inline constexpr std::size_t kMaxEventBytes = 64 * 1024;
inline constexpr std::size_t kMaxBatch = 100;
inline constexpr std::string_view kEventPrefix = "EV";

// The part of an event the pipeline reads and rewrites: {"type", "source", "subject", "data",
// "metadata"}. Attribute paths ("data.status", "metadata.vip", "type") address it.
using Body = json::object;

struct EventHeader {
  std::string id;  // EV…
  std::string account_sid;
  std::string origin_channel;  // the channel it was published on
  std::int64_t time_ms = 0;
};

// Validates one publish item ({"type": …, "data": …, "metadata": {…}, "subject", "source"})
// into a body; `default_source` fills a missing source. Oversize items are refused (413).
Result<Body> parse_publish_item(const json::value& item, std::string_view default_source);
// One item or a JSON array of at most kMaxBatch.
Result<std::vector<Body>> parse_publish_body(std::string_view text,
                                             std::string_view default_source);

// The CloudEvents 1.0 structured form, with the `channel` and `metadata` extensions.
json::object to_cloudevent(const EventHeader& header, std::string_view channel, const Body& body);
std::string serialize_cloudevent(const EventHeader& header, std::string_view channel,
                                 const Body& body);

// RFC 3339 UTC with milliseconds: "2026-12-01T17:00:00.000Z".
std::string rfc3339_ms(std::int64_t unix_ms);
// Parses RFC 3339 ("…Z" or with offset) or plain Unix seconds; nullopt when neither.
std::optional<std::int64_t> parse_time_ms(std::string_view text);

std::string_view body_type(const Body& body);

// Stored JSON text (a history row, an attribute column) as a value; null when it does not parse.
json::value parse_json_or_null(std::string_view text);

}  // namespace sb::events
