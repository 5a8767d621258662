// What the TwiML parsers share (voice: parser.cpp, messaging: messaging_parser.cpp): reading a
// document strictly into a pugixml tree up to its <Response>, source positions, diagnostics and
// the attribute and content readers. Internal to the twiml module: it exposes pugixml.
#pragma once

#include <pugixml.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "twiml/document.hpp"
#include "twiml/parser.hpp"

namespace sb::twiml::detail {

// Twilio error numbers that both parsers report.
inline constexpr int kDocumentParseFailure = 12100;
inline constexpr int kInvalidVersion = 12101;
inline constexpr int kRootNotResponse = 12102;
inline constexpr int kSchemaWarning = 12200;
inline constexpr int kInvalidUrlFormat = 11100;
inline constexpr int kRedirectInvalidMethod = 13710;
inline constexpr int kSmsInvalidTo = 14101;
inline constexpr int kSmsInvalidFrom = 14102;
inline constexpr int kSmsInvalidBody = 14103;
inline constexpr int kSmsInvalidMethod = 14104;
inline constexpr int kSmsInvalidStatusCallback = 14105;

// A non-owning list of names: a braced list at a call site, or one of the constexpr tables.
class Names {
 public:
  // Only ever a parameter: the braced list outlives the call it is passed to.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
#endif
  Names(std::initializer_list<std::string_view> names)  // NOLINT(google-explicit-constructor)
      : begin_(names.begin()), end_(names.end()) {}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  template <std::size_t N>
  constexpr Names(
      const std::array<std::string_view, N>& names)  // NOLINT(google-explicit-constructor)
      : begin_(names.data()), end_(names.data() + N) {}
  const std::string_view* begin() const { return begin_; }
  const std::string_view* end() const { return end_; }

 private:
  const std::string_view* begin_;
  const std::string_view* end_;
};

// ---------- small string helpers (ASCII only: TwiML names and keywords are ASCII) ----------

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
constexpr bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool contains(Names names, std::string_view s);

// True when `name` differs from one of `known` only in case; `match` receives that one.
bool is_wrong_case(std::string_view name, Names known, std::string_view* match = nullptr);

// Code points in a UTF-8 string (continuation bytes are not counted).
std::size_t utf8_length(std::string_view s);

// Quotes a value for a message, shortened so a huge attribute cannot flood the output.
// (Sources compiled in unity batches call it qualified, detail::quoted: by argument-dependent
// lookup std::quoted would win for a std::string argument wherever <iomanip> is included.)
std::string quoted(std::string_view v);

// An element or attribute name for a message, shortened like quoted().
std::string clip(std::string_view name);

bool has_control_or_space(std::string_view s);

// "GET" or "POST" (any case), canonical; nullopt otherwise.
std::optional<std::string> parse_method(std::string_view s);

// Relative or absolute URL; absolute ones must use one of the schemes and name a host.
bool is_url(std::string_view u, Names schemes);
bool is_http_url(std::string_view u);

// Direct text children of an element, trimmed.
std::string text_of(pugi::xml_node el);

// ---------- byte offsets to line:column ----------

class SourceMap {
 public:
  explicit SourceMap(std::string_view text);

  // 1-based line and column (in code points) of a byte offset.
  Position at(std::size_t offset) const;

 private:
  std::vector<std::size_t> line_starts_;
  std::vector<std::uint32_t> code_points_;
};

// ---------- the reader ----------

// The base of a parser: the parser calls open_response(), builds its verbs from the element it
// returns with the readers below (which report with Twilio's numbers), then takes the
// diagnostics.
class ResponseReader {
 public:
  ResponseReader(std::string_view source, const ParseLimits& limits);
  ResponseReader(const ResponseReader&) = delete;
  ResponseReader& operator=(const ResponseReader&) = delete;

 protected:
  ~ResponseReader() = default;

  // The document's <Response>, or an empty node when there is none to build from: the document
  // is empty, too large or not well-formed XML (12100), its root is another element (12102) or
  // it holds too many or too deeply nested elements (12100). Also checks the declared encoding
  // and <Response>'s attributes (version: 12101).
  pugi::xml_node open_response();

  // The diagnostics in source order (unknown positions last), with a count of any dropped.
  std::vector<Diagnostic> take_diagnostics();

  const ParseLimits& limits() const { return limits_; }

  // Diagnostics. Past a bound further warnings are only counted (errors are always kept).
  void report(int code, Level level, Position at, std::string message);
  void warn(int code, Position at, std::string message) {
    report(code, Level::kWarning, at, std::move(message));
  }
  void error(int code, Position at, std::string message) {
    report(code, Level::kError, at, std::move(message));
  }

  // Positions: of an element's '<', of an attribute's name.
  Position pos(pugi::xml_node node) const;
  Position pos(pugi::xml_attribute attr, pugi::xml_node owner) const;

  // Attributes: unknown and wrong-case names (12200, ignored), then typed readers. A reader
  // leaves `out` as it is when the attribute is absent or invalid (reported with `code`) and
  // returns whether it set `out`.
  void check_attributes(pugi::xml_node el, std::string_view what, Names known,
                        Names also_known = {});
  void read_string(pugi::xml_node el, const char* name, std::string& out);
  bool read_method(pugi::xml_node el, const char* name, std::string& out, std::string_view what,
                   int code, Level level = Level::kWarning);
  bool read_url(pugi::xml_node el, const char* name, std::string& out, std::string_view what,
                int code, Level level, bool allow_empty);

  // Content: an unexpected child is a 12200 warning and ignored; no_children reports the
  // element children (and, unless allowed, the text) of an element that takes none.
  void unexpected_child(pugi::xml_node child, std::string_view what);
  void no_children(pugi::xml_node el, std::string_view what, bool allow_text);

 private:
  Position pos_offset(std::size_t offset) const { return map_.at(offset); }
  bool parse_xml();
  void check_encoding();
  bool check_shape(pugi::xml_node root);
  void check_response(pugi::xml_node root);

  std::string_view source_;
  const ParseLimits& limits_;
  SourceMap map_;
  std::string buffer_;  // pugixml parses in place here, so node names point into it
  pugi::xml_document xml_;
  std::vector<Diagnostic> diagnostics_;
  std::size_t warnings_dropped_ = 0;
};

}  // namespace sb::twiml::detail
