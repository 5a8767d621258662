#include "metrics/exposition.hpp"

#include <cassert>
#include <charconv>
#include <cmath>

namespace sb::metrics {
namespace {

[[maybe_unused]] bool valid_label_name(std::string_view name) {  // asserts only
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

void append_escaped(std::string& out, std::string_view value, bool label) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && label) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Plain decimals where they stay short (0.0005, not 5e-04), scientific beyond.
  const double magnitude = std::fabs(value);
  const bool fixed = magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e15);
  char buf[400];
  auto [end, ec] = fixed ? std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed)
                         : std::to_chars(buf, buf + sizeof buf, value);
  return ec == std::errc{} ? std::string(buf, end) : "NaN";
}

void Exposition::family(std::string_view name, std::string_view help, Kind kind) {
  assert(valid_metric_name(name));
  assert(kind != Kind::kCounter || name.ends_with("_total"));
  family_.assign(name);
  kind_ = kind;
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_escaped(out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += kind == Kind::kCounter ? " counter\n"
          : kind == Kind::kGauge ? " gauge\n"
                                 : " histogram\n";
}

void Exposition::line(std::string_view suffix, Labels labels,
                      std::pair<std::string_view, std::string_view> extra, std::string_view value) {
  out_ += family_;
  out_ += suffix;
  if (labels.size() > 0 || !extra.first.empty()) {
    out_ += '{';
    bool first = true;
    auto add = [&](std::string_view n, std::string_view v) {
      assert(valid_label_name(n));
      if (!first) out_ += ',';
      first = false;
      out_ += n;
      out_ += "=\"";
      append_escaped(out_, v, true);
      out_ += '"';
    };
    for (const Label& l : labels) add(l.name, l.value);
    if (!extra.first.empty()) add(extra.first, extra.second);
    out_ += '}';
  }
  out_ += ' ';
  out_ += value;
  out_ += '\n';
}

void Exposition::sample(double value, Labels labels) {
  assert(!family_.empty() && kind_ != Kind::kHistogram);
  line("", labels, {}, format_value(value));
}

void Exposition::sample(std::uint64_t value, Labels labels) {
  assert(!family_.empty() && kind_ != Kind::kHistogram);
  line("", labels, {}, std::to_string(value));
}

void Exposition::histogram(std::span<const double> bounds, std::span<const std::uint64_t> counts,
                           std::uint64_t count, double sum, Labels labels) {
  assert(kind_ == Kind::kHistogram && bounds.size() == counts.size());
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    cumulative += counts[i];
    line("_bucket", labels, {"le", format_value(bounds[i])}, std::to_string(cumulative));
  }
  line("_bucket", labels, {"le", "+Inf"}, std::to_string(count));
  line("_sum", labels, {}, format_value(sum));
  line("_count", labels, {}, std::to_string(count));
}

}  // namespace sb::metrics
