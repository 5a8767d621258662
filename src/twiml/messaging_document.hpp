// The messaging TwiML document model (the reply to an inbound message: <Message> and <Redirect>
// in a <Response>) and its parser. Diagnostics carry Twilio error codes, as the voice parser's.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "twiml/document.hpp"
#include "twiml/parser.hpp"

namespace sb::twiml {

// Twilio's limits on a messaging reply.
inline constexpr std::size_t kMaxMessagesPerResponse = 10;  // <Message> verbs that run
inline constexpr std::size_t kMaxMediaPerMessage = 10;      // <Media> nouns in one <Message>
inline constexpr std::size_t kMaxMessageBodyLength = 1600;  // characters (code points)

struct MessageVerb {
  std::string to;      // "": the sender of the inbound message
  std::string from;    // "": the number that received it
  std::string action;  // "": none; else the flow continues with the TwiML it returns
  std::string method;  // of the action request; "": POST
  std::string status_callback;
  std::string body;                // the text, or the <Body> nouns joined by '\n'
  std::vector<std::string> media;  // <Media> URLs, at most kMaxMediaPerMessage
  int line = 0;
};

struct MessagingRedirect {
  std::string url;
  std::string method = "POST";
  int line = 0;
};

using MessagingVerb = std::variant<MessageVerb, MessagingRedirect>;

struct MessagingDocument {
  // The verbs that run, in order. Verbs after a <Message action> or a <Redirect> never run:
  // they are checked (and reported as unreachable) but not kept.
  std::vector<MessagingVerb> verbs;
  std::vector<Diagnostic> diagnostics;  // errors and warnings, in source order

  // False when any diagnostic is an error: such a document is not executed.
  bool ok() const {
    for (const auto& d : diagnostics) {
      if (d.level == Level::kError) return false;
    }
    return true;
  }
};

// Never throws; a document that cannot be parsed comes back with a 12100 error and no verbs.
MessagingDocument parse_messaging(std::string_view xml, const ParseLimits& limits = {});

}  // namespace sb::twiml
