// Reading a TwiML document for the parsers: strict XML, the pugixml tree, positions, diagnostics.
//
// Well-formedness is XML 1.0's, checked strictly before pugixml runs (xml_check.hpp): pugixml
// alone accepts a bare '&', undefined entities, duplicate attributes and more, which Twilio
// rejects with 12100. A DOCTYPE is refused (12100) too. Only UTF-8 is read: a declared encoding
// other than UTF-8 gets a 12200 warning. "Too many verbs" counts every element below <Response>
// (verbs, nouns, SSML): any of them costs work, and the limit exists to bound it.
//
// This file is compiled in unity batches with the module's other sources, so its own calls of
// quoted() are qualified (see response_reader.hpp).
#include "twiml/response_reader.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "core/text.hpp"
#include "twiml/xml_check.hpp"

namespace sb::twiml::detail {
namespace {

// Past this many diagnostics further warnings are summarised (errors are always kept).
constexpr std::size_t kMaxReportedDiagnostics = 500;

}  // namespace

// ---------- small string helpers ----------

bool contains(Names names, std::string_view s) {
  return std::find(names.begin(), names.end(), s) != names.end();
}

bool is_wrong_case(std::string_view name, Names known, std::string_view* match) {
  for (std::string_view k : known) {
    if (k != name && iequals(k, name)) {
      if (match != nullptr) *match = k;
      return true;
    }
  }
  return false;
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string quoted(std::string_view v) {
  constexpr std::size_t kShown = 60;
  std::string out = "\"";
  if (v.size() <= kShown) {
    out += v;
  } else {
    std::size_t cut = kShown;
    while (cut > 0 && (static_cast<unsigned char>(v[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
    out += v.substr(0, cut);
    out += "…";
  }
  out += '"';
  return out;
}

std::string clip(std::string_view name) {
  std::string q = detail::quoted(name);
  return q.substr(1, q.size() - 2);
}

bool has_control_or_space(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7F;
  });
}

std::optional<std::string> parse_method(std::string_view s) {
  s = trim(s);
  if (iequals(s, "GET")) return std::string("GET");
  if (iequals(s, "POST")) return std::string("POST");
  return std::nullopt;
}

bool is_url(std::string_view u, Names schemes) {
  if (u.empty() || has_control_or_space(u)) return false;
  const std::size_t colon = u.find(':');
  const std::size_t delim = u.find_first_of("/?#");
  if (colon == std::string_view::npos || (delim != std::string_view::npos && delim < colon)) {
    return true;  // relative reference
  }
  const std::string_view scheme = u.substr(0, colon);
  if (scheme.empty() || !is_alpha(scheme[0])) return false;
  bool known = false;
  for (auto s : schemes) known = known || iequals(scheme, s);
  if (!known) return false;
  const std::string_view rest = u.substr(colon + 1);
  if (rest.size() < 3 || rest.substr(0, 2) != "//") return false;
  const char host_start = rest[2];
  return host_start != '/' && host_start != '?' && host_start != '#';
}

bool is_http_url(std::string_view u) { return is_url(u, {"http", "https"}); }

std::string text_of(pugi::xml_node el) {
  std::string text;
  for (pugi::xml_node n : el.children()) {
    if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) text += n.value();
  }
  return std::string(trim(text));
}

// ---------- byte offsets to line:column ----------

SourceMap::SourceMap(std::string_view text) : code_points_(text.size() + 1, 0) {
  line_starts_.push_back(0);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    code_points_[i + 1] =
        code_points_[i] + ((static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0);
    if (c == '\n' || (c == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))) {
      line_starts_.push_back(i + 1);
    }
  }
}

Position SourceMap::at(std::size_t offset) const {
  offset = std::min(offset, code_points_.size() - 1);
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  const std::size_t line = static_cast<std::size_t>(it - line_starts_.begin()) - 1;
  const std::size_t start = line_starts_[line];
  return {static_cast<int>(line + 1),
          static_cast<int>(code_points_[offset] - code_points_[start] + 1)};
}

// ---------- the reader ----------

ResponseReader::ResponseReader(std::string_view source, const ParseLimits& limits)
    : source_(source), limits_(limits), map_(source.substr(0, limits.max_bytes)) {}

pugi::xml_node ResponseReader::open_response() {
  if (!parse_xml()) return {};
  check_encoding();
  const pugi::xml_node root = xml_.document_element();
  if (std::string_view(root.name()) != "Response") {
    std::string message = "The root element must be Response, not <" + clip(root.name()) + ">";
    if (iequals(root.name(), "Response")) message += " (TwiML is case-sensitive)";
    error(kRootNotResponse, pos(root), std::move(message));
    return {};
  }
  if (!check_shape(root)) return {};
  check_response(root);
  return root;
}

std::vector<Diagnostic> ResponseReader::take_diagnostics() {
  if (warnings_dropped_ > 0) {
    diagnostics_.push_back(
        Diagnostic{kSchemaWarning, Level::kWarning, 0, 0,
                   std::to_string(warnings_dropped_) + " further warnings not shown"});
    warnings_dropped_ = 0;
  }
  // Source order; unknown positions (line 0) last.
  std::stable_sort(
      diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& a, const Diagnostic& b) {
        auto key = [](const Diagnostic& d) {
          return std::pair(d.line == 0 ? std::numeric_limits<int>::max() : d.line, d.column);
        };
        return key(a) < key(b);
      });
  return std::move(diagnostics_);
}

void ResponseReader::report(int code, Level level, Position at, std::string message) {
  if (level == Level::kWarning && diagnostics_.size() >= kMaxReportedDiagnostics) {
    ++warnings_dropped_;
    return;
  }
  diagnostics_.push_back(Diagnostic{code, level, at.line, at.column, std::move(message)});
}

Position ResponseReader::pos(pugi::xml_node node) const {
  const std::ptrdiff_t off = node.offset_debug();
  if (off < 0 || static_cast<std::size_t>(off) > source_.size()) return {};
  auto o = static_cast<std::size_t>(off);
  // For elements pugixml points at the name; report the '<' (or "<?") like an editor would.
  if (node.type() == pugi::node_element && o > 0 && source_[o - 1] == '<') --o;
  if (node.type() == pugi::node_declaration && o > 1 && source_.substr(o - 2, 2) == "<?") o -= 2;
  return pos_offset(o);
}

Position ResponseReader::pos(pugi::xml_attribute attr, pugi::xml_node owner) const {
  // Parsed in place, so the attribute name lies inside buffer_, at its source offset.
  const char* name = attr.name();
  const char* begin = buffer_.data();
  if (name >= begin && name < begin + buffer_.size()) {
    return pos_offset(static_cast<std::size_t>(name - begin));
  }
  return pos(owner);
}

bool ResponseReader::parse_xml() {
  if (trim(source_).empty()) {
    error(kDocumentParseFailure, {1, 1}, "Document parse failure: the document is empty");
    return false;
  }
  if (source_.size() > limits_.max_bytes) {
    error(kDocumentParseFailure, pos_offset(limits_.max_bytes),
          "Document parse failure: the document is larger than " +
              std::to_string(limits_.max_bytes) + " bytes");
    return false;
  }
  // pugixml is lenient (a bare '&', duplicate attributes, text after the root…): the strict
  // check decides what is XML, pugixml then only builds the tree.
  if (std::optional<XmlSyntaxError> bad = check_well_formed(source_)) {
    const Position at = pos_offset(bad->offset);
    error(kDocumentParseFailure, at,
          "Document parse failure: " + bad->message + " at line " + std::to_string(at.line) +
              ", column " + std::to_string(at.column));
    return false;
  }
  // Fragment mode keeps whatever lies outside the root element visible; the terminating NUL,
  // parsed with the rest, stops pugixml from eating the last character of trailing text when
  // it works in place.
  buffer_.assign(source_.data(), source_.size());
  buffer_.push_back('\0');
  const unsigned options = pugi::parse_default | pugi::parse_declaration | pugi::parse_fragment;
  const pugi::xml_parse_result result =
      xml_.load_buffer_inplace(buffer_.data(), buffer_.size(), options, pugi::encoding_utf8);
  if (!result) {
    const auto off = static_cast<std::size_t>(std::max<std::ptrdiff_t>(result.offset, 0));
    const Position at = pos_offset(off);
    error(kDocumentParseFailure, at,
          std::string("Document parse failure: ") + result.description() + " at line " +
              std::to_string(at.line) + ", column " + std::to_string(at.column));
    return false;
  }
  return true;
}

// Only UTF-8 is read: another declared encoding is a warning. (The declaration's place, and
// that the document holds exactly one element, were checked with the rest of the syntax.)
void ResponseReader::check_encoding() {
  for (pugi::xml_node n : xml_.children()) {
    if (n.type() != pugi::node_declaration) continue;
    if (pugi::xml_attribute enc = n.attribute("encoding")) {
      std::string_view e = trim(enc.value());
      if (!iequals(e, "UTF-8") && !iequals(e, "UTF8") && !iequals(e, "US-ASCII")) {
        warn(kSchemaWarning, pos(enc, n),
             "the document declares encoding " + detail::quoted(e) +
                 "; only UTF-8 is supported and "
                 "the bytes are read as UTF-8");
      }
    }
  }
}

// Bounds the work: elements below the root and their depth (iterative: no recursion on input).
bool ResponseReader::check_shape(pugi::xml_node root) {
  std::size_t depth = 1;  // the root element
  std::size_t elements = 0;
  pugi::xml_node n = root;
  while (true) {
    if (n.first_child()) {
      n = n.first_child();
      ++depth;
    } else {
      while (n != root && !n.next_sibling()) {
        n = n.parent();
        --depth;
      }
      if (n == root) break;
      n = n.next_sibling();
    }
    if (n.type() != pugi::node_element) continue;
    if (++elements > limits_.max_verbs) {
      error(kDocumentParseFailure, pos(n),
            "Document parse failure: more than " + std::to_string(limits_.max_verbs) +
                " elements below <Response>");
      return false;
    }
    if (depth > limits_.max_depth) {
      error(kDocumentParseFailure, pos(n),
            "Document parse failure: elements nested deeper than " +
                std::to_string(limits_.max_depth) + " levels");
      return false;
    }
  }
  return true;
}

void ResponseReader::check_response(pugi::xml_node root) {
  check_attributes(root, "Response", {"version"});
  if (pugi::xml_attribute v = root.attribute("version")) {
    const std::string_view version = trim(v.value());
    if (version != "2008-08-01" && version != "2010-04-01") {
      error(kInvalidVersion, pos(v, root),
            "Invalid TwiML version " + detail::quoted(v.value()) + " (2008-08-01 or 2010-04-01)");
    }
  }
}

// ---------- attributes ----------

void ResponseReader::check_attributes(pugi::xml_node el, std::string_view what, Names known,
                                      Names also_known) {
  // Duplicate attributes never get here: they make the document not well-formed (12100).
  for (pugi::xml_attribute a : el.attributes()) {
    const std::string_view name = a.name();
    if (name == "xmlns" || name.substr(0, 6) == "xmlns:" || name.substr(0, 4) == "xml:") continue;
    if (contains(known, name) || contains(also_known, name)) continue;
    std::string_view match;
    if (is_wrong_case(name, known, &match) || is_wrong_case(name, also_known, &match)) {
      warn(kSchemaWarning, pos(a, el),
           std::string(what) + ": attribute '" + clip(name) +
               "' has the wrong case (did "
               "you mean '" +
               std::string(match) + "'? TwiML is case-sensitive); ignored");
    } else {
      warn(kSchemaWarning, pos(a, el),
           std::string(what) + ": unknown attribute '" + clip(name) + "'; ignored");
    }
  }
}

void ResponseReader::read_string(pugi::xml_node el, const char* name, std::string& out) {
  if (pugi::xml_attribute a = el.attribute(name)) out = std::string(trim(a.value()));
}

bool ResponseReader::read_method(pugi::xml_node el, const char* name, std::string& out,
                                 std::string_view what, int code, Level level) {
  pugi::xml_attribute a = el.attribute(name);
  if (!a) return false;
  if (auto m = parse_method(a.value())) {
    out = *m;
    return true;
  }
  report(code, level, pos(a, el),
         std::string(what) + ": Invalid " + name + " value " + detail::quoted(a.value()) +
             " (must be GET or POST); using " + out);
  return false;
}

bool ResponseReader::read_url(pugi::xml_node el, const char* name, std::string& out,
                              std::string_view what, int code, Level level, bool allow_empty) {
  pugi::xml_attribute a = el.attribute(name);
  if (!a) return false;
  const std::string_view v = trim(a.value());
  if ((v.empty() && allow_empty) || is_http_url(v)) {
    out = std::string(v);
    return true;
  }
  report(code, level, pos(a, el),
         std::string(what) + ": Invalid " + name + " value " + detail::quoted(a.value()) +
             " (must be a relative or absolute http(s) URL); ignored");
  return false;
}

// ---------- content ----------

void ResponseReader::unexpected_child(pugi::xml_node child, std::string_view what) {
  if (child.type() == pugi::node_element) {
    warn(kSchemaWarning, pos(child),
         std::string(what) + ": unexpected element <" + clip(child.name()) + ">; ignored");
  } else {
    warn(kSchemaWarning, pos(child), std::string(what) + ": unexpected text; ignored");
  }
}

void ResponseReader::no_children(pugi::xml_node el, std::string_view what, bool allow_text) {
  for (pugi::xml_node n : el.children()) {
    const bool text = n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata;
    if (n.type() == pugi::node_element || (text && !allow_text && !trim(n.value()).empty())) {
      unexpected_child(n, what);
    }
  }
}

}  // namespace sb::twiml::detail
