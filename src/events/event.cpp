#include "events/event.hpp"

#include <charconv>
#include <ctime>

namespace sb::events {

namespace {
Error bad(std::string m) { return Error::bad_request(codes::kInvalidParameter, std::move(m)); }
}  // namespace

std::string_view body_type(const Body& body) {
  const auto* t = body.if_contains("type");
  return t && t->is_string() ? std::string_view(t->get_string()) : std::string_view();
}

Result<Body> parse_publish_item(const json::value& item, std::string_view default_source) {
  if (!item.is_object()) return bad("An event must be a JSON object");
  const auto& obj = item.get_object();
  for (const auto& kv : obj) {
    const auto k = kv.key();
    if (k != "type" && k != "data" && k != "metadata" && k != "subject" && k != "source") {
      return bad("Unknown event field '" + std::string(k) +
                 "' (type, data, metadata, subject, source)");
    }
  }
  Body body;
  const auto* type = obj.if_contains("type");
  if (!type || !type->is_string() || type->get_string().empty() ||
      type->get_string().size() > 256) {
    return bad("An event needs a 'type' string of 1 to 256 characters");
  }
  body["type"] = *type;
  if (const auto* s = obj.if_contains("source")) {
    if (!s->is_string() || s->get_string().empty() || s->get_string().size() > 1024) {
      return bad("Event 'source' must be a non-empty string");
    }
    body["source"] = *s;
  } else {
    body["source"] = default_source;
  }
  if (const auto* s = obj.if_contains("subject")) {
    if (!s->is_string() || s->get_string().size() > 1024) {
      return bad("Event 'subject' must be a string");
    }
    body["subject"] = *s;
  }
  if (const auto* d = obj.if_contains("data")) body["data"] = *d;
  if (const auto* m = obj.if_contains("metadata")) {
    if (!m->is_object()) return bad("Event 'metadata' must be an object");
    body["metadata"] = *m;
  } else {
    body["metadata"] = json::object();
  }
  if (json::serialize(body).size() > kMaxEventBytes) {
    return Error{codes::kInvalidParameter, 413, "Event is larger than 64 KiB"};
  }
  return body;
}

Result<std::vector<Body>> parse_publish_body(std::string_view text,
                                             std::string_view default_source) {
  if (text.size() > kMaxEventBytes * kMaxBatch) {
    return Error{codes::kInvalidParameter, 413, "Request body too large"};
  }
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return bad("Body is not valid JSON: " + ec.message());
  std::vector<Body> out;
  if (v.is_array()) {
    const auto& arr = v.get_array();
    if (arr.empty()) return bad("An event batch must not be empty");
    if (arr.size() > kMaxBatch) return bad("An event batch holds at most 100 events");
    for (const auto& item : arr) {
      auto b = parse_publish_item(item, default_source);
      if (!b) return b.error();
      out.push_back(std::move(*b));
    }
  } else {
    auto b = parse_publish_item(v, default_source);
    if (!b) return b.error();
    out.push_back(std::move(*b));
  }
  return out;
}

json::object to_cloudevent(const EventHeader& header, std::string_view channel, const Body& body) {
  json::object ce;
  ce["specversion"] = "1.0";
  ce["id"] = header.id;
  if (const auto* s = body.if_contains("source")) ce["source"] = *s;
  ce["type"] = body_type(body);
  ce["time"] = rfc3339_ms(header.time_ms);
  ce["datacontenttype"] = "application/json";
  if (const auto* s = body.if_contains("subject"); s && s->is_string()) ce["subject"] = *s;
  ce["channel"] = channel;
  if (const auto* d = body.if_contains("data")) ce["data"] = *d;
  if (const auto* m = body.if_contains("metadata")) {
    ce["metadata"] = *m;
  } else {
    ce["metadata"] = json::object();
  }
  return ce;
}

std::string serialize_cloudevent(const EventHeader& header, std::string_view channel,
                                 const Body& body) {
  return json::serialize(to_cloudevent(header, channel, body));
}

std::string rfc3339_ms(std::int64_t unix_ms) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // room for any int the fields could hold, so the compiler sees no truncation
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

std::optional<std::int64_t> parse_time_ms(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t secs = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), secs);
  if (ec == std::errc() && p == text.data() + text.size()) return secs * 1000;
  std::tm tm{};
  int ms = 0;
  int y, mo, d, h, mi, s;
  char rest[16] = {0};
  const std::string t(text.substr(0, 40));
  const int n =
      std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%15s", &y, &mo, &d, &h, &mi, &s, rest);
  if (n < 6) return std::nullopt;
  std::string_view tail(rest);
  if (!tail.empty() && tail.front() == '.') {
    tail.remove_prefix(1);
    int digits = 0;
    while (!tail.empty() && tail.front() >= '0' && tail.front() <= '9') {
      if (digits < 3) ms = ms * 10 + (tail.front() - '0');
      ++digits;
      tail.remove_prefix(1);
    }
    for (; digits < 3; ++digits) ms *= 10;
  }
  std::int64_t offset_s = 0;
  if (tail == "Z" || tail == "z" || tail.empty()) {
  } else if ((tail.front() == '+' || tail.front() == '-') && tail.size() == 6 && tail[3] == ':') {
    const int oh = (tail[1] - '0') * 10 + (tail[2] - '0');
    const int om = (tail[4] - '0') * 10 + (tail[5] - '0');
    offset_s = (std::int64_t{oh} * 3600 + std::int64_t{om} * 60) * (tail.front() == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  const std::int64_t epoch = timegm(&tm);
  return (epoch - offset_s) * 1000 + ms;
}

json::value parse_json_or_null(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return ec ? json::value() : v;
}

}  // namespace sb::events
