// Executes TwiML on a call, verb by verb, fetching the next document from action URLs and
// Redirect, until the call ends, the documents run out, or an error stops it.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "twiml/call_control.hpp"

namespace sb::twiml {

struct InterpreterLimits {
  int max_documents = 100;     // chained fetches per call, so a redirect loop ends
  bool hang_up_at_end = true;  // false for a Dial whisper: the called party stays for the bridge
};

enum class CallEnd {
  kCompleted,  // the documents ran out or Hangup
  kRejected,   // Reject before answer
  kHungUp,     // the caller went away
  kError,      // no usable document (after fallback) or too many documents
};

struct InterpreterResult {
  CallEnd end = CallEnd::kCompleted;
  int error_code = 0;
  std::string error_message;
  int documents = 0;  // how many documents ran
};

// The prompt played when no usable document could be had; the call then ends.
inline constexpr const char* kApplicationErrorText =
    "We are sorry, an application error has occurred. Goodbye.";

class Interpreter {
 public:
  Interpreter(CallControl& call, DocumentSource& source, InterpreterLimits limits = {});

  // Fetches `first` and runs it and everything it leads to. Cancelling the coroutine (what a
  // hang-up does) aborts the pending fetch or media operation and ends with kHungUp.
  asio::awaitable<InterpreterResult> run(FetchRequest first);

 private:
  asio::awaitable<InterpreterResult> run_documents(FetchRequest first);
  enum class Next { kContinue, kStop, kFetch };
  struct Step {
    Next next = Next::kContinue;
    FetchRequest fetch;  // when next == kFetch
  };

  asio::awaitable<Step> execute(const Verb& verb, const std::string& doc_url);
  asio::awaitable<Step> gather(const Gather& g, const std::string& doc_url);
  asio::awaitable<Step> record(const Record& r, const std::string& doc_url);
  asio::awaitable<Step> dial(const Dial& d, const std::string& doc_url);
  asio::awaitable<Step> connect(const Connect& c, const std::string& doc_url);
  asio::awaitable<Step> enqueue(const Enqueue& e, const std::string& doc_url);
  asio::awaitable<void> fail(InterpreterResult& result, int code, std::string message);

  CallControl& call_;
  DocumentSource& source_;
  InterpreterLimits limits_;
};

}  // namespace sb::twiml
