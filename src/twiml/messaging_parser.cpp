// Messaging TwiML: the reply to an inbound message, <Message> and <Redirect> in a <Response>.
// The document-level checks (strict XML 12100, root 12102, version 12101, limits) and the
// attribute readers are the voice parser's (response_reader.hpp); this file adds the dialect.
//
// Codes and levels. Where the voice parser reports a rule for the same verb or attribute, the
// code and level are its own: unknown attributes and unexpected children 12200, a wrong method
// 14104 (Redirect: 13710), an action that is not an http(s) URL 11100 and a statusCallback
// 14105, all warnings with the attribute ignored. A messaging reply has nothing to fall back
// to, so what would make a message unsendable is an error and the document does not run:
// - a verb other than <Message> and <Redirect> (a voice verb, a wrong-case name): 12200;
// - a line break in to or from: 14101 / 14102 (an address is one line; NUL is not XML: 12100);
// - an empty body with no <Media>, or a body over 1600 characters (code points): 14103, which
//   Twilio's dictionary gives for exactly these two causes;
// - an empty or malformed <Media> URL: 11100; an 11th <Media>: 21623, Twilio's "Number of media
//   files exceeds allowed limit" (10 per message);
// - an 11th <Message>: 14109, Twilio's "TwiML Reply message limit exceeded" (10 replies per
//   inbound message): a warning, as Twilio logs it, and like Twilio only the first ten are kept;
// - a <Redirect> without a URL or with a malformed one: 12200 / 11100.
// <Body> nouns are joined with '\n', as the voice parser joins them (empty ones are skipped). A
// <Message action> or a <Redirect> hands the flow to other TwiML: the verbs after it never run, and
// each is reported (12200 warning, naming that line) and left out of the document.
//
// This file is compiled in unity batches with the module's other sources: its names live in
// detail's anonymous namespace (no using-directive that would leak into the batch), and its
// calls of quoted() are qualified (see response_reader.hpp).
#include <algorithm>
#include <exception>
#include <string>
#include <string_view>
#include <utility>

#include "core/text.hpp"
#include "twiml/messaging_document.hpp"
#include "twiml/response_reader.hpp"

namespace sb::twiml::detail {
namespace {

constexpr int kReplyMessageLimitExceeded = 14109;
constexpr int kMediaLimitExceeded = 21623;

bool is_text(pugi::xml_node n) {
  return n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata;
}

class MessagingBuilder : public ResponseReader {
 public:
  using ResponseReader::ResponseReader;

  MessagingDocument run();

 private:
  void build_response(pugi::xml_node root);
  void invalid_verb(pugi::xml_node el);
  MessageVerb message(pugi::xml_node el);
  MessagingRedirect redirect(pugi::xml_node el);
  void read_address(pugi::xml_node el, const char* name, std::string& out, int code);
  void add_media(pugi::xml_node el, MessageVerb& m);

  MessagingDocument doc_;
};

MessagingDocument MessagingBuilder::run() {
  if (const pugi::xml_node root = open_response()) build_response(root);
  doc_.diagnostics = take_diagnostics();
  return std::move(doc_);
}

void MessagingBuilder::build_response(pugi::xml_node root) {
  std::size_t messages = 0;
  std::string flow_ends;  // once set, the verb that hands the flow on, for the unreachable rest
  for (pugi::xml_node n : root.children()) {
    if (is_text(n)) {
      if (!trim(n.value()).empty()) {
        warn(kSchemaWarning, pos(n), "Response: text outside a verb; ignored");
      }
      continue;
    }
    if (n.type() != pugi::node_element) continue;  // comments, processing instructions
    const std::string_view name = n.name();
    if (name != "Message" && name != "Redirect") {
      invalid_verb(n);
      continue;
    }
    // Checked even when unreachable: the document is still wrong where it is wrong.
    MessagingVerb verb = name == "Message" ? MessagingVerb(message(n)) : redirect(n);
    if (!flow_ends.empty()) {
      warn(kSchemaWarning, pos(n),
           "<" + std::string(name) + "> is unreachable after " + flow_ends + "; skipped");
      continue;
    }
    if (const auto* m = std::get_if<MessageVerb>(&verb)) {
      if (++messages > kMaxMessagesPerResponse) {
        if (messages == kMaxMessagesPerResponse + 1) {
          warn(kReplyMessageLimitExceeded, pos(n),
               "TwiML reply message limit exceeded: at most " +
                   std::to_string(kMaxMessagesPerResponse) +
                   " <Message> verbs per response; the first ten are sent, the rest skipped");
        }
        continue;
      }
      if (!m->action.empty()) {
        flow_ends = "the <Message action> at line " + std::to_string(m->line) +
                    " (the flow continues with the TwiML its action returns)";
      }
    } else {
      flow_ends = "the <Redirect> at line " + std::to_string(pos(n).line) +
                  " (the flow continues with the TwiML its URL returns)";
    }
    doc_.verbs.push_back(std::move(verb));
  }
}

void MessagingBuilder::invalid_verb(pugi::xml_node el) {
  const std::string_view name = el.name();
  std::string_view match;
  std::string why;
  if (is_wrong_case(name, {"Message", "Redirect"}, &match)) {
    why = "did you mean <" + std::string(match) + ">? TwiML is case-sensitive";
  } else if (name == "Sms" || std::any_of(kVerbNames.begin(), kVerbNames.end(),
                                          [&](const char* verb) { return name == verb; })) {
    why = "a voice verb; messaging TwiML has <Message> and <Redirect>";
  } else {
    why = "messaging TwiML has <Message> and <Redirect>";
  }
  error(kSchemaWarning, pos(el), "invalid verb for messaging <" + clip(name) + "> (" + why + ")");
}

MessageVerb MessagingBuilder::message(pugi::xml_node el) {
  check_attributes(el, "Message", {"to", "from", "action", "method", "statusCallback"});
  MessageVerb m;
  m.line = pos(el).line;
  read_address(el, "to", m.to, kSmsInvalidTo);
  read_address(el, "from", m.from, kSmsInvalidFrom);
  read_url(el, "action", m.action, "Message", kInvalidUrlFormat, Level::kWarning, true);
  if (std::string method = "POST";
      read_method(el, "method", method, "Message", kSmsInvalidMethod)) {
    m.method = std::move(method);
  }
  read_url(el, "statusCallback", m.status_callback, "Message", kSmsInvalidStatusCallback,
           Level::kWarning, false);

  bool has_body = false;
  std::size_t media = 0;
  pugi::xml_node loose_text;  // text directly in <Message>, the body unless <Body> is used
  for (pugi::xml_node n : el.children()) {
    if (is_text(n)) {
      if (!loose_text && !trim(n.value()).empty()) loose_text = n;
      continue;
    }
    if (n.type() != pugi::node_element) continue;
    const std::string_view name = n.name();
    if (name == "Body") {
      check_attributes(n, "Message->Body", {});
      no_children(n, "Message->Body", true);
      has_body = true;
      // Empty nouns add nothing, not even a line break: "<Body/><Body/>" is an empty body.
      if (const std::string part = text_of(n); !part.empty()) {
        if (!m.body.empty()) m.body += '\n';
        m.body += part;
      }
    } else if (name == "Media") {
      if (++media == kMaxMediaPerMessage + 1) {
        error(kMediaLimitExceeded, pos(n),
              "Message: more than " + std::to_string(kMaxMediaPerMessage) +
                  " <Media> (the number of media files exceeds the limit per message)");
      }
      if (media <= kMaxMediaPerMessage) add_media(n, m);
    } else {
      unexpected_child(n, "Message");
    }
  }
  if (!has_body) {
    m.body = text_of(el);
  } else if (loose_text) {
    warn(kSchemaWarning, pos(loose_text),
         "Message: text outside <Body> is ignored when <Body> is used");
  }

  const std::size_t length = utf8_length(m.body);
  if (length > kMaxMessageBodyLength) {
    error(kSmsInvalidBody, pos(el),
          "Message: Invalid Body (" + std::to_string(length) + " characters; at most " +
              std::to_string(kMaxMessageBodyLength) + ")");
  } else if (length == 0 && media == 0) {
    error(kSmsInvalidBody, pos(el),
          "Message: Invalid Body (empty, and no <Media>): nothing to send");
  }
  return m;
}

void MessagingBuilder::add_media(pugi::xml_node el, MessageVerb& m) {
  check_attributes(el, "Message->Media", {});
  no_children(el, "Message->Media", true);
  std::string url = text_of(el);
  if (url.empty()) {
    error(kInvalidUrlFormat, pos(el), "Message->Media: no URL");
  } else if (!is_http_url(url)) {
    error(kInvalidUrlFormat, pos(el),
          "Message->Media: Invalid URL " + detail::quoted(url) +
              " (must be a relative or absolute http(s) URL)");
  } else {
    m.media.push_back(std::move(url));
  }
}

// `to` and `from` are free text (a number, a sender ID, whatsapp:…, a client), but one line: a
// CR or LF would reach the headers and form fields the address is written into.
void MessagingBuilder::read_address(pugi::xml_node el, const char* name, std::string& out,
                                    int code) {
  const pugi::xml_attribute a = el.attribute(name);
  if (!a) return;
  const std::string_view v = a.value();
  if (v.find_first_of("\r\n") != std::string_view::npos) {
    error(code, pos(a, el),
          std::string("Message: Invalid '") + name +
              "' attribute: it holds a line break (CR or LF); an address is one line");
    return;
  }
  out = std::string(trim(v));
}

MessagingRedirect MessagingBuilder::redirect(pugi::xml_node el) {
  check_attributes(el, "Redirect", {"method"});
  MessagingRedirect r;
  r.line = pos(el).line;
  read_method(el, "method", r.method, "Redirect", kRedirectInvalidMethod);
  no_children(el, "Redirect", true);
  r.url = text_of(el);
  if (r.url.empty()) {
    error(kSchemaWarning, pos(el), "Redirect: no URL to continue with");
  } else if (!is_http_url(r.url)) {
    error(kInvalidUrlFormat, pos(el),
          "Redirect: Invalid URL " + detail::quoted(r.url) +
              " (must be a relative or absolute http(s) URL)");
  }
  return r;
}

}  // namespace
}  // namespace sb::twiml::detail

namespace sb::twiml {

MessagingDocument parse_messaging(std::string_view xml, const ParseLimits& limits) {
  try {
    return detail::MessagingBuilder(xml, limits).run();
  } catch (const std::exception& e) {  // allocation failure: nothing else here throws
    MessagingDocument doc;
    doc.diagnostics.push_back(Diagnostic{detail::kDocumentParseFailure, Level::kError, 0, 0,
                                         std::string("Document parse failure: ") + e.what()});
    return doc;
  }
}

}  // namespace sb::twiml
