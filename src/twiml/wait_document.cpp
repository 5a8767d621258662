// 13238: the verbs a wait URL document may not contain.
#include "twiml/wait_document.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

namespace sb::twiml {
namespace {

constexpr int kInvalidVerbInWaitUrl = 13238;

}  // namespace

void check_wait_document(Document& doc) {
  for (const Verb& verb : doc.verbs) {
    if (std::holds_alternative<Say>(verb) || std::holds_alternative<Play>(verb) ||
        std::holds_alternative<Pause>(verb) || std::holds_alternative<Redirect>(verb)) {
      continue;
    }
    const Position at = std::visit([](const auto& v) { return v.at; }, verb);
    doc.diagnostics.push_back(
        Diagnostic{kInvalidVerbInWaitUrl, Level::kError, at.line, at.column,
                   std::string("Dial->Conference: Invalid verb <") + verb_name(verb) +
                       "> in waitUrl TwiML (only Say, Play, Pause and Redirect)"});
  }
  std::stable_sort(
      doc.diagnostics.begin(), doc.diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
        auto key = [](const Diagnostic& d) {  // unknown positions (line 0) last
          return std::pair(d.line == 0 ? std::numeric_limits<int>::max() : d.line, d.column);
        };
        return key(a) < key(b);
      });
}

}  // namespace sb::twiml
