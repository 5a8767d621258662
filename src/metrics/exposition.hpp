// The Prometheus text exposition format (version 0.0.4), written one family at a time: a
// family's HELP and TYPE come once, then its samples; names and label values are checked and
// escaped here so that no module writes metric text by hand.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace sb::metrics {

enum class Kind { kCounter, kGauge, kHistogram };

struct Label {
  std::string_view name;
  std::string_view value;
};
using Labels = std::initializer_list<Label>;

class Exposition {
 public:
  // Starts a family. Names use base units (seconds, bytes) and counters end in _total, as
  // Prometheus' own linter (promtool check metrics) wants; a name that breaks the text format's
  // grammar is a programming error (assert).
  void family(std::string_view name, std::string_view help, Kind kind);

  // A counter or gauge sample of the current family.
  void sample(double value, Labels labels = {});
  void sample(std::uint64_t value, Labels labels = {});

  // A histogram sample of the current family: `bounds` are the finite upper bounds (ascending),
  // `counts` the non-cumulative count per bound, `count` and `sum` over all observations.
  void histogram(std::span<const double> bounds, std::span<const std::uint64_t> counts,
                 std::uint64_t count, double sum, Labels labels = {});

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void line(std::string_view suffix, Labels labels,
            std::pair<std::string_view, std::string_view> extra, std::string_view value);

  std::string out_;
  std::string family_;
  Kind kind_ = Kind::kGauge;
};

// A number as the text format writes it ("+Inf", "NaN", shortest round-trip otherwise).
std::string format_value(double value);

// True when `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*.
bool valid_metric_name(std::string_view name);

}  // namespace sb::metrics
