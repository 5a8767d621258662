// TwiML parsing and validation: pugixml builds the tree, this file turns it into the Document
// model, checking every verb, noun and attribute with Twilio's error numbers and log levels.
//
// Levels follow Twilio's error dictionary (twilio.com/docs/api/errors/<code>): nearly every
// verb-attribute code (132xx, 133xx, 134xx, 135xx, 136xx, 13710, 13910, 14101-14105) is a
// WARNING there, so the call goes on with the attribute's default; the document-level codes
// (12100, 12101, 12102) and the few that Twilio logs as ERROR (13231, 13239, 14201-14206, 14300)
// are errors here, and a document with an error is not executed.
//
// Choices where Twilio is silent or ambiguous:
// - A verb whose name differs only in case (<say>) is reported with 12200 and NOT executed, as on
//   Twilio (TwiML is case-sensitive, so <say> is simply not a verb). The same holds for
//   attributes (<Say Voice="alice">): 12200, and the attribute is ignored.
// - An unknown verb or noun is reported with 12200 and skipped. Verbs and nouns that Twilio has
//   but Switchboard does not implement (<Pay>, <Echo>, <Dial><Application>, <Connect><Room>,
//   <Start><Siprec>…) get 12200 "not supported" and are skipped. Attributes that Twilio knows
//   but the model does not carry (machineDetection, bargeIn, …) are accepted silently.
// - An empty <Say> is 13520 (a WARNING on Twilio: "text … empty or un-parsable") and the Say is
//   dropped: there is nothing to say, and a loop="0" empty Say must not spin.
// - <Sms>/<Message> with an invalid To, From or Body (14101/14102/14103, warnings) is dropped
//   rather than sent with a default: sending a text to a different party would be worse.
// - Numeric attributes with a documented maximum are clamped to it with a warning (Dial timeout
//   600 s, timeLimit 86400 s, Say/Play loop 1000); other invalid values fall back to the default.
// - The document-level checks (strict XML, encoding, size and shape limits, the root and its
//   version) are the messaging parser's too: response_reader.cpp.
#include "twiml/parser.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <array>
#include <exception>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "core/text.hpp"
#include "twiml/messaging_document.hpp"
#include "twiml/response_reader.hpp"

namespace sb::twiml {
namespace {

using namespace detail;  // the shared reader's helpers (this source is never in a unity batch)

// Twilio error numbers used by the voice parser only (the shared ones: response_reader.hpp).
constexpr int kDialInvalidMethod = 13210;
constexpr int kDialInvalidTimeout = 13212;
constexpr int kDialInvalidHangupOnStar = 13213;
constexpr int kDialInvalidCallerId = 13214;
constexpr int kDialInvalidNestedElement = 13215;
constexpr int kDialInvalidTimeLimit = 13216;
constexpr int kDialInvalidRecord = 13217;
constexpr int kDialInvalidRingTone = 13220;
constexpr int kNumberInvalidMethod = 13221;
constexpr int kNumberInvalidSendDigits = 13222;
constexpr int kInvalidPhoneNumberFormat = 13223;
constexpr int kConferenceInvalidMuted = 13230;
constexpr int kConferenceInvalidEndOnExit = 13231;
constexpr int kConferenceInvalidStartOnEnter = 13232;
constexpr int kConferenceInvalidWaitUrl = 13233;
constexpr int kConferenceInvalidWaitMethod = 13234;
constexpr int kConferenceInvalidBeep = 13235;
constexpr int kConferenceInvalidName = 13237;
constexpr int kConferenceInvalidTrim = 13239;
constexpr int kSipInvalidMethod = 13241;
constexpr int kSipInvalidUri = 13243;
constexpr int kGatherInvalidFinishOnKey = 13310;
constexpr int kGatherInvalidMethod = 13312;
constexpr int kGatherInvalidTimeout = 13313;
constexpr int kGatherInvalidNumDigits = 13314;
constexpr int kGatherInvalidNestedVerb = 13320;
constexpr int kGatherSayInvalidVoice = 13321;
constexpr int kGatherSayInvalidLoop = 13322;
constexpr int kGatherInvalidSpeechTimeout = 13327;
constexpr int kGatherInvalidMaxSpeechTime = 13328;
constexpr int kPlayInvalidLoop = 13410;
constexpr int kSayInvalidLoop = 13510;
constexpr int kSayInvalidVoice = 13511;
constexpr int kSayInvalidLanguage = 13512;
constexpr int kSayInvalidText = 13520;
constexpr int kRecordInvalidMethod = 13610;
constexpr int kRecordInvalidTimeout = 13611;
constexpr int kRecordInvalidMaxLength = 13612;
constexpr int kRecordInvalidFinishOnKey = 13613;
constexpr int kRecordInvalidTranscribe = 13614;
constexpr int kRecordInvalidPlayBeep = 13616;
constexpr int kRecordInvalidStatusEvent = 13621;
constexpr int kPauseInvalidLength = 13910;
constexpr int kEnqueueInvalidMethod = 14201;
constexpr int kEnqueueInvalidWaitUrl = 14202;
constexpr int kEnqueueInvalidAction = 14203;
constexpr int kEnqueueInvalidWaitUrlMethod = 14206;
constexpr int kStartInvalidNoun = 14300;

constexpr long long kMaxLoop = 1000;
constexpr long long kMaxDialTimeout = 600;
constexpr long long kMaxDialTimeLimit = 86400;
constexpr std::size_t kMaxConferenceName = 128;
constexpr std::size_t kMaxQueueName = 64;
constexpr std::size_t kMaxE164Digits = 15;
constexpr std::size_t kMaxSipUser = 256;

// ---------- small string helpers (ASCII only) ----------

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Runs of whitespace become one space; leading and trailing whitespace go.
std::string collapse_whitespace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (char c : s) {
    if (is_space(c)) {
      pending_space = !out.empty();
    } else {
      if (pending_space) out += ' ';
      pending_space = false;
      out += c;
    }
  }
  return out;
}

// A non-negative decimal integer, digits only; nullopt when malformed or beyond 18 digits.
std::optional<long long> parse_unsigned(std::string_view s) {
  s = trim(s);
  if (s.empty() || s.size() > 18) return std::nullopt;
  long long v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::optional<bool> parse_bool(std::string_view s) {
  s = trim(s);
  if (iequals(s, "true")) return true;
  if (iequals(s, "false")) return false;
  return std::nullopt;
}

// Space- or comma-separated tokens.
std::vector<std::string_view> split_list(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (is_space(s[i]) || s[i] == ',')) ++i;
    std::size_t start = i;
    while (i < s.size() && !is_space(s[i]) && s[i] != ',') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

bool only_phone_chars(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return is_digit(c) || c == '+' || c == ' ' || c == '-' || c == '(' || c == ')' || c == '.';
  });
}

// "+", digits and visual separators ("+1 (415) 555-1212", Twilio's own "415-123-4567") become
// "+14155551212"; nullopt when it is not such a number or has more than 15 digits (E.164).
std::optional<std::string> normalize_phone(std::string_view s) {
  s = trim(s);
  std::string out;
  bool any_digit = false;
  for (const char c : s) {
    if (is_digit(c)) {
      out += c;
      any_digit = true;
    } else if (c == '+') {
      if (!out.empty()) return std::nullopt;  // '+' only leads
      out += c;
    } else if (c == ' ' || c == '-' || c == '(' || c == ')' || c == '.') {
      continue;
    } else {
      return std::nullopt;
    }
  }
  const std::size_t digits = out.size() - (!out.empty() && out[0] == '+' ? 1 : 0);
  if (!any_digit || digits > kMaxE164Digits) return std::nullopt;
  return out;
}

// Only "+", digits and visual separators: such a string must be a valid phone number; it is not
// also given a second chance as a SIP user name.
bool looks_like_phone(std::string_view s) {
  s = trim(s);
  return !s.empty() && only_phone_chars(s);
}

// The user part of a SIP URI (RFC 3261 unreserved / escaped / user-unreserved): an extension or
// a user name that the SIP side can route, such as "alice" or "*72".
bool is_sip_user(std::string_view s) {
  if (s.empty() || s.size() > kMaxSipUser) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (is_alnum(c)) continue;
    if (std::string_view("-_.!~*'()&=+$,;?/").find(c) != std::string_view::npos) continue;
    if (c == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
      i += 2;
      continue;
    }
    return false;
  }
  return true;
}

bool is_sip_uri(std::string_view u) {
  if (has_control_or_space(u)) return false;
  std::string_view rest;
  if (istarts_with(u, "sip:")) {
    rest = u.substr(4);
  } else if (istarts_with(u, "sips:")) {
    rest = u.substr(5);
  } else {
    return false;
  }
  return !rest.empty() && rest.front() != '@';
}

// BCP-47 shape: a 2-3 letter primary tag and 1-8 character subtags ("en-US", "cmn-Hans-CN").
bool is_language_tag(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && is_alpha(s[i])) ++i;
  if (i < 2 || i > 3) return false;
  while (i < s.size()) {
    if (s[i] != '-') return false;
    std::size_t start = ++i;
    while (i < s.size() && is_alnum(s[i])) ++i;
    if (i - start < 1 || i - start > 8) return false;
  }
  return true;
}

// man, woman, alice, or a provider voice such as Polly.Joanna-Neural or Google.en-US-Standard-C.
bool is_voice(std::string_view v) {
  if (v == "man" || v == "woman" || v == "alice") return true;
  for (std::string_view provider : {"Polly.", "Google."}) {
    if (v.size() > provider.size() && v.substr(0, provider.size()) == provider) {
      std::string_view name = v.substr(provider.size());
      return std::all_of(name.begin(), name.end(),
                         [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; });
    }
  }
  return false;
}

bool only_chars(std::string_view s, std::string_view allowed) {
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return allowed.find(c) != std::string_view::npos; });
}

constexpr std::string_view kDtmfKeys = "0123456789*#";
constexpr std::string_view kDigitsToSend = "0123456789ABCD*#wW";

// ---------- the builder ----------

struct IntRule {
  long long min = 0;
  long long max = std::numeric_limits<int>::max();
  bool clamp_high = false;  // above max: use max (with a warning) instead of the default
  const char* expectation = "a positive integer";
};

// The voice dialect: every verb of the Document model, built from the shared reader's tree.
class Builder : public ResponseReader {
 public:
  using ResponseReader::ResponseReader;

  Document run();

 private:
  void build_response(pugi::xml_node root);
  void build_verb(pugi::xml_node el);

  // Typed attribute readers of the voice verbs (the shared ones: ResponseReader).
  void read_bool(pugi::xml_node el, const char* name, bool& out, std::string_view what, int code,
                 Level level = Level::kWarning);
  void check_bool(pugi::xml_node el, const char* name, std::string_view what, int code);
  template <typename Int>
  void read_int(pugi::xml_node el, const char* name, Int& out, IntRule rule, std::string_view what,
                int code, Level level = Level::kWarning);
  void read_enum(pugi::xml_node el, const char* name, std::string& out, Names allowed,
                 std::string_view what, int code, Level level = Level::kWarning);
  void read_list(pugi::xml_node el, const char* name, std::vector<std::string>& out, Names allowed,
                 std::string_view what, int code, Level level = Level::kWarning);

  // Verbs and nouns.
  std::optional<Say> say(pugi::xml_node el, bool in_gather);
  std::optional<Play> play(pugi::xml_node el);
  Pause pause(pugi::xml_node el);
  void collect_speech(pugi::xml_node el, std::string& out, int depth);
  Gather gather(pugi::xml_node el);
  Record record(pugi::xml_node el);
  Dial dial(pugi::xml_node el);
  std::optional<DialTarget> dial_text(pugi::xml_node text);
  std::optional<DialNumber> dial_number(pugi::xml_node el);
  std::optional<DialSip> dial_sip(pugi::xml_node el);
  std::optional<DialClient> dial_client(pugi::xml_node el);
  std::optional<DialConference> dial_conference(pugi::xml_node el);
  std::optional<DialQueue> dial_queue(pugi::xml_node el);
  Redirect redirect(pugi::xml_node el);
  Reject reject(pugi::xml_node el);
  std::optional<Enqueue> enqueue(pugi::xml_node el);
  std::optional<Refer> refer(pugi::xml_node el);
  std::optional<Message> message(pugi::xml_node el, bool legacy_sms);
  std::optional<StreamNoun> stream(pugi::xml_node el, std::string_view what, bool need_url);
  std::optional<Connect> connect(pugi::xml_node el);
  std::optional<Start> start(pugi::xml_node el);
  std::optional<Stop> stop(pugi::xml_node el);

  Document doc_;
};

Document Builder::run() {
  if (const pugi::xml_node root = open_response()) build_response(root);
  doc_.diagnostics = take_diagnostics();
  return std::move(doc_);
}

// ---------- attributes ----------

void Builder::read_bool(pugi::xml_node el, const char* name, bool& out, std::string_view what,
                        int code, Level level) {
  pugi::xml_attribute a = el.attribute(name);
  if (!a) return;
  if (auto b = parse_bool(a.value())) {
    out = *b;
  } else {
    report(code, level, pos(a, el),
           std::string(what) + ": Invalid " + name + " value " + quoted(a.value()) +
               " (must be true or false); using " + (out ? "true" : "false"));
  }
}

void Builder::check_bool(pugi::xml_node el, const char* name, std::string_view what, int code) {
  bool ignored = false;
  read_bool(el, name, ignored, what, code);
}

template <typename Int>
void Builder::read_int(pugi::xml_node el, const char* name, Int& out, IntRule rule,
                       std::string_view what, int code, Level level) {
  pugi::xml_attribute a = el.attribute(name);
  if (!a) return;
  const std::optional<long long> v = parse_unsigned(a.value());
  if (v && *v >= rule.min && *v <= rule.max) {
    out = static_cast<Int>(*v);
    return;
  }
  std::string message = std::string(what) + ": Invalid " + name + " value " + quoted(a.value()) +
                        " (must be " + rule.expectation;
  if (v && *v > rule.max && rule.clamp_high) {
    out = static_cast<Int>(rule.max);
    message +=
        " no greater than " + std::to_string(rule.max) + "); using " + std::to_string(rule.max);
  } else {
    message += "); using " + std::to_string(out);
  }
  report(code, level, pos(a, el), std::move(message));
}

void Builder::read_enum(pugi::xml_node el, const char* name, std::string& out, Names allowed,
                        std::string_view what, int code, Level level) {
  pugi::xml_attribute a = el.attribute(name);
  if (!a) return;
  const std::string_view v = trim(a.value());
  for (std::string_view option : allowed) {
    if (iequals(v, option)) {  // keywords are matched like booleans: case-insensitively
      out = std::string(option);
      return;
    }
  }
  std::string options;
  for (std::string_view option : allowed) {
    if (!options.empty()) options += ", ";
    options += option;
  }
  report(code, level, pos(a, el),
         std::string(what) + ": Invalid " + name + " value " + quoted(a.value()) + " (one of " +
             options + "); using " + (out.empty() ? "none" : out));
}

void Builder::read_list(pugi::xml_node el, const char* name, std::vector<std::string>& out,
                        Names allowed, std::string_view what, int code, Level level) {
  pugi::xml_attribute a = el.attribute(name);
  if (!a) return;
  std::vector<std::string> values;
  for (std::string_view token : split_list(a.value())) {
    auto it = std::find_if(allowed.begin(), allowed.end(),
                           [&](std::string_view option) { return iequals(option, token); });
    if (it == allowed.end()) {
      report(code, level, pos(a, el),
             std::string(what) + ": Invalid " + name + " value " + quoted(token) + "; ignored");
    } else if (std::find(values.begin(), values.end(), *it) == values.end()) {
      values.emplace_back(*it);
    }
  }
  if (!values.empty()) out = std::move(values);
}

// ---------- the document ----------

constexpr auto kVerbs = std::to_array<std::string_view>(
    {"Say", "Play", "Pause", "Gather", "Record", "Dial", "Hangup", "Redirect", "Reject", "Enqueue",
     "Leave", "Refer", "Sms", "Message", "Connect", "Start", "Stop"});
constexpr auto kUnsupportedVerbs = std::to_array<std::string_view>({"Pay", "Echo"});

void Builder::build_response(pugi::xml_node root) {
  for (pugi::xml_node n : root.children()) {
    switch (n.type()) {
      case pugi::node_element:
        build_verb(n);
        break;
      case pugi::node_pcdata:
      case pugi::node_cdata:
        if (!trim(n.value()).empty()) {
          warn(kSchemaWarning, pos(n), "Response: text outside a verb; ignored");
        }
        break;
      default:
        break;  // comments, processing instructions
    }
  }
}

void Builder::build_verb(pugi::xml_node el) {
  const std::string_view name = el.name();
  auto& verbs = doc_.verbs;
  if (name == "Say") {
    if (auto v = say(el, false)) verbs.emplace_back(std::move(*v));
  } else if (name == "Play") {
    if (auto v = play(el)) verbs.emplace_back(std::move(*v));
  } else if (name == "Pause") {
    verbs.emplace_back(pause(el));
  } else if (name == "Gather") {
    verbs.emplace_back(gather(el));
  } else if (name == "Record") {
    verbs.emplace_back(record(el));
  } else if (name == "Dial") {
    verbs.emplace_back(dial(el));
  } else if (name == "Hangup" || name == "Leave") {
    check_attributes(el, name, {});
    no_children(el, name, false);
    if (name == "Hangup") {
      verbs.emplace_back(Hangup{pos(el)});
    } else {
      verbs.emplace_back(Leave{pos(el)});
    }
  } else if (name == "Redirect") {
    verbs.emplace_back(redirect(el));
  } else if (name == "Reject") {
    verbs.emplace_back(reject(el));
  } else if (name == "Enqueue") {
    if (auto v = enqueue(el)) verbs.emplace_back(std::move(*v));
  } else if (name == "Refer") {
    if (auto v = refer(el)) verbs.emplace_back(std::move(*v));
  } else if (name == "Sms" || name == "Message") {
    if (auto v = message(el, name == "Sms")) verbs.emplace_back(std::move(*v));
  } else if (name == "Connect") {
    if (auto v = connect(el)) verbs.emplace_back(std::move(*v));
  } else if (name == "Start") {
    if (auto v = start(el)) verbs.emplace_back(std::move(*v));
  } else if (name == "Stop") {
    if (auto v = stop(el)) verbs.emplace_back(std::move(*v));
  } else {
    std::string_view match;
    if (is_wrong_case(name, kVerbs, &match) || is_wrong_case(name, kUnsupportedVerbs, &match)) {
      warn(kSchemaWarning, pos(el),
           "<" + clip(name) + "> is not a TwiML verb (did you mean <" + std::string(match) +
               ">? TwiML is case-sensitive); skipped");
    } else if (contains(kUnsupportedVerbs, name)) {
      warn(kSchemaWarning, pos(el),
           "<" + clip(name) + "> is not supported by Switchboard; skipped");
    } else {
      warn(kSchemaWarning, pos(el), "unknown verb <" + clip(name) + ">; skipped");
    }
  }
}

// ---------- Say, Play, Pause ----------

constexpr auto kSsml =
    std::to_array<std::string_view>({"break", "emphasis", "lang", "p", "phoneme", "prosody", "s",
                                     "say-as", "sub", "w", "amazon:effect", "amazon:domain"});

// Text of a Say with its SSML flattened: element boundaries separate words, <sub> speaks its alias.
void Builder::collect_speech(pugi::xml_node el, std::string& out, int depth) {
  for (pugi::xml_node n : el.children()) {
    if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) {
      out += n.value();
    } else if (n.type() == pugi::node_element) {
      const std::string_view name = n.name();
      if (!contains(kSsml, name)) {
        warn(kSchemaWarning, pos(n), "Say: unknown SSML element <" + clip(name) + ">");
      }
      out += ' ';
      if (name == "sub" && n.attribute("alias")) {
        out += n.attribute("alias").value();
      } else if (depth < static_cast<int>(limits().max_depth)) {  // bounded by check_shape too
        collect_speech(n, out, depth + 1);
      }
      out += ' ';
    }
  }
}

std::optional<Say> Builder::say(pugi::xml_node el, bool in_gather) {
  const std::string_view what = in_gather ? "Gather->Say" : "Say";
  check_attributes(el, what, {"voice", "language", "loop"});
  Say s;
  s.at = pos(el);
  if (pugi::xml_attribute a = el.attribute("voice")) {
    const std::string_view v = trim(a.value());
    if (is_voice(v)) {
      s.voice = std::string(v);
    } else {
      warn(in_gather ? kGatherSayInvalidVoice : kSayInvalidVoice, pos(a, el),
           std::string(what) + ": Invalid voice value " + quoted(a.value()) +
               " (man, woman, alice, Polly.* or Google.*); using " + s.voice);
    }
  }
  if (pugi::xml_attribute a = el.attribute("language")) {
    const std::string_view v = trim(a.value());
    if (is_language_tag(v)) {
      s.language = std::string(v);
    } else {
      warn(kSayInvalidLanguage, pos(a, el),
           std::string(what) + ": Invalid language value " + quoted(a.value()) +
               " (a BCP-47 tag such as en-US); using " + s.language);
    }
  }
  read_int(el, "loop", s.loop, IntRule{0, kMaxLoop, true, "an integer greater or equal to zero"},
           what, in_gather ? kGatherSayInvalidLoop : kSayInvalidLoop);
  std::string raw;
  collect_speech(el, raw, 1);
  s.text = collapse_whitespace(raw);
  if (s.text.empty()) {
    warn(kSayInvalidText, pos(el), std::string(what) + ": Invalid text: nothing to say; skipped");
    return std::nullopt;
  }
  return s;
}

std::optional<Play> Builder::play(pugi::xml_node el) {
  check_attributes(el, "Play", {"loop", "digits"});
  Play p;
  p.at = pos(el);
  read_int(el, "loop", p.loop, IntRule{0, kMaxLoop, true, "an integer greater or equal to zero"},
           "Play", kPlayInvalidLoop);
  no_children(el, "Play", true);
  p.url = text_of(el);
  if (pugi::xml_attribute a = el.attribute("digits")) {
    const std::string_view d = trim(a.value());
    if (!d.empty() && only_chars(d, kDigitsToSend)) {
      p.digits = std::string(d);
    } else {
      // One warning that says what happens: the URL still plays, or nothing does.
      warn(kSchemaWarning, pos(a, el),
           "Play: Invalid digits value " + quoted(a.value()) + " (only 0-9, A-D, *, #, w and W); " +
               (p.url.empty() ? "nothing to play, skipped" : "ignored, the URL plays"));
      if (p.url.empty()) return std::nullopt;
    }
  }
  if (p.url.empty() && p.digits.empty()) {
    warn(kSchemaWarning, pos(el), "Play: no URL and no digits to play; skipped");
    return std::nullopt;
  }
  return p;
}

Pause Builder::pause(pugi::xml_node el) {
  check_attributes(el, "Pause", {"length"});
  Pause p;
  p.at = pos(el);
  read_int(el, "length", p.length, IntRule{1}, "Pause", kPauseInvalidLength);
  no_children(el, "Pause", false);
  return p;
}

// ---------- Gather ----------

Gather Builder::gather(pugi::xml_node el) {
  check_attributes(
      el, "Gather",
      {"input", "action", "method", "timeout", "finishOnKey", "numDigits", "actionOnEmptyResult",
       "partialResultCallback", "partialResultCallbackMethod", "language", "hints", "speechTimeout",
       "speechModel", "profanityFilter", "bargeIn", "debug", "enhanced", "maxSpeechTime"});
  Gather g;
  g.at = pos(el);
  read_list(el, "input", g.input, {"dtmf", "speech"}, "Gather", kSchemaWarning);
  read_url(el, "action", g.action, "Gather", kInvalidUrlFormat, Level::kWarning, true);
  read_method(el, "method", g.method, "Gather", kGatherInvalidMethod);
  read_int(el, "timeout", g.timeout, IntRule{1}, "Gather", kGatherInvalidTimeout);
  if (pugi::xml_attribute a = el.attribute("finishOnKey")) {
    const std::string_view k = trim(a.value());
    if (k.empty() || (k.size() == 1 && only_chars(k, kDtmfKeys))) {
      g.finish_on_key = std::string(k);
    } else {
      warn(kGatherInvalidFinishOnKey, pos(a, el),
           "Gather: Invalid finishOnKey value " + quoted(a.value()) +
               " (one of 0-9, # or *, or empty); using " + g.finish_on_key);
    }
  }
  if (pugi::xml_attribute a = el.attribute("numDigits")) {
    const auto v = parse_unsigned(a.value());
    if (v && *v >= 1 && *v <= std::numeric_limits<int>::max()) {
      g.num_digits = static_cast<int>(*v);
    } else {
      warn(kGatherInvalidNumDigits, pos(a, el),
           "Gather: Invalid numDigits value " + quoted(a.value()) +
               " (must be a positive integer); ignored");
    }
  }
  read_bool(el, "actionOnEmptyResult", g.action_on_empty_result, "Gather", kSchemaWarning);
  read_string(el, "partialResultCallback", g.partial_result_callback);
  read_method(el, "partialResultCallbackMethod", g.partial_result_callback_method, "Gather",
              kGatherInvalidMethod);
  if (pugi::xml_attribute a = el.attribute("language")) {
    const std::string_view v = trim(a.value());
    if (is_language_tag(v)) {
      g.language = std::string(v);
    } else {
      warn(kSchemaWarning, pos(a, el),
           "Gather: Invalid language value " + quoted(a.value()) +
               " (a BCP-47 tag such as en-US); using " + g.language);
    }
  }
  read_string(el, "hints", g.hints);
  if (pugi::xml_attribute a = el.attribute("speechTimeout")) {
    const std::string_view v = trim(a.value());
    const auto n = parse_unsigned(v);
    if (v == "auto" || (n && *n >= 1 && *n <= std::numeric_limits<int>::max())) {
      g.speech_timeout = std::string(v);
    } else {
      warn(kGatherInvalidSpeechTimeout, pos(a, el),
           "Gather: Invalid speechTimeout value " + quoted(a.value()) +
               " (auto or a positive integer); using the timeout value");
    }
  }
  read_string(el, "speechModel", g.speech_model);
  read_bool(el, "profanityFilter", g.profanity_filter, "Gather", kSchemaWarning);
  read_bool(el, "bargeIn", g.barge_in, "Gather", kSchemaWarning);
  check_bool(el, "debug", "Gather", kSchemaWarning);
  check_bool(el, "enhanced", "Gather", kSchemaWarning);
  read_int(el, "maxSpeechTime", g.max_speech_time, IntRule{1}, "Gather",
           kGatherInvalidMaxSpeechTime);

  for (pugi::xml_node n : el.children()) {
    if (n.type() != pugi::node_element) {
      if ((n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) &&
          !trim(n.value()).empty()) {
        unexpected_child(n, "Gather");
      }
      continue;
    }
    const std::string_view name = n.name();
    std::string_view match;
    if (name == "Say") {
      if (auto s = say(n, true)) g.prompts.emplace_back(std::move(*s));
    } else if (name == "Play") {
      if (auto p = play(n)) g.prompts.emplace_back(std::move(*p));
    } else if (name == "Pause") {
      g.prompts.emplace_back(pause(n));
    } else if (is_wrong_case(name, {"Say", "Play", "Pause"}, &match)) {
      warn(kSchemaWarning, pos(n),
           "Gather: <" + clip(name) + "> is not a TwiML verb (did you mean <" + std::string(match) +
               ">? TwiML is case-sensitive); skipped");
    } else {
      warn(kGatherInvalidNestedVerb, pos(n),
           "Gather: Invalid nested verb <" + clip(name) +
               "> (only Say, Play and Pause nest in Gather); skipped");
    }
  }
  return g;
}

// ---------- Record ----------

Record Builder::record(pugi::xml_node el) {
  check_attributes(el, "Record",
                   {"action", "method", "timeout", "finishOnKey", "maxLength", "playBeep", "trim",
                    "recordingStatusCallback", "recordingStatusCallbackMethod",
                    "recordingStatusCallbackEvent", "transcribe", "transcribeCallback"});
  Record r;
  r.at = pos(el);
  read_url(el, "action", r.action, "Record", kInvalidUrlFormat, Level::kWarning, true);
  read_method(el, "method", r.method, "Record", kRecordInvalidMethod);
  read_int(
      el, "timeout", r.timeout,
      IntRule{0, std::numeric_limits<int>::max(), false, "an integer greater or equal to zero"},
      "Record", kRecordInvalidTimeout);
  if (pugi::xml_attribute a = el.attribute("finishOnKey")) {
    const std::string_view k = trim(a.value());
    if (only_chars(k, kDtmfKeys)) {
      r.finish_on_key = std::string(k);
    } else {
      warn(kRecordInvalidFinishOnKey, pos(a, el),
           "Record: Invalid finishOnKey value " + quoted(a.value()) +
               " (only the characters 0123456789#*); using " + r.finish_on_key);
    }
  }
  read_int(el, "maxLength", r.max_length, IntRule{1}, "Record", kRecordInvalidMaxLength);
  read_bool(el, "playBeep", r.play_beep, "Record", kRecordInvalidPlayBeep);
  read_enum(el, "trim", r.trim, {"trim-silence", "do-not-trim"}, "Record", kSchemaWarning);
  read_string(el, "recordingStatusCallback", r.recording_status_callback);
  read_method(el, "recordingStatusCallbackMethod", r.recording_status_callback_method, "Record",
              kRecordInvalidMethod);
  read_list(el, "recordingStatusCallbackEvent", r.recording_status_callback_event,
            {"in-progress", "completed", "absent"}, "Record", kRecordInvalidStatusEvent);
  read_bool(el, "transcribe", r.transcribe, "Record", kRecordInvalidTranscribe);
  read_string(el, "transcribeCallback", r.transcribe_callback);
  no_children(el, "Record", false);
  return r;
}

// ---------- Dial ----------

constexpr auto kDialNouns =
    std::to_array<std::string_view>({"Number", "Sip", "Client", "Conference", "Queue"});
constexpr auto kUnsupportedDialNouns =
    std::to_array<std::string_view>({"Application", "Sim", "WhatsApp"});
constexpr auto kCallEvents =
    std::to_array<std::string_view>({"initiated", "ringing", "answered", "completed"});
constexpr auto kMachineDetection = std::to_array<std::string_view>(
    {"amdStatusCallback", "amdStatusCallbackMethod", "machineDetection", "machineDetectionTimeout",
     "machineDetectionSpeechThreshold", "machineDetectionSilenceTimeout",
     "machineDetectionSpeechEndThreshold"});

Dial Builder::dial(pugi::xml_node el) {
  check_attributes(el, "Dial",
                   {"action", "method", "timeout", "timeLimit", "callerId", "hangupOnStar",
                    "record", "recordingStatusCallback", "recordingStatusCallbackMethod",
                    "recordingStatusCallbackEvent", "recordingTrack", "trim", "answerOnBridge",
                    "ringTone", "sequential", "referUrl", "referMethod", "events"});
  Dial d;
  d.at = pos(el);
  read_url(el, "action", d.action, "Dial", kInvalidUrlFormat, Level::kWarning, true);
  read_method(el, "method", d.method, "Dial", kDialInvalidMethod);
  read_int(el, "timeout", d.timeout, IntRule{1, kMaxDialTimeout, true}, "Dial",
           kDialInvalidTimeout);
  read_int(el, "timeLimit", d.time_limit, IntRule{1, kMaxDialTimeLimit, true}, "Dial",
           kDialInvalidTimeLimit);
  if (pugi::xml_attribute a = el.attribute("callerId")) {
    const std::string_view v = trim(a.value());
    if (auto phone = normalize_phone(v)) {
      d.caller_id = *phone;
    } else if (!looks_like_phone(v) &&
               (is_sip_user(v) || istarts_with(v, "client:") || is_sip_uri(v))) {
      d.caller_id = std::string(v);
    } else {
      warn(kDialInvalidCallerId, pos(a, el),
           "Dial: Invalid callerId value " + quoted(a.value()) +
               " (a phone number, client:name or SIP URI); using the caller's number");
    }
  }
  read_bool(el, "hangupOnStar", d.hangup_on_star, "Dial", kDialInvalidHangupOnStar);
  if (pugi::xml_attribute a = el.attribute("record")) {
    // The older boolean form is still accepted by Twilio (13217: "record must be true or false").
    const auto b = parse_bool(a.value());
    if (b) {
      d.record = *b ? "record-from-answer" : "do-not-record";
    } else {
      read_enum(el, "record", d.record,
                {"do-not-record", "record-from-answer", "record-from-ringing",
                 "record-from-answer-dual", "record-from-ringing-dual"},
                "Dial", kDialInvalidRecord);
    }
  }
  read_string(el, "recordingStatusCallback", d.recording_status_callback);
  read_method(el, "recordingStatusCallbackMethod", d.recording_status_callback_method, "Dial",
              kDialInvalidMethod);
  read_list(el, "recordingStatusCallbackEvent", d.recording_status_callback_event,
            {"in-progress", "completed", "absent"}, "Dial", kSchemaWarning);
  {
    std::string track = "both";
    read_enum(el, "recordingTrack", track, {"both", "inbound", "outbound"}, "Dial", kSchemaWarning);
  }
  read_enum(el, "trim", d.trim, {"trim-silence", "do-not-trim"}, "Dial", kSchemaWarning);
  read_bool(el, "answerOnBridge", d.answer_on_bridge, "Dial", kSchemaWarning);
  read_enum(el, "ringTone", d.ring_tone,
            {"at", "au", "bg", "br", "be", "ch", "cl", "cn", "cz",     "de", "dk", "ee", "es", "fi",
             "fr", "gr", "hu", "il", "in", "it", "lt", "jp", "mx",     "my", "nl", "no", "nz", "ph",
             "pl", "pt", "ru", "se", "sg", "th", "uk", "us", "us-old", "tw", "ve", "za"},
            "Dial", kDialInvalidRingTone);
  read_bool(el, "sequential", d.sequential, "Dial", kSchemaWarning);
  read_string(el, "referUrl", d.refer_url);
  read_method(el, "referMethod", d.refer_method, "Dial", kDialInvalidMethod);

  for (pugi::xml_node n : el.children()) {
    if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) {
      if (trim(n.value()).empty()) continue;
      if (auto t = dial_text(n)) d.targets.push_back(std::move(*t));
      continue;
    }
    if (n.type() != pugi::node_element) continue;
    const std::string_view name = n.name();
    std::optional<DialTarget> target;
    std::string_view match;
    if (name == "Number") {
      if (auto t = dial_number(n)) target = std::move(*t);
    } else if (name == "Sip") {
      if (auto t = dial_sip(n)) target = std::move(*t);
    } else if (name == "Client") {
      if (auto t = dial_client(n)) target = std::move(*t);
    } else if (name == "Conference") {
      if (auto t = dial_conference(n)) target = std::move(*t);
    } else if (name == "Queue") {
      if (auto t = dial_queue(n)) target = std::move(*t);
    } else if (is_wrong_case(name, kDialNouns, &match) ||
               is_wrong_case(name, kUnsupportedDialNouns, &match)) {
      warn(kSchemaWarning, pos(n),
           "Dial: <" + clip(name) + "> is not a Dial noun (did you mean <" + std::string(match) +
               ">? TwiML is case-sensitive); skipped");
    } else if (contains(kUnsupportedDialNouns, name)) {
      warn(kSchemaWarning, pos(n),
           "Dial: <" + clip(name) + "> is not supported by Switchboard; skipped");
    } else {
      warn(kDialInvalidNestedElement, pos(n),
           "Dial: Invalid nested element <" + clip(name) +
               "> (Number, Sip, Client, Conference or Queue); skipped");
    }
    if (target) d.targets.push_back(std::move(*target));
  }
  if (d.targets.empty()) {
    warn(kInvalidPhoneNumberFormat, d.at,
         "Dial: nothing to dial (no number, SIP URI, client, "
         "conference or queue)");
  }
  return d;
}

// Bare text inside <Dial> is a number.
std::optional<DialTarget> Builder::dial_text(pugi::xml_node text) {
  const std::string_view v = trim(text.value());
  if (auto phone = normalize_phone(v)) return DialNumber{*phone};
  if (!looks_like_phone(v) && is_sip_user(v)) return DialNumber{std::string(v)};
  warn(kInvalidPhoneNumberFormat, pos(text),
       "Dial: Invalid phone number format " + quoted(v) +
           " (E.164 digits with an optional +, or a SIP user); skipped");
  return std::nullopt;
}

std::optional<DialNumber> Builder::dial_number(pugi::xml_node el) {
  check_attributes(el, "Dial->Number",
                   {"sendDigits", "url", "method", "statusCallback", "statusCallbackMethod",
                    "statusCallbackEvent", "byoc"},
                   kMachineDetection);
  DialNumber n;
  if (pugi::xml_attribute a = el.attribute("sendDigits")) {
    const std::string_view v = trim(a.value());
    if (only_chars(v, kDigitsToSend)) {
      n.send_digits = std::string(v);
    } else {
      warn(kNumberInvalidSendDigits, pos(a, el),
           "Dial->Number: Invalid sendDigits value " + quoted(a.value()) +
               " (only 0123456789ABCD*#wW); ignored");
    }
  }
  read_string(el, "url", n.url);
  read_method(el, "method", n.method, "Dial->Number", kNumberInvalidMethod);
  read_string(el, "statusCallback", n.status_callback);
  read_method(el, "statusCallbackMethod", n.status_callback_method, "Dial->Number",
              kNumberInvalidMethod);
  read_list(el, "statusCallbackEvent", n.status_callback_event, kCallEvents, "Dial->Number",
            kSchemaWarning);
  read_string(el, "byoc", n.byoc);
  no_children(el, "Dial->Number", true);
  const std::string text = text_of(el);
  if (auto phone = normalize_phone(text)) {
    n.number = *phone;
  } else if (!looks_like_phone(text) && is_sip_user(text)) {
    n.number = text;
  } else {
    warn(kInvalidPhoneNumberFormat, pos(el),
         "Dial->Number: Invalid phone number format " + quoted(text) +
             " (E.164 digits with an optional +, or a SIP user); skipped");
    return std::nullopt;
  }
  return n;
}

std::optional<DialSip> Builder::dial_sip(pugi::xml_node el) {
  check_attributes(el, "Dial->Sip",
                   {"username", "password", "url", "method", "statusCallback",
                    "statusCallbackMethod", "statusCallbackEvent"},
                   kMachineDetection);
  DialSip s;
  read_string(el, "username", s.username);
  read_string(el, "password", s.password);
  read_string(el, "url", s.url);
  read_method(el, "method", s.method, "Dial->Sip", kSipInvalidMethod);
  read_string(el, "statusCallback", s.status_callback);
  read_method(el, "statusCallbackMethod", s.status_callback_method, "Dial->Sip", kSipInvalidMethod);
  read_list(el, "statusCallbackEvent", s.status_callback_event, kCallEvents, "Dial->Sip",
            kSchemaWarning);
  no_children(el, "Dial->Sip", true);
  s.uri = text_of(el);
  if (!is_sip_uri(s.uri)) {
    warn(kSipInvalidUri, pos(el),
         "Dial->Sip: Invalid SIP URI " + quoted(s.uri) + " (sip:user@host); skipped");
    return std::nullopt;
  }
  return s;
}

std::optional<DialClient> Builder::dial_client(pugi::xml_node el) {
  check_attributes(
      el, "Dial->Client",
      {"url", "method", "statusCallback", "statusCallbackMethod", "statusCallbackEvent"});
  DialClient c;
  read_string(el, "url", c.url);
  read_method(el, "method", c.method, "Dial->Client", kSchemaWarning);
  read_string(el, "statusCallback", c.status_callback);
  read_method(el, "statusCallbackMethod", c.status_callback_method, "Dial->Client", kSchemaWarning);
  read_list(el, "statusCallbackEvent", c.status_callback_event, kCallEvents, "Dial->Client",
            kSchemaWarning);
  std::string identity;
  bool has_identity_element = false;
  for (pugi::xml_node n : el.children()) {
    if (n.type() != pugi::node_element) continue;
    const std::string_view name = n.name();
    if (name == "Identity") {
      check_attributes(n, "Dial->Client->Identity", {});
      no_children(n, "Dial->Client->Identity", true);
      if (has_identity_element) {
        warn(kSchemaWarning, pos(n), "Dial->Client: more than one <Identity>; the first is used");
        continue;
      }
      has_identity_element = true;
      identity = text_of(n);
    } else if (name == "Parameter") {
      check_attributes(n, "Dial->Client->Parameter", {"name", "value"});
      no_children(n, "Dial->Client->Parameter", false);
      const std::string key(trim(n.attribute("name").value()));
      if (key.empty()) {
        warn(kSchemaWarning, pos(n), "Dial->Client: <Parameter> without a name; ignored");
        continue;
      }
      c.parameters.emplace_back(key, n.attribute("value").value());
    } else {
      unexpected_child(n, "Dial->Client");
    }
  }
  if (!has_identity_element) identity = text_of(el);
  if (istarts_with(identity, "client:")) identity = identity.substr(7);
  if (identity.empty() || has_control_or_space(identity)) {
    warn(kSchemaWarning, pos(el),
         "Dial->Client: Invalid client identity " + quoted(identity) + "; skipped");
    return std::nullopt;
  }
  c.identity = std::move(identity);
  return c;
}

std::optional<DialConference> Builder::dial_conference(pugi::xml_node el) {
  const std::string_view what = "Dial->Conference";
  check_attributes(el, what,
                   {"muted",
                    "beep",
                    "startConferenceOnEnter",
                    "endConferenceOnExit",
                    "waitUrl",
                    "waitMethod",
                    "maxParticipants",
                    "record",
                    "region",
                    "trim",
                    "coach",
                    "statusCallback",
                    "statusCallbackMethod",
                    "statusCallbackEvent",
                    "recordingStatusCallback",
                    "recordingStatusCallbackMethod",
                    "recordingStatusCallbackEvent",
                    "eventCallbackUrl",
                    "jitterBufferSize",
                    "participantLabel"});
  DialConference c;
  read_bool(el, "muted", c.muted, what, kConferenceInvalidMuted);
  read_enum(el, "beep", c.beep, {"true", "false", "onEnter", "onExit"}, what,
            kConferenceInvalidBeep);
  read_bool(el, "startConferenceOnEnter", c.start_conference_on_enter, what,
            kConferenceInvalidStartOnEnter);
  read_bool(el, "endConferenceOnExit", c.end_conference_on_exit, what, kConferenceInvalidEndOnExit,
            Level::kError);
  read_url(el, "waitUrl", c.wait_url, what, kConferenceInvalidWaitUrl, Level::kWarning, true);
  c.wait_url_set = static_cast<bool>(el.attribute("waitUrl"));
  read_method(el, "waitMethod", c.wait_method, what, kConferenceInvalidWaitMethod);
  read_int(el, "maxParticipants", c.max_participants,
           IntRule{2, 250, false, "an integer from 2 to 250"}, what, kSchemaWarning);
  read_enum(el, "record", c.record, {"do-not-record", "record-from-start"}, what, kSchemaWarning);
  read_enum(el, "region", c.region, {"us1", "us2", "ie1", "sg1", "br1", "au1", "jp1", "de1"}, what,
            kSchemaWarning);
  if (pugi::xml_attribute a = el.attribute("trim")) {
    // Twilio's 13239 lists trim-silence, do-not-trim, true and false.
    const auto b = parse_bool(a.value());
    if (b) {
      c.trim = *b ? "trim-silence" : "do-not-trim";
    } else {
      read_enum(el, "trim", c.trim, {"trim-silence", "do-not-trim"}, what, kConferenceInvalidTrim,
                Level::kError);
    }
  }
  read_string(el, "coach", c.coach);
  read_string(el, "statusCallback", c.status_callback);
  read_method(el, "statusCallbackMethod", c.status_callback_method, what, kSchemaWarning);
  read_list(el, "statusCallbackEvent", c.status_callback_event,
            {"start", "end", "join", "leave", "mute", "hold", "modify", "speaker", "announcement"},
            what, kSchemaWarning);
  read_string(el, "recordingStatusCallback", c.recording_status_callback);
  read_method(el, "recordingStatusCallbackMethod", c.recording_status_callback_method, what,
              kSchemaWarning);
  {
    std::vector<std::string> events;
    read_list(el, "recordingStatusCallbackEvent", events, {"in-progress", "completed", "absent"},
              what, kSchemaWarning);
  }
  read_enum(el, "jitterBufferSize", c.jitter_buffer_size, {"large", "medium", "small", "off"}, what,
            kSchemaWarning);
  read_string(el, "participantLabel", c.participant_label);
  no_children(el, what, true);
  c.name = text_of(el);
  const std::size_t length = utf8_length(c.name);
  if (length < 1 || length > kMaxConferenceName) {
    warn(kConferenceInvalidName, pos(el),
         "Dial->Conference: Invalid conference name " + quoted(c.name) +
             " (1 to 128 characters); skipped");
    return std::nullopt;
  }
  return c;
}

std::optional<DialQueue> Builder::dial_queue(pugi::xml_node el) {
  check_attributes(el, "Dial->Queue", {"url", "method", "reservationSid", "postWorkActivitySid"});
  DialQueue q;
  read_string(el, "url", q.url);
  read_method(el, "method", q.method, "Dial->Queue", kSchemaWarning);
  read_string(el, "reservationSid", q.reservation_sid);
  read_string(el, "postWorkActivitySid", q.post_work_activity_sid);
  no_children(el, "Dial->Queue", true);
  q.name = text_of(el);
  if (q.name.empty()) {
    warn(kSchemaWarning, pos(el), "Dial->Queue: no queue name; skipped");
    return std::nullopt;
  }
  return q;
}

// ---------- Redirect, Reject, Enqueue, Refer ----------

Redirect Builder::redirect(pugi::xml_node el) {
  check_attributes(el, "Redirect", {"method"});
  Redirect r;
  r.at = pos(el);
  read_method(el, "method", r.method, "Redirect", kRedirectInvalidMethod);
  no_children(el, "Redirect", true);
  r.url = text_of(el);  // empty: the current document, as a relative reference
  if (r.url.empty()) {
    warn(kSchemaWarning, pos(el),
         "Redirect: no URL; the current document is requested again (a loop unless it changes)");
  } else if (!is_http_url(r.url)) {
    warn(
        kInvalidUrlFormat, pos(el),
        "Redirect: Invalid URL " + quoted(r.url) + " (must be a relative or absolute http(s) URL)");
  }
  return r;
}

Reject Builder::reject(pugi::xml_node el) {
  check_attributes(el, "Reject", {"reason"});
  Reject r;
  r.at = pos(el);
  read_enum(el, "reason", r.reason, {"rejected", "busy"}, "Reject", kSchemaWarning);
  no_children(el, "Reject", false);
  return r;
}

std::optional<Enqueue> Builder::enqueue(pugi::xml_node el) {
  // Twilio logs the Enqueue attribute codes (14201-14206) as ERROR.
  check_attributes(el, "Enqueue",
                   {"action", "method", "waitUrl", "waitUrlMethod", "workflowSid", "maxQueueSize"});
  Enqueue e;
  e.at = pos(el);
  read_url(el, "action", e.action, "Enqueue", kEnqueueInvalidAction, Level::kError, true);
  read_method(el, "method", e.method, "Enqueue", kEnqueueInvalidMethod, Level::kError);
  read_url(el, "waitUrl", e.wait_url, "Enqueue", kEnqueueInvalidWaitUrl, Level::kError, true);
  e.wait_url_set = static_cast<bool>(el.attribute("waitUrl"));
  read_method(el, "waitUrlMethod", e.wait_url_method, "Enqueue", kEnqueueInvalidWaitUrlMethod,
              Level::kError);
  read_string(el, "workflowSid", e.workflow_sid);
  {
    int max_queue_size = 1000;
    read_int(el, "maxQueueSize", max_queue_size, IntRule{1}, "Enqueue", kSchemaWarning);
  }
  bool has_task = false;
  for (pugi::xml_node n : el.children()) {
    if (n.type() != pugi::node_element) continue;
    if (std::string_view(n.name()) == "Task") {
      check_attributes(n, "Enqueue->Task", {"priority", "timeout"});
      no_children(n, "Enqueue->Task", true);
      if (has_task) {
        warn(kSchemaWarning, pos(n), "Enqueue: more than one <Task>; the first is used");
        continue;
      }
      has_task = true;
      e.task = text_of(n);
    } else {
      unexpected_child(n, "Enqueue");
    }
  }
  e.queue_name = text_of(el);
  if (utf8_length(e.queue_name) > kMaxQueueName) {
    warn(kSchemaWarning, pos(el),
         "Enqueue: the queue name " + quoted(e.queue_name) + " is longer than 64 characters");
  }
  if (e.queue_name.empty() && e.workflow_sid.empty()) {
    warn(kSchemaWarning, pos(el), "Enqueue: no queue name and no workflowSid; skipped");
    return std::nullopt;
  }
  return e;
}

std::optional<Refer> Builder::refer(pugi::xml_node el) {
  check_attributes(el, "Refer", {"action", "method"});
  Refer r;
  r.at = pos(el);
  read_url(el, "action", r.action, "Refer", kInvalidUrlFormat, Level::kWarning, true);
  read_method(el, "method", r.method, "Refer", kSchemaWarning);
  bool has_sip = false;
  for (pugi::xml_node n : el.children()) {
    if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) {
      if (!trim(n.value()).empty()) unexpected_child(n, "Refer");
      continue;
    }
    if (n.type() != pugi::node_element) continue;
    if (std::string_view(n.name()) != "Sip") {
      unexpected_child(n, "Refer");
      continue;
    }
    check_attributes(n, "Refer->Sip", {});
    no_children(n, "Refer->Sip", true);
    if (has_sip) {
      warn(kSchemaWarning, pos(n), "Refer: more than one <Sip>; the first is used");
      continue;
    }
    const std::string uri = text_of(n);
    if (!is_sip_uri(uri)) {
      warn(kSchemaWarning, pos(n), "Refer->Sip: Invalid SIP URI " + quoted(uri));
      continue;
    }
    has_sip = true;
    r.sip_uri = uri;
  }
  if (!has_sip) {
    warn(kSchemaWarning, r.at, "Refer: no valid <Sip> to refer the call to; skipped");
    return std::nullopt;
  }
  return r;
}

// ---------- Sms, Message ----------

std::optional<Message> Builder::message(pugi::xml_node el, bool legacy_sms) {
  const std::string_view what = legacy_sms ? "Sms" : "Message";
  check_attributes(el, what, {"to", "from", "action", "method", "statusCallback"});
  Message m;
  m.at = pos(el);
  m.legacy_sms = legacy_sms;
  bool usable = true;
  if (pugi::xml_attribute a = el.attribute("to")) {
    if (auto phone = normalize_phone(a.value())) {
      m.to = *phone;
    } else {
      warn(kSmsInvalidTo, pos(a, el),
           std::string(what) + ": Invalid 'To' attribute " + quoted(a.value()) +
               " (a phone number); the message is not sent");
      usable = false;
    }
  }
  if (pugi::xml_attribute a = el.attribute("from")) {
    const std::string_view v = trim(a.value());
    // A phone number, or an alphanumeric sender ID: up to 11 letters, digits and spaces.
    const bool sender_id =
        !v.empty() && v.size() <= 11 && std::any_of(v.begin(), v.end(), is_alpha) &&
        std::all_of(v.begin(), v.end(), [](char c) { return is_alnum(c) || c == ' '; });
    if (auto phone = normalize_phone(v)) {
      m.from = *phone;
    } else if (sender_id) {
      m.from = std::string(v);
    } else {
      warn(kSmsInvalidFrom, pos(a, el),
           std::string(what) + ": Invalid 'From' attribute " + quoted(a.value()) +
               " (a phone number or an alphanumeric sender ID); the message is not sent");
      usable = false;
    }
  }
  read_string(el, "action", m.action);
  read_method(el, "method", m.method, what, kSmsInvalidMethod);
  read_url(el, "statusCallback", m.status_callback, what, kSmsInvalidStatusCallback,
           Level::kWarning, false);

  std::string body;
  bool has_body_element = false;
  for (pugi::xml_node n : el.children()) {
    if (n.type() != pugi::node_element) continue;
    const std::string_view name = n.name();
    if (!legacy_sms && name == "Body") {
      check_attributes(n, "Message->Body", {});
      no_children(n, "Message->Body", true);
      if (has_body_element) body += '\n';
      has_body_element = true;
      body += text_of(n);
    } else if (!legacy_sms && name == "Media") {
      warn(kSchemaWarning, pos(n), "Message: <Media> is not supported by Switchboard; ignored");
    } else {
      unexpected_child(n, what);
    }
  }
  if (!has_body_element) body = text_of(el);
  const std::size_t length = utf8_length(body);
  if (length == 0 || length > kMaxMessageBodyLength) {
    warn(kSmsInvalidBody, pos(el),
         std::string(what) + ": Invalid Body (" +
             (length == 0 ? std::string("empty") : std::to_string(length) + " characters") +
             "; 1 to 1600 characters); the message is not sent");
    usable = false;
  }
  if (!usable) return std::nullopt;
  m.body = std::move(body);
  return m;
}

// ---------- Connect, Start, Stop ----------

std::optional<StreamNoun> Builder::stream(pugi::xml_node el, std::string_view what, bool need_url) {
  check_attributes(
      el, what,
      {"name", "url", "track", "statusCallback", "statusCallbackMethod", "connectorName"});
  StreamNoun s;
  read_string(el, "name", s.name);
  read_string(el, "url", s.url);
  read_enum(el, "track", s.track, {"inbound_track", "outbound_track", "both_tracks"}, what,
            kSchemaWarning);
  read_string(el, "statusCallback", s.status_callback);
  read_method(el, "statusCallbackMethod", s.status_callback_method, what, kSchemaWarning);
  for (pugi::xml_node n : el.children()) {
    if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) {
      if (!trim(n.value()).empty()) unexpected_child(n, what);
      continue;
    }
    if (n.type() != pugi::node_element) continue;
    if (std::string_view(n.name()) != "Parameter") {
      unexpected_child(n, what);
      continue;
    }
    check_attributes(n, std::string(what) + "->Parameter", {"name", "value"});
    no_children(n, "Parameter", false);
    const std::string name(trim(n.attribute("name").value()));
    if (name.empty()) {
      warn(kSchemaWarning, pos(n), std::string(what) + ": <Parameter> without a name; ignored");
      continue;
    }
    s.parameters.emplace_back(name, n.attribute("value").value());
  }
  if (need_url && (!is_url(s.url, {"ws", "wss"}) || s.url.find("://") == std::string::npos)) {
    warn(kSchemaWarning, pos(el),
         std::string(what) + ": Invalid url " + quoted(s.url) +
             " (an absolute ws:// or wss:// URL); skipped");
    return std::nullopt;
  }
  return s;
}

constexpr auto kUnsupportedConnectNouns =
    std::to_array<std::string_view>({"Room", "Conversation", "VirtualAgent", "Autopilot",
                                     "ConversationRelay", "Assistant", "AiSession"});

std::optional<Connect> Builder::connect(pugi::xml_node el) {
  check_attributes(el, "Connect", {"action", "method"});
  Connect c;
  c.at = pos(el);
  read_url(el, "action", c.action, "Connect", kInvalidUrlFormat, Level::kWarning, true);
  read_method(el, "method", c.method, "Connect", kSchemaWarning);
  for (pugi::xml_node n : el.children()) {
    if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) {
      if (!trim(n.value()).empty()) unexpected_child(n, "Connect");
      continue;
    }
    if (n.type() != pugi::node_element) continue;
    const std::string_view name = n.name();
    if (name == "Stream") {
      auto s = stream(n, "Connect->Stream", true);
      if (!s) continue;
      if (c.stream) {
        warn(kSchemaWarning, pos(n), "Connect: more than one noun; only the first is used");
        continue;
      }
      c.stream = std::move(*s);
    } else if (contains(kUnsupportedConnectNouns, name)) {
      warn(kSchemaWarning, pos(n),
           "Connect: <" + clip(name) + "> is not supported by Switchboard; skipped");
    } else {
      unexpected_child(n, "Connect");
    }
  }
  if (!c.stream) {
    warn(kSchemaWarning, c.at, "Connect: nothing to connect to; skipped");
    return std::nullopt;
  }
  return c;
}

constexpr auto kUnsupportedStartNouns =
    std::to_array<std::string_view>({"Siprec", "Transcription"});

std::optional<Start> Builder::start(pugi::xml_node el) {
  check_attributes(el, "Start", {"action", "method"});
  {
    std::string action, method = "POST";
    read_string(el, "action", action);
    read_method(el, "method", method, "Start", kSchemaWarning);
  }
  Start s;
  s.at = pos(el);
  bool any_noun = false;
  for (pugi::xml_node n : el.children()) {
    if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) {
      if (!trim(n.value()).empty()) unexpected_child(n, "Start");
      continue;
    }
    if (n.type() != pugi::node_element) continue;
    const std::string_view name = n.name();
    any_noun = true;
    if (name == "Stream") {
      if (auto st = stream(n, "Start->Stream", true)) s.streams.push_back(std::move(*st));
    } else if (contains(kUnsupportedStartNouns, name)) {
      warn(kSchemaWarning, pos(n),
           "Start: <" + clip(name) + "> is not supported by Switchboard; skipped");
    } else {
      error(kStartInvalidNoun, pos(n),
            "Start: Invalid nested noun <" + clip(name) + "> (Stream, Siprec or Transcription)");
    }
  }
  if (s.streams.empty()) {
    if (!any_noun) warn(kSchemaWarning, s.at, "Start: nothing to start; skipped");
    return std::nullopt;
  }
  return s;
}

std::optional<Stop> Builder::stop(pugi::xml_node el) {
  check_attributes(el, "Stop", {});
  Stop s;
  s.at = pos(el);
  bool any_noun = false;
  for (pugi::xml_node n : el.children()) {
    if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) {
      if (!trim(n.value()).empty()) unexpected_child(n, "Stop");
      continue;
    }
    if (n.type() != pugi::node_element) continue;
    const std::string_view name = n.name();
    any_noun = true;
    if (name == "Stream") {
      check_attributes(n, "Stop->Stream", {"name"});
      no_children(n, "Stop->Stream", false);
      const std::string stream_name(trim(n.attribute("name").value()));
      if (stream_name.empty()) {
        warn(kSchemaWarning, pos(n),
             "Stop->Stream: a name is needed to stop a stream (<Stream name=\"…\"/>); skipped");
        continue;
      }
      s.stream_names.push_back(stream_name);
    } else if (contains(kUnsupportedStartNouns, name)) {
      warn(kSchemaWarning, pos(n),
           "Stop: <" + clip(name) + "> is not supported by Switchboard; skipped");
    } else {
      error(kStartInvalidNoun, pos(n),
            "Stop: Invalid nested noun <" + clip(name) + "> (Stream, Siprec or Transcription)");
    }
  }
  if (s.stream_names.empty()) {
    if (!any_noun) warn(kSchemaWarning, s.at, "Stop: nothing to stop; skipped");
    return std::nullopt;
  }
  return s;
}

}  // namespace

Document parse(std::string_view xml, const ParseLimits& limits) {
  try {
    return Builder(xml, limits).run();
  } catch (const std::exception& e) {  // allocation failure: nothing else here throws
    Document doc;
    doc.diagnostics.push_back(Diagnostic{kDocumentParseFailure, Level::kError, 0, 0,
                                         std::string("Document parse failure: ") + e.what()});
    return doc;
  }
}

}  // namespace sb::twiml
