// XML 1.0 (fifth edition) well-formedness, production by production, for TwiML documents.
//
// pugixml (1.13) is a lenient parser: it accepts a bare '&' ("Tom & Jerry"), undefined entities
// (&foo;), character references to non-characters (&#0;, &#xD800;), '<' and '&' inside attribute
// values, duplicate attributes, text, elements and "]]>" after the root element, "]]>" in text,
// "--" inside comments, control characters and invalid UTF-8, and XML declarations without a
// version or with unknown pseudo-attributes. Twilio parses with a conforming parser and answers
// all of these with 12100, so every one is an error here.
//
// Choices: only UTF-8 is read (the parser warns about another declared encoding); a DOCTYPE is
// refused, because TwiML has no DTD and an entity declared in one could not be expanded
// (pugixml ignores DTDs) without silently changing what the caller hears.
#include "twiml/xml_check.hpp"

#include <algorithm>
#include <unordered_set>
#include <vector>

#include "core/text.hpp"

namespace sb::twiml {
namespace {

constexpr std::size_t kShownName = 40;  // longer names are shortened in messages

struct CodePoint {
  char32_t value = 0;
  std::size_t length = 0;  // bytes; 0 = not valid UTF-8
};

// The code point at `at`, rejecting overlong forms, surrogates and values past U+10FFFF.
CodePoint decode_utf8(std::string_view s, std::size_t at) {
  const auto lead = static_cast<unsigned char>(s[at]);
  if (lead < 0x80) return {lead, 1};
  std::size_t length = 0;
  char32_t value = 0;
  char32_t smallest = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, value = lead & 0x1F, smallest = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, value = lead & 0x0F, smallest = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, value = lead & 0x07, smallest = 0x10000;
  } else {
    return {};
  }
  if (s.size() - at < length) return {};
  for (std::size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(s[at + k]);
    if ((next & 0xC0) != 0x80) return {};
    value = (value << 6) | (next & 0x3F);
  }
  if (value < smallest || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return {};
  return {value, length};
}

// [2] Char
bool is_xml_char(char32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

// [4] NameStartChar
bool is_name_start(char32_t c) {
  return c == ':' || c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xF6) || (c >= 0xF8 && c <= 0x2FF) ||
         (c >= 0x370 && c <= 0x37D) || (c >= 0x37F && c <= 0x1FFF) ||
         (c >= 0x200C && c <= 0x200D) || (c >= 0x2070 && c <= 0x218F) ||
         (c >= 0x2C00 && c <= 0x2FEF) || (c >= 0x3001 && c <= 0xD7FF) ||
         (c >= 0xF900 && c <= 0xFDCF) || (c >= 0xFDF0 && c <= 0xFFFD) ||
         (c >= 0x10000 && c <= 0xEFFFF);
}

// [4a] NameChar
bool is_name_char(char32_t c) {
  return is_name_start(c) || c == '-' || c == '.' || (c >= '0' && c <= '9') || c == 0xB7 ||
         (c >= 0x300 && c <= 0x36F) || (c >= 0x203F && c <= 0x2040);
}

// [3] S
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::string shown(std::string_view name) {
  if (name.size() <= kShownName) return std::string(name);
  std::size_t cut = kShownName;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
  return std::string(name.substr(0, cut)) + "…";
}

std::string hex(char32_t c) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[c & 0xF]);
    c >>= 4;
  } while (c != 0);
  while (out.size() < 4) out.insert(out.begin(), '0');
  return "U+" + out;
}

class Checker {
 public:
  explicit Checker(std::string_view text) : s_(text) {}

  std::optional<XmlSyntaxError> run() {
    if (characters() && document()) return std::nullopt;
    return std::move(error_);
  }

 private:
  enum class Next { kStartTag, kRootClosed, kFailed };

  // Every step returns false once it has recorded the (first) error.
  bool fail(std::size_t at, std::string message) {
    if (!error_) error_ = XmlSyntaxError{at, std::move(message)};
    return false;
  }

  bool at_end() const { return i_ >= s_.size(); }
  bool starts(std::string_view token) const { return s_.substr(i_).starts_with(token); }
  bool skip_space() {
    const std::size_t from = i_;
    while (!at_end() && is_space(s_[i_])) ++i_;
    return i_ > from;
  }
  bool name_starts_here() const { return !at_end() && is_name_start(decode_utf8(s_, i_).value); }

  bool characters();
  bool document();
  bool xml_declaration();
  bool declaration_value(std::string_view pseudo, std::string_view& value);
  bool name(std::string_view& out, std::string_view what);
  bool root_element();
  bool start_tag();
  bool attribute(std::string_view element);
  Next content();
  bool end_tag();
  bool reference();
  bool comment();
  bool processing_instruction(bool in_prolog);
  bool cdata();

  std::string_view s_;
  std::size_t i_ = 0;
  std::vector<std::string_view> open_;  // elements whose end tag is to come, innermost last
  std::unordered_set<std::string_view> attributes_;  // of the start tag being read
  std::optional<XmlSyntaxError> error_;
};

// Every byte must belong to a UTF-8 sequence that encodes an XML Char.
bool Checker::characters() {
  for (std::size_t at = 0; at < s_.size();) {
    const CodePoint c = decode_utf8(s_, at);
    if (c.length == 0) return fail(at, "the document is not valid UTF-8");
    if (!is_xml_char(c.value)) {
      return fail(at, "character " + hex(c.value) + " is not allowed in XML");
    }
    at += c.length;
  }
  return true;
}

// [1] document ::= prolog element Misc*, where Misc is a comment, a PI or white space.
bool Checker::document() {
  if (starts("\xEF\xBB\xBF")) i_ = 3;
  if (starts("<?xml") && (i_ + 5 >= s_.size() || is_space(s_[i_ + 5]) || s_[i_ + 5] == '?')) {
    if (!xml_declaration()) return false;
  }
  bool root_done = false;
  for (;;) {
    skip_space();
    if (at_end()) break;
    if (starts("<!--")) {
      if (!comment()) return false;
    } else if (starts("<?")) {
      if (!processing_instruction(!root_done)) return false;
    } else if (starts("<!DOCTYPE")) {
      return fail(i_, "a DOCTYPE declaration is not allowed in TwiML");
    } else if (root_done && starts("<")) {
      const std::size_t at = i_;
      ++i_;
      std::string_view extra;
      if (name_starts_here() && name(extra, "element")) {
        return fail(at,
                    "more than one root element (<" + shown(extra) + "> follows the root element)");
      }
      return fail(at, "markup after the root element");
    } else if (starts("<") && (i_ + 1 < s_.size() && s_[i_ + 1] != '/' && s_[i_ + 1] != '!')) {
      if (!root_element()) return false;
      root_done = true;
    } else if (starts("<")) {
      return fail(i_, "expected the root element");
    } else {
      return fail(i_, root_done ? "text after the root element" : "text before the root element");
    }
  }
  if (!root_done) return fail(s_.size(), "no root element");
  return true;
}

// [23] XMLDecl ::= '<?xml' VersionInfo EncodingDecl? SDDecl? S? '?>'
bool Checker::xml_declaration() {
  const std::size_t at = i_;
  i_ += 5;
  std::string_view version;
  if (!declaration_value("version", version)) return false;
  const bool version_ok = version.size() >= 3 && version.substr(0, 2) == "1." &&
                          version.substr(2).find_first_not_of("0123456789") == std::string::npos;
  if (!version_ok) return fail(at, "the XML declaration's version must be 1.x");
  std::string_view value;
  if (declaration_value("encoding", value)) {
    const bool name_ok =
        !value.empty() &&
        ((value[0] >= 'A' && value[0] <= 'Z') || (value[0] >= 'a' && value[0] <= 'z')) &&
        value.find_first_not_of(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
            "abcdefghijklmnopqrstuvwxyz0123456789._-") == std::string::npos;
    if (!name_ok) return fail(at, "the XML declaration's encoding is not an encoding name");
  } else if (error_) {
    return false;
  }
  if (declaration_value("standalone", value)) {
    if (value != "yes" && value != "no") {
      return fail(at, "the XML declaration's standalone must be yes or no");
    }
  } else if (error_) {
    return false;
  }
  skip_space();
  if (!starts("?>")) {
    return fail(i_,
                "the XML declaration takes version, encoding and standalone, in that order, "
                "and ends with '?>'");
  }
  i_ += 2;
  return true;
}

// S pseudo Eq ('"' value '"' | "'" value "'"); false without an error when `pseudo` is absent
// (it is optional), false with an error when it is malformed or a required version is missing.
bool Checker::declaration_value(std::string_view pseudo, std::string_view& value) {
  const std::size_t from = i_;
  const bool spaced = skip_space();
  if (!spaced || !starts(pseudo)) {
    i_ = from;
    if (pseudo == "version") {
      return fail(i_, "the XML declaration needs a version (version=\"1.0\")");
    }
    return false;
  }
  i_ += pseudo.size();
  skip_space();
  if (!starts("=")) return fail(i_, "expected '=' after '" + std::string(pseudo) + "'");
  ++i_;
  skip_space();
  if (at_end() || (s_[i_] != '"' && s_[i_] != '\'')) {
    return fail(i_, "the value of '" + std::string(pseudo) + "' must be quoted");
  }
  const char quote = s_[i_++];
  const std::size_t end = s_.find(quote, i_);
  if (end == std::string_view::npos) return fail(from, "unterminated XML declaration");
  value = s_.substr(i_, end - i_);
  i_ = end + 1;
  return true;
}

// [5] Name
bool Checker::name(std::string_view& out, std::string_view what) {
  const std::size_t from = i_;
  if (!name_starts_here()) return fail(i_, "expected " + std::string(what) + " name");
  while (!at_end()) {
    const CodePoint c = decode_utf8(s_, i_);
    if (!is_name_char(c.value)) break;
    i_ += c.length;
  }
  out = s_.substr(from, i_ - from);
  return true;
}

// [39] element, iteratively: start tags push, end tags pop, until the root's end tag.
bool Checker::root_element() {
  for (;;) {
    if (!start_tag()) return false;
    if (open_.empty()) return true;  // <Response/>
    const Next next = content();
    if (next == Next::kFailed) return false;
    if (next == Next::kRootClosed) return true;
  }
}

// [40] STag / [44] EmptyElemTag, at '<'.
bool Checker::start_tag() {
  const std::size_t at = i_;
  ++i_;
  std::string_view element;
  if (!name(element, "an element")) return false;
  attributes_.clear();
  for (;;) {
    const bool spaced = skip_space();
    if (starts("/>")) {
      i_ += 2;
      return true;
    }
    if (starts(">")) {
      ++i_;
      open_.push_back(element);
      return true;
    }
    if (at_end()) return fail(at, "the start tag <" + shown(element) + "> is not closed");
    if (!spaced || !name_starts_here()) {
      return fail(i_, "expected an attribute, '>' or '/>' in <" + shown(element) + ">");
    }
    if (!attribute(element)) return false;
  }
}

// [41] Attribute ::= Name Eq AttValue, unique within its start tag.
bool Checker::attribute(std::string_view element) {
  const std::size_t at = i_;
  std::string_view attr;
  if (!name(attr, "an attribute")) return false;
  if (!attributes_.insert(attr).second) {
    return fail(at, "duplicate attribute '" + shown(attr) + "' in <" + shown(element) + ">");
  }
  skip_space();
  if (!starts("=")) return fail(i_, "expected '=' after attribute '" + shown(attr) + "'");
  ++i_;
  skip_space();
  if (at_end() || (s_[i_] != '"' && s_[i_] != '\'')) {
    return fail(i_, "the value of attribute '" + shown(attr) + "' must be quoted");
  }
  const char quote = s_[i_++];
  for (;;) {
    if (at_end()) return fail(at, "the value of attribute '" + shown(attr) + "' is not closed");
    const char c = s_[i_];
    if (c == quote) {
      ++i_;
      return true;
    }
    if (c == '<') {
      return fail(i_, "'<' is not allowed in an attribute value (write it as &lt;)");
    }
    if (c == '&') {
      if (!reference()) return false;
    } else {
      ++i_;
    }
  }
}

// [43] content of the innermost open element: character data, references, comments, PIs,
// CDATA sections and end tags, up to the next start tag or the end of the root element.
Checker::Next Checker::content() {
  for (;;) {
    if (at_end()) {
      fail(s_.size(), "the document ends inside <" + shown(open_.back()) + "> (</" +
                          shown(open_.back()) + "> expected)");
      return Next::kFailed;
    }
    const char c = s_[i_];
    bool ok = true;
    if (c == '&') {
      ok = reference();
    } else if (c != '<') {
      if (starts("]]>")) {
        fail(i_, "']]>' is not allowed in text (write it as ]]&gt;)");
        return Next::kFailed;
      }
      ++i_;
    } else if (starts("</")) {
      ok = end_tag();
      if (ok && open_.empty()) return Next::kRootClosed;
    } else if (starts("<!--")) {
      ok = comment();
    } else if (starts("<![CDATA[")) {
      ok = cdata();
    } else if (starts("<?")) {
      ok = processing_instruction(false);
    } else if (i_ + 1 < s_.size() && is_name_start(decode_utf8(s_, i_ + 1).value)) {
      return Next::kStartTag;
    } else {
      ok = fail(i_, starts("<!") ? "unexpected '<!' (only comments and CDATA sections go here)"
                                 : "'<' must start a tag (write a literal '<' as &lt;)");
    }
    if (!ok) return Next::kFailed;
  }
}

// [42] ETag ::= '</' Name S? '>', matching the innermost open element.
bool Checker::end_tag() {
  const std::size_t at = i_;
  i_ += 2;
  std::string_view closing;
  if (!name(closing, "an element")) return false;
  skip_space();
  if (!starts(">")) return fail(i_, "expected '>' to end </" + shown(closing) + ">");
  ++i_;
  if (closing != open_.back()) {
    return fail(at, "the end tag </" + shown(closing) + "> does not match the open element <" +
                        shown(open_.back()) + ">");
  }
  open_.pop_back();
  return true;
}

// [67] Reference: one of the five predefined entities or a character reference to a Char.
bool Checker::reference() {
  const std::size_t at = i_;
  ++i_;
  if (starts("#")) {
    ++i_;
    const bool hexadecimal = starts("x");
    if (hexadecimal) ++i_;
    const std::size_t digits_from = i_;
    char32_t value = 0;
    while (!at_end() && (hexadecimal ? is_hex(s_[i_]) : is_digit(s_[i_]))) {
      const char d = s_[i_];
      const unsigned digit = is_digit(d)              ? static_cast<unsigned>(d - '0')
                             : (d >= 'a' && d <= 'f') ? static_cast<unsigned>(d - 'a' + 10)
                                                      : static_cast<unsigned>(d - 'A' + 10);
      if (value <= 0x10FFFF) value = value * (hexadecimal ? 16 : 10) + digit;  // stays > max
      ++i_;
    }
    if (i_ == digits_from || !starts(";")) {
      return fail(at, "malformed character reference (expected &#digits; or &#xhex;)");
    }
    ++i_;
    if (!is_xml_char(value)) {
      return fail(at, "the character reference " +
                          std::string(s_.substr(at, std::min<std::size_t>(i_ - at, 20))) +
                          " is not an XML character");
    }
    return true;
  }
  if (!name_starts_here()) {
    return fail(at, "a bare '&' (write a literal '&' as &amp;)");
  }
  std::string_view entity;
  name(entity, "an entity");
  if (!starts(";")) {
    return fail(at, "'&" + shown(entity) +
                        "' is not an entity reference (';' missing; write a "
                        "literal '&' as &amp;)");
  }
  ++i_;
  if (entity != "amp" && entity != "lt" && entity != "gt" && entity != "apos" && entity != "quot") {
    return fail(at, "undefined entity '&" + shown(entity) +
                        ";' (XML defines only &amp; &lt; &gt; &apos; &quot;)");
  }
  return true;
}

// [15] Comment: no "--" inside, and not ending in '-'.
bool Checker::comment() {
  const std::size_t at = i_;
  const std::size_t dashes = s_.find("--", i_ + 4);
  if (dashes == std::string_view::npos) return fail(at, "unterminated comment");
  if (dashes + 2 >= s_.size() || s_[dashes + 2] != '>') {
    return fail(dashes, "'--' is not allowed inside a comment");
  }
  i_ = dashes + 3;
  return true;
}

// [16] PI ::= '<?' PITarget (S Char*)? '?>', where the target is not "xml" in any case.
bool Checker::processing_instruction(bool in_prolog) {
  const std::size_t at = i_;
  i_ += 2;
  std::string_view target;
  if (!name(target, "a processing-instruction target")) return false;
  if (target.size() == 3 && (target[0] | 0x20) == 'x' && (target[1] | 0x20) == 'm' &&
      (target[2] | 0x20) == 'l') {
    if (in_prolog && target == "xml") {
      return fail(at,
                  "the XML declaration must be at the very start of the document (remove what "
                  "precedes it)");
    }
    return fail(at, "the processing-instruction target '" + std::string(target) + "' is reserved");
  }
  if (starts("?>")) {
    i_ += 2;
    return true;
  }
  if (!skip_space()) return fail(i_, "expected white space or '?>' after <?" + shown(target));
  const std::size_t end = s_.find("?>", i_);
  if (end == std::string_view::npos) return fail(at, "unterminated processing instruction");
  i_ = end + 2;
  return true;
}

// [18] CDSect
bool Checker::cdata() {
  const std::size_t end = s_.find("]]>", i_ + 9);
  if (end == std::string_view::npos) return fail(i_, "unterminated CDATA section");
  i_ = end + 3;
  return true;
}

}  // namespace

std::optional<XmlSyntaxError> check_well_formed(std::string_view text) {
  return Checker(text).run();
}

}  // namespace sb::twiml
