// `switchboard twiml lint`: parses TwiML files and prints their diagnostics like a compiler.
#pragma once

#include <istream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "twiml/document.hpp"
#include "twiml/parser.hpp"

namespace sb::twiml {

// Exit statuses of lint_files.
inline constexpr int kLintClean = 0;       // no document has errors (warnings are fine)
inline constexpr int kLintErrors = 1;      // some document has an error: Twilio would not run it
inline constexpr int kLintUnreadable = 2;  // some file could not be read

// Which TwiML a document is: a call's (parse) or a reply to a message (parse_messaging).
enum class Dialect { kVoice, kMessaging };

// "FILE:LINE:COLUMN: error|warning CODE: message"
std::string format_diagnostic(std::string_view file, const Diagnostic& d);

// The diagnostics of one document, as lint_files prints them.
std::vector<Diagnostic> lint_text(std::string_view text, Dialect dialect,
                                  const ParseLimits& limits = {});

// Lints each file ("-" reads `in`) as `dialect`, printing diagnostics and a summary to `out`.
int lint_files(const std::vector<std::string>& files, std::ostream& out, std::istream& in,
               const ParseLimits& limits = {}, Dialect dialect = Dialect::kVoice);

}  // namespace sb::twiml
