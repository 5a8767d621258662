// Parses and validates a TwiML document (pugixml), reporting Twilio's error numbers.
#pragma once

#include <string_view>

#include "twiml/document.hpp"

namespace sb::twiml {

struct ParseLimits {
  std::size_t max_bytes = 64 * 1024;  // Twilio's TwiML size limit
  std::size_t max_verbs = 1000;
  std::size_t max_depth = 8;
};

// Never throws; a document that cannot be parsed comes back with a 12100 error and no verbs.
Document parse(std::string_view xml, const ParseLimits& limits = {});

}  // namespace sb::twiml
