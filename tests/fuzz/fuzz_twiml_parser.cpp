// libFuzzer target: sb::twiml::parse on arbitrary bytes, as webhook bodies are, and the lint
// formatter. Any crash, hang, leak or sanitizer report is a bug, as is a result that breaks the
// parser's promises: every diagnostic has a code and a message, a 12100 failure has no verbs,
// and a document that the strict XML check accepts is one pugixml can build a tree from.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <pugixml.hpp>
#include <string>
#include <string_view>

#include "twiml/lint.hpp"
#include "twiml/parser.hpp"
#include "twiml/xml_check.hpp"

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

  if (!sb::twiml::check_well_formed(input)) {
    // Well-formed: pugixml must agree, or the parser would report its error instead.
    std::string buffer(input);
    pugi::xml_document xml;
    const unsigned options = pugi::parse_default | pugi::parse_declaration | pugi::parse_fragment;
    if (!xml.load_buffer(buffer.data(), buffer.size(), options, pugi::encoding_utf8)) std::abort();
  }
  return 0;
}
