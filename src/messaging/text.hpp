// What a message's text is made of, as carriers count it: UTF-8 checks, characters, and the
// segments (GSM-7: 160 septets alone, 153 per part; UCS-2: 70 units alone, 67 per part) that
// become num_segments; and the opt-out keywords Twilio honours by default.
#pragma once

#include <cstddef>
#include <string_view>

namespace sb::messaging {

// Twilio's limit for one message's body, in characters.
inline constexpr std::size_t kMaxBodyCharacters = 1600;

// Whether `text` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool valid_utf8(std::string_view text);
// Unicode code points in well-formed UTF-8 `text`.
std::size_t characters(std::string_view text);

struct Segments {
  bool gsm7 = true;       // every character is in the GSM 03.38 alphabet (or its extension)
  std::size_t units = 0;  // septets (GSM-7) or UTF-16 code units (UCS-2)
  std::size_t count = 1;  // segments; an empty body is one
};
// The encoding and segment count of well-formed UTF-8 `text`.
Segments segments(std::string_view text);

enum class OptKeyword { kNone, kOptOut, kOptIn, kHelp };
// A body that is exactly one of Twilio's default keywords (case and surrounding space ignored):
// STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT opt out; START, YES, UNSTOP opt
// back in; HELP, INFO ask for help.
OptKeyword opt_keyword(std::string_view body);
// Twilio's name of the keyword's kind, sent as OptOutType: STOP, START, HELP ("" for none).
std::string_view opt_out_type(OptKeyword keyword);

}  // namespace sb::messaging
