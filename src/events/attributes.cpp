#include "events/attributes.hpp"

#include <boost/url/parse.hpp>
#include <charconv>
#include <initializer_list>

#include "core/sid.hpp"
#include "core/text.hpp"
#include "events/json_path.hpp"

namespace sb::events {

namespace {

constexpr std::size_t kMaxDelegates = 8;
constexpr std::size_t kMaxRoutes = 16;
constexpr std::size_t kMaxListItems = 64;

Error bad(std::string message) {
  return Error::bad_request(codes::kInvalidParameter, std::move(message));
}

// Rejects keys outside `allowed`, naming the first unknown one.
Status only_keys(const json::object& obj, std::string_view where,
                 std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : obj) {
    bool known = false;
    for (auto a : allowed) known = known || kv.key() == a;
    if (!known) {
      return bad("Unknown attribute '" + std::string(where) + (where.empty() ? "" : ".") +
                 std::string(kv.key()) + "'");
    }
  }
  return Ok{};
}

Result<const json::object*> as_object(const json::value& v, std::string_view key) {
  if (!v.is_object()) return bad("Attribute '" + std::string(key) + "' must be an object");
  return &v.get_object();
}

Result<std::string> as_string(const json::value& v, std::string_view key, std::size_t max = 2048) {
  if (!v.is_string()) return bad("Attribute '" + std::string(key) + "' must be a string");
  if (v.get_string().size() > max) return bad("Attribute '" + std::string(key) + "' is too long");
  return std::string(v.get_string());
}

Result<std::int64_t> as_int(const json::value& v, std::string_view key, std::int64_t lo,
                            std::int64_t hi) {
  std::int64_t n = 0;
  if (v.is_int64()) {
    n = v.get_int64();
  } else if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(hi)) {
    n = static_cast<std::int64_t>(v.get_uint64());
  } else if (v.is_double() &&
             v.get_double() == static_cast<double>(static_cast<std::int64_t>(v.get_double()))) {
    n = static_cast<std::int64_t>(v.get_double());
  } else {
    return bad("Attribute '" + std::string(key) + "' must be an integer");
  }
  if (n < lo || n > hi) {
    return bad("Attribute '" + std::string(key) + "' must be between " + std::to_string(lo) +
               " and " + std::to_string(hi));
  }
  return n;
}

Result<double> as_number(const json::value& v, std::string_view key, double lo, double hi) {
  if (!v.is_number()) return bad("Attribute '" + std::string(key) + "' must be a number");
  const double d = v.to_number<double>();
  if (!(d >= lo && d <= hi)) {
    return bad("Attribute '" + std::string(key) + "' is out of range");
  }
  return d;
}

Result<bool> as_bool(const json::value& v, std::string_view key) {
  if (!v.is_bool()) return bad("Attribute '" + std::string(key) + "' must be true or false");
  return v.get_bool();
}

Result<std::vector<std::string>> as_string_list(const json::value& v, std::string_view key) {
  if (!v.is_array()) return bad("Attribute '" + std::string(key) + "' must be an array of strings");
  if (v.get_array().size() > kMaxListItems) {
    return bad("Attribute '" + std::string(key) + "' has too many items");
  }
  std::vector<std::string> out;
  for (const auto& item : v.get_array()) {
    auto s = as_string(item, key, 256);
    if (!s) return s.error();
    out.push_back(std::move(*s));
  }
  return out;
}

Result<Condition> parse_condition(const json::value& v, std::string_view key) {
  auto obj = as_object(v, key);
  if (!obj) return obj.error();
  Condition c;
  if ((*obj)->size() > kMaxListItems) {
    return bad("Attribute '" + std::string(key) + "' has too many fields");
  }
  for (const auto& kv : **obj) {
    if (!valid_path(kv.key())) {
      return bad("Attribute '" + std::string(key) + "' has an invalid field path '" +
                 std::string(kv.key()) + "'");
    }
    c.equals.emplace_back(std::string(kv.key()), kv.value());
  }
  return c;
}

Result<Filter> parse_filter(const json::value& v, std::string_view key) {
  auto obj = as_object(v, key);
  if (!obj) return obj.error();
  if (auto s = only_keys(**obj, key, {"types", "where", "when"}); !s) return s.error();
  Filter f;
  if (auto* t = (*obj)->if_contains("types")) {
    auto list = as_string_list(*t, std::string(key) + ".types");
    if (!list) return list.error();
    f.types = std::move(*list);
  }
  if (auto* w = (*obj)->if_contains("where")) {
    auto c = parse_condition(*w, std::string(key) + ".where");
    if (!c) return c.error();
    f.where = std::move(*c);
  }
  if (auto* w = (*obj)->if_contains("when")) {
    auto c = parse_condition(*w, std::string(key) + ".when");
    if (!c) return c.error();
    f.when = std::move(*c);
  }
  return f;
}

Result<RateLimit> parse_rate_limit(const json::value& v, std::string_view key) {
  auto obj = as_object(v, key);
  if (!obj) return obj.error();
  if (auto s = only_keys(**obj, key, {"per_second", "burst"}); !s) return s.error();
  RateLimit r;
  auto* ps = (*obj)->if_contains("per_second");
  if (!ps) return bad("Attribute '" + std::string(key) + ".per_second' is required");
  auto n = as_number(*ps, std::string(key) + ".per_second", 0.001, 1e6);
  if (!n) return n.error();
  r.per_second = *n;
  r.burst = r.per_second;
  if (auto* b = (*obj)->if_contains("burst")) {
    auto bn = as_number(*b, std::string(key) + ".burst", 1, 1e6);
    if (!bn) return bn.error();
    r.burst = *bn;
  }
  if (r.burst < 1) r.burst = 1;
  return r;
}

Result<std::vector<std::int64_t>> parse_schedule_attr(const json::value& v, std::string_view key) {
  if (!v.is_array() || v.get_array().empty() || v.get_array().size() > 20) {
    return bad("Attribute '" + std::string(key) + "' must be an array of 1 to 20 delays in ms");
  }
  std::vector<std::int64_t> out;
  for (const auto& item : v.get_array()) {
    auto n = as_int(item, key, 1, std::int64_t{7} * 24 * 3600 * 1000);
    if (!n) return n.error();
    out.push_back(*n);
  }
  return out;
}

Result<std::string> parse_url(const json::value& v, std::string_view key) {
  auto s = as_string(v, key);
  if (!s) return s.error();
  if (!valid_http_url(*s)) {
    return Error::bad_request(codes::kInvalidUrl,
                              "Attribute '" + std::string(key) + "' must be an http(s) URL");
  }
  return s;
}

std::optional<Stage> stage_from(std::string_view name) {
  for (Stage s : {Stage::kPermissions, Stage::kFilter, Stage::kDelegates, Stage::kTranslate,
                  Stage::kRoutes, Stage::kWebhook}) {
    if (stage_name(s) == name) return s;
  }
  return std::nullopt;
}

bool valid_principal(std::string_view p) { return p == "account" || p == "token" || p == "system"; }

}  // namespace

std::string_view stage_name(Stage s) {
  switch (s) {
    case Stage::kPermissions:
      return "permissions";
    case Stage::kFilter:
      return "filter";
    case Stage::kDelegates:
      return "delegates";
    case Stage::kTranslate:
      return "translate";
    case Stage::kRoutes:
      return "routes";
    case Stage::kWebhook:
      return "webhook";
  }
  return "?";
}

const std::vector<Stage>& default_order() {
  static const std::vector<Stage> kOrder{Stage::kPermissions, Stage::kFilter, Stage::kDelegates,
                                         Stage::kTranslate,   Stage::kRoutes, Stage::kWebhook};
  return kOrder;
}

bool Condition::matches(const json::object& body) const {
  for (const auto& [path, expected] : equals) {
    const json::value* v = find_path(body, path);
    if (!v) return false;
    // Numbers compare by value whatever their JSON representation.
    if (v->is_number() && expected.is_number()) {
      if (v->to_number<double>() != expected.to_number<double>()) return false;
    } else if (*v != expected) {
      return false;
    }
  }
  return true;
}

bool type_matches(std::string_view pattern, std::string_view type) {
  // Iterative glob with backtracking on the last '*'.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < type.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == type[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool Filter::passes(const json::object& body) const {
  if (!when.matches(body)) return true;
  if (!types.empty()) {
    const auto* t = body.if_contains("type");
    const std::string_view type = t && t->is_string() ? std::string_view(t->get_string()) : "";
    bool any = false;
    for (const auto& p : types) any = any || type_matches(p, type);
    if (!any) return false;
  }
  return where.matches(body);
}

bool Permissions::may_publish(std::string_view kind) const {
  for (const auto& p : publish) {
    if (p == kind) return true;
  }
  return false;
}
bool Permissions::may_subscribe(std::string_view kind) const {
  for (const auto& p : subscribe) {
    if (p == kind) return true;
  }
  return false;
}

Result<json::value> parse_attributes_text(std::string_view text) {
  if (text.empty()) return json::value(json::object());
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return bad("Attributes is not valid JSON: " + ec.message());
  if (!v.is_object()) return bad("Attributes must be a JSON object");
  return v;
}

Result<ChannelAttributes> parse_channel_attributes(const json::value& value) {
  ChannelAttributes a;
  if (value.is_null()) return a;
  auto objr = as_object(value, "Attributes");
  if (!objr) return objr.error();
  const json::object& obj = **objr;
  if (auto s =
          only_keys(obj, "",
                    {"permissions", "filter", "delegates", "delegates_mode", "translate", "routes",
                     "publish_to_parent", "webhook", "order", "history", "rate_limit"});
      !s) {
    return s.error();
  }
  a.raw = obj;
  if (auto* v = obj.if_contains("permissions")) {
    auto o = as_object(*v, "permissions");
    if (!o) return o.error();
    if (auto s = only_keys(**o, "permissions", {"publish", "subscribe"}); !s) return s.error();
    for (auto [key, target] : {std::pair{"publish", &a.permissions.publish},
                               std::pair{"subscribe", &a.permissions.subscribe}}) {
      if (auto* l = (*o)->if_contains(key)) {
        auto list = as_string_list(*l, std::string("permissions.") + key);
        if (!list) return list.error();
        for (const auto& p : *list) {
          if (!valid_principal(p)) {
            return bad("Attribute 'permissions." + std::string(key) + "' has unknown principal '" +
                       p + "' (account, token, system)");
          }
        }
        *target = std::move(*list);
      }
    }
  }
  if (auto* v = obj.if_contains("filter")) {
    auto f = parse_filter(*v, "filter");
    if (!f) return f.error();
    a.filter = std::move(*f);
  }
  if (auto* v = obj.if_contains("delegates")) {
    if (!v->is_array()) return bad("Attribute 'delegates' must be an array");
    if (v->get_array().size() > kMaxDelegates) {
      return bad("Attribute 'delegates' has more than 8 items");
    }
    for (const auto& item : v->get_array()) {
      auto o = as_object(item, "delegates[]");
      if (!o) return o.error();
      if (auto s = only_keys(**o, "delegates[]", {"url", "timeout_ms", "on_failure", "when"}); !s) {
        return s.error();
      }
      Delegate d;
      auto* url = (*o)->if_contains("url");
      if (!url) return bad("Attribute 'delegates[].url' is required");
      auto u = parse_url(*url, "delegates[].url");
      if (!u) return u.error();
      d.url = std::move(*u);
      if (auto* t = (*o)->if_contains("timeout_ms")) {
        auto n = as_int(*t, "delegates[].timeout_ms", 1, 30000);
        if (!n) return n.error();
        d.timeout_ms = *n;
      }
      if (auto* f = (*o)->if_contains("on_failure")) {
        auto s = as_string(*f, "delegates[].on_failure");
        if (!s) return s.error();
        if (*s != "pass" && *s != "drop") {
          return bad("Attribute 'delegates[].on_failure' must be 'pass' or 'drop'");
        }
        d.drop_on_failure = *s == "drop";
      }
      if (auto* w = (*o)->if_contains("when")) {
        auto c = parse_condition(*w, "delegates[].when");
        if (!c) return c.error();
        d.when = std::move(*c);
      }
      a.delegates.push_back(std::move(d));
    }
  }
  if (auto* v = obj.if_contains("delegates_mode")) {
    auto s = as_string(*v, "delegates_mode");
    if (!s) return s.error();
    if (*s != "sequence" && *s != "parallel") {
      return bad("Attribute 'delegates_mode' must be 'sequence' or 'parallel'");
    }
    a.delegates_parallel = *s == "parallel";
  }
  if (auto* v = obj.if_contains("translate")) {
    auto o = as_object(*v, "translate");
    if (!o) return o.error();
    if (auto s = only_keys(**o, "translate", {"select", "rename", "set", "when"}); !s) {
      return s.error();
    }
    if (auto* sel = (*o)->if_contains("select")) {
      auto list = as_string_list(*sel, "translate.select");
      if (!list) return list.error();
      for (const auto& p : *list) {
        if (!valid_path(p)) {
          return bad("Attribute 'translate.select' has an invalid path '" + p + "'");
        }
      }
      a.translate.select = std::move(*list);
    }
    if (auto* ren = (*o)->if_contains("rename")) {
      auto ro = as_object(*ren, "translate.rename");
      if (!ro) return ro.error();
      for (const auto& kv : **ro) {
        auto to = as_string(kv.value(), "translate.rename", 256);
        if (!to) return to.error();
        if (!valid_path(kv.key()) || !valid_path(*to)) {
          return bad("Attribute 'translate.rename' has an invalid path");
        }
        a.translate.rename.emplace_back(std::string(kv.key()), std::move(*to));
      }
    }
    if (auto* set = (*o)->if_contains("set")) {
      auto so = as_object(*set, "translate.set");
      if (!so) return so.error();
      for (const auto& kv : **so) {
        if (!valid_path(kv.key())) return bad("Attribute 'translate.set' has an invalid path");
        a.translate.set.emplace_back(std::string(kv.key()), kv.value());
      }
    }
    if (auto* w = (*o)->if_contains("when")) {
      auto c = parse_condition(*w, "translate.when");
      if (!c) return c.error();
      a.translate.when = std::move(*c);
    }
  }
  if (auto* v = obj.if_contains("routes")) {
    if (!v->is_array()) return bad("Attribute 'routes' must be an array");
    if (v->get_array().size() > kMaxRoutes) return bad("Attribute 'routes' has more than 16 items");
    for (const auto& item : v->get_array()) {
      auto o = as_object(item, "routes[]");
      if (!o) return o.error();
      if (auto s = only_keys(**o, "routes[]", {"to", "when"}); !s) return s.error();
      Route r;
      auto* to = (*o)->if_contains("to");
      if (!to) return bad("Attribute 'routes[].to' is required");
      auto name = as_string(*to, "routes[].to", 128);
      if (!name) return name.error();
      if (auto s = validate_channel_name(*name); !s) {
        return bad("Attribute 'routes[].to': " + s.error().message);
      }
      r.to = std::move(*name);
      if (auto* w = (*o)->if_contains("when")) {
        auto c = parse_condition(*w, "routes[].when");
        if (!c) return c.error();
        r.when = std::move(*c);
      }
      a.routes.push_back(std::move(r));
    }
  }
  if (auto* v = obj.if_contains("publish_to_parent")) {
    auto b = as_bool(*v, "publish_to_parent");
    if (!b) return b.error();
    a.publish_to_parent = *b;
  }
  if (auto* v = obj.if_contains("webhook")) {
    auto o = as_object(*v, "webhook");
    if (!o) return o.error();
    if (auto s = only_keys(**o, "webhook", {"url", "secret", "when"}); !s) return s.error();
    ChannelWebhook w;
    auto* url = (*o)->if_contains("url");
    if (!url) return bad("Attribute 'webhook.url' is required");
    auto u = parse_url(*url, "webhook.url");
    if (!u) return u.error();
    w.url = std::move(*u);
    if (auto* s = (*o)->if_contains("secret")) {
      auto sec = as_string(*s, "webhook.secret", 256);
      if (!sec) return sec.error();
      if (sec->rfind("whsec_", 0) != 0) {
        return bad("Attribute 'webhook.secret' must start with whsec_");
      }
      w.secret = std::move(*sec);
    }
    if (auto* c = (*o)->if_contains("when")) {
      auto cond = parse_condition(*c, "webhook.when");
      if (!cond) return cond.error();
      w.when = std::move(*cond);
    }
    a.webhook = std::move(w);
  }
  if (auto* v = obj.if_contains("order")) {
    auto list = as_string_list(*v, "order");
    if (!list) return list.error();
    std::vector<Stage> order;
    for (const auto& name : *list) {
      auto s = stage_from(name);
      if (!s) return bad("Attribute 'order' has unknown stage '" + name + "'");
      for (Stage seen : order) {
        if (seen == *s) return bad("Attribute 'order' lists '" + name + "' twice");
      }
      order.push_back(*s);
    }
    // Stages left out run afterwards in their default order: nothing is skipped by omission.
    for (Stage s : default_order()) {
      bool listed = false;
      for (Stage o : order) listed = listed || o == s;
      if (!listed) order.push_back(s);
    }
    a.order = std::move(order);
  }
  if (auto* v = obj.if_contains("history")) {
    auto o = as_object(*v, "history");
    if (!o) return o.error();
    if (auto s = only_keys(**o, "history", {"max_events", "max_age_s"}); !s) return s.error();
    if (auto* n = (*o)->if_contains("max_events")) {
      auto i = as_int(*n, "history.max_events", 0, 1'000'000);
      if (!i) return i.error();
      a.history.max_events = *i;
    }
    if (auto* n = (*o)->if_contains("max_age_s")) {
      auto i = as_int(*n, "history.max_age_s", 0, std::int64_t{365} * 86400);
      if (!i) return i.error();
      a.history.max_age_s = *i;
    }
  }
  if (auto* v = obj.if_contains("rate_limit")) {
    auto r = parse_rate_limit(*v, "rate_limit");
    if (!r) return r.error();
    a.rate_limit = *r;
  }
  return a;
}

Result<SubscriberAttributes> parse_subscriber_attributes(const json::value& value) {
  SubscriberAttributes a;
  if (value.is_null()) return a;
  auto objr = as_object(value, "Attributes");
  if (!objr) return objr.error();
  const json::object& obj = **objr;
  if (auto s =
          only_keys(obj, "", {"filter", "rate_limit", "queue", "retry_schedule_ms", "timeout_ms"});
      !s) {
    return s.error();
  }
  a.raw = obj;
  if (auto* v = obj.if_contains("filter")) {
    auto f = parse_filter(*v, "filter");
    if (!f) return f.error();
    a.filter = std::move(*f);
  }
  if (auto* v = obj.if_contains("rate_limit")) {
    auto r = parse_rate_limit(*v, "rate_limit");
    if (!r) return r.error();
    a.rate_limit = *r;
  }
  if (auto* v = obj.if_contains("queue")) {
    auto o = as_object(*v, "queue");
    if (!o) return o.error();
    if (auto s = only_keys(**o, "queue", {"max_events", "overflow"}); !s) return s.error();
    if (auto* n = (*o)->if_contains("max_events")) {
      auto i = as_int(*n, "queue.max_events", 1, 100'000);
      if (!i) return i.error();
      a.queue_max = static_cast<std::size_t>(*i);
    }
    if (auto* n = (*o)->if_contains("overflow")) {
      auto s = as_string(*n, "queue.overflow");
      if (!s) return s.error();
      if (*s == "disconnect") {
        a.overflow = Overflow::kDisconnect;
      } else if (*s == "drop_oldest") {
        a.overflow = Overflow::kDropOldest;
      } else {
        return bad("Attribute 'queue.overflow' must be 'disconnect' or 'drop_oldest'");
      }
    }
  }
  if (auto* v = obj.if_contains("retry_schedule_ms")) {
    auto s = parse_schedule_attr(*v, "retry_schedule_ms");
    if (!s) return s.error();
    a.retry_schedule_ms = std::move(*s);
  }
  if (auto* v = obj.if_contains("timeout_ms")) {
    auto n = as_int(*v, "timeout_ms", 100, 60000);
    if (!n) return n.error();
    a.timeout_ms = *n;
  }
  return a;
}

Status validate_channel_name(std::string_view name) {
  auto fail = [&](std::string why) {
    return Error::bad_request(
        codes::kInvalidParameter,
        "Invalid channel name '" + std::string(name.substr(0, 140)) + "': " + why);
  };
  if (name.empty() || name.size() > 128) return fail("1 to 128 characters");
  if (is_sid(name, "CH")) return fail("a channel SID cannot be a name");
  int segments = 1;
  char prev = '.';
  for (char c : name) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-';
    if (c == '.') {
      if (prev == '.') return fail("empty segment");
      ++segments;
    } else if (!word) {
      return fail("only letters, digits, '_', '-' and '.' separators");
    }
    prev = c;
  }
  if (prev == '.') return fail("empty segment");
  if (segments > 8) return fail("at most 8 segments");
  return Ok{};
}

std::optional<std::string> parent_name(std::string_view name) {
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  return std::string(name.substr(0, dot));
}

bool valid_http_url(std::string_view url) {
  if (url.size() > 2048) return false;
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u) return false;
  return (u->scheme() == "http" || u->scheme() == "https") && !u->host().empty();
}

std::vector<std::int64_t> parse_schedule(std::string_view text) {
  // The limits of a subscriber's retry_schedule_ms attribute: 1 to 20 delays of 1 ms to 7 days.
  constexpr std::size_t kMaxDelays = 20;
  constexpr std::int64_t kMaxDelayMs = std::int64_t{7} * 24 * 3600 * 1000;
  std::vector<std::int64_t> out;
  text = trim(text);
  if (text.empty()) return out;
  if (text.back() == ',') text.remove_suffix(1);  // one trailing comma is allowed
  for (bool more = true; more;) {
    const auto comma = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    more = comma != std::string_view::npos;
    text = more ? text.substr(comma + 1) : std::string_view();
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
    if (ec != std::errc() || n < 0 || out.size() == kMaxDelays) return {};
    const std::string_view unit = item.substr(static_cast<std::size_t>(p - item.data()));
    std::int64_t mult = 1;
    if (unit.empty() || unit == "ms") {
      mult = 1;
    } else if (unit == "s") {
      mult = 1000;
    } else if (unit == "m") {
      mult = 60'000;
    } else if (unit == "h") {
      mult = 3'600'000;
    } else {
      return {};
    }
    if (n < 1 || n > kMaxDelayMs / mult) return {};  // 0 would retry at once; no overflow
    out.push_back(n * mult);
  }
  return out;
}

}  // namespace sb::events
