// libFuzzer target for sb::twiml::parse (and the lint formatter): any input must come back as a
// Document without crashing, hanging or leaking, and a 12100 failure must carry no verbs.
// Not wired into CMake; build and run as described in tests/fuzz/README.md.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "twiml/lint.hpp"
#include "twiml/parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const sb::twiml::Document doc = sb::twiml::parse(input);
  bool parse_failure = false;
  for (const auto& d : doc.diagnostics) {
    if (d.code <= 0 || d.message.empty()) std::abort();
    parse_failure = parse_failure || d.code == 12100;
    (void)sb::twiml::format_diagnostic("fuzz.xml", d);
  }
  if (parse_failure && !doc.verbs.empty()) std::abort();
  return 0;
}
