// Lints TwiML documents: read (bounded), parse, print each diagnostic and a summary.
#include "twiml/lint.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <system_error>

#include "twiml/messaging_document.hpp"

namespace sb::twiml {
namespace {

// Reads at most `limit` bytes: enough for the parser to see that a document is too large
// without holding an arbitrarily large file (or /dev/zero) in memory.
std::optional<std::string> read_bounded(std::istream& in, std::size_t limit) {
  std::string data;
  char chunk[8192];
  while (data.size() < limit && in) {
    const std::size_t want = std::min(sizeof chunk, limit - data.size());
    in.read(chunk, static_cast<std::streamsize>(want));
    data.append(chunk, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return std::nullopt;
  return data;
}

std::string plural(std::size_t n, std::string_view word) {
  std::string s = std::to_string(n) + " " + std::string(word);
  if (n != 1) s += 's';
  return s;
}

}  // namespace

std::string format_diagnostic(std::string_view file, const Diagnostic& d) {
  std::string s(file);
  s += ':' + std::to_string(d.line) + ':' + std::to_string(d.column) + ": ";
  s += d.level == Level::kError ? "error " : "warning ";
  s += std::to_string(d.code) + ": " + d.message;
  return s;
}

std::vector<Diagnostic> lint_text(std::string_view text, Dialect dialect,
                                  const ParseLimits& limits) {
  return dialect == Dialect::kMessaging ? parse_messaging(text, limits).diagnostics
                                        : parse(text, limits).diagnostics;
}

int lint_files(const std::vector<std::string>& files, std::ostream& out, std::istream& in,
               const ParseLimits& limits, Dialect dialect) {
  // One byte past the limit is enough for parse() to report the oversize document.
  const std::size_t read_limit = limits.max_bytes + 1;
  std::size_t errors = 0, warnings = 0, failed_documents = 0, unreadable = 0;
  for (const std::string& file : files) {
    std::optional<std::string> text;
    std::string shown = file;
    std::string reason;
    if (file == "-") {
      shown = "<stdin>";
      text = read_bounded(in, read_limit);
    } else if (std::error_code ec; std::filesystem::is_directory(file, ec)) {
      reason = "is a directory";
    } else {
      errno = 0;
      std::ifstream f(file, std::ios::binary);
      if (f) text = read_bounded(f, read_limit);
      if (!text) reason = std::strerror(errno != 0 ? errno : EIO);
    }
    if (!text) {
      out << shown << ": cannot read: " << (reason.empty() ? "read error" : reason) << "\n";
      ++unreadable;
      continue;
    }
    const std::vector<Diagnostic> diagnostics = lint_text(*text, dialect, limits);
    bool failed = false;
    for (const Diagnostic& d : diagnostics) {
      out << format_diagnostic(shown, d) << "\n";
      (d.level == Level::kError ? errors : warnings) += 1;
      failed = failed || d.level == Level::kError;
    }
    if (failed) ++failed_documents;
  }
  out << plural(files.size() - unreadable, "document") << " checked: " << plural(errors, "error")
      << ", " << plural(warnings, "warning");
  if (unreadable > 0) out << ", " << plural(unreadable, "unreadable file");
  out << "\n";
  if (unreadable > 0) return kLintUnreadable;
  return failed_documents > 0 ? kLintErrors : kLintClean;
}

}  // namespace sb::twiml
