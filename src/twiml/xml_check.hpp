// Strict XML 1.0 well-formedness check of a TwiML document, run before pugixml builds the tree:
// pugixml accepts, by design, documents that are not XML and that Twilio rejects with 12100.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sb::twiml {

struct XmlSyntaxError {
  std::size_t offset = 0;  // byte offset of the offending construct in the document
  std::string message;     // what is wrong, without the position
};

// nullopt when `text` is a well-formed XML 1.0 document in UTF-8 (an optional BOM, no DOCTYPE);
// otherwise the first violation in document order. Iterative: no recursion on input.
std::optional<XmlSyntaxError> check_well_formed(std::string_view text);

}  // namespace sb::twiml
