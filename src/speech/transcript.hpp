// Text around recognition: Gather's hints attribute split into phrases, and the transcript as
// Twilio returns it (lower-case words, profanities masked as "f***").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sb::speech {

inline constexpr std::size_t kMaxHints = 500;            // Twilio: up to 500 phrases
inline constexpr std::size_t kMaxHintPhraseChars = 100;  // Twilio: 100 characters each

// "yes, no , billing department" -> {"yes", "no", "billing department"}: split on commas,
// trimmed, empty entries and entries beyond the limits dropped.
std::vector<std::string> parse_hints(std::string_view hints);

// The words of a phrase, lower-cased, keeping letters, digits and apostrophes ("Don't stop!"
// -> {"don't", "stop"}); other characters separate words.
std::vector<std::string> words_of(std::string_view phrase);

// Each profane word kept to its first letter followed by asterisks ("fucking" -> "f******"), as
// Twilio's ProfanityFilter does; everything else unchanged.
std::string mask_profanities(std::string_view text);

}  // namespace sb::speech
