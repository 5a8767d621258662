// What the interpreter needs from a live call, and where its next document comes from. The
// call router binds CallControl to SIP and RTP; tests bind it to a fake. TwiML knows nothing of
// SIP, RTP or HTTP.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "twiml/document.hpp"

namespace sb::twiml {

namespace asio = boost::asio;

// How a prompt (Say, Play, Pause) ended.
enum class PromptEnd {
  kCompleted,
  kInterrupted,  // a digit arrived while the prompt was interruptible (barge-in)
  kHungUp,
};

struct DigitCollection {
  int timeout_s = 5;          // for the first digit and between digits
  std::string finish_on_key;  // "" = none
  std::optional<int> num_digits;
};

struct CollectedDigits {
  std::string digits;           // without the finishing key
  std::string finished_on_key;  // the key that ended input, or ""
  bool hung_up = false;
};

// What <Gather input="speech"> (or "dtmf speech") heard: the transcript, or the keys when the
// caller pressed keys first.
struct SpeechInput {
  std::string speech;  // SpeechResult; empty when nothing was recognized
  std::optional<double> confidence;
  std::string digits;  // keys pressed before any speech (input="dtmf speech")
  std::string finished_on_key;
  bool hung_up = false;
};

struct RecordingOutcome {
  std::string recording_sid;
  std::string recording_url;
  int duration_s = 0;
  std::int64_t start_time = 0;  // Unix seconds when the recording began (after the beep)
  std::string digits;           // the key that ended the recording, or "hangup"
  bool hung_up = false;
};

struct DialOutcome {
  std::string status = "failed";  // completed, answered, busy, no-answer, failed, canceled
  std::string call_sid;           // the dialed (child) call; empty when none was placed
  int duration_s = 0;
  bool redirected = false;  // the child left the bridge for a new document: no duration
  bool bridged = false;
  bool hung_up = false;                                     // the caller hung up during the Dial
  std::vector<std::pair<std::string, std::string>> params;  // RecordingUrl, DialSip*, …
};

using Params = std::vector<std::pair<std::string, std::string>>;

// How an <Enqueue> ended (the action's QueueResult, QueueSid, QueueTime).
struct EnqueueOutcome {
  std::string result = "system-error";  // bridged, queue-full, error, hangup, leave, redirected…
  std::string queue_sid;                // empty when never enqueued
  int queue_time_s = -1;                // -1 when never enqueued
  // A REST dequeue (Members POST): the document the call runs next, instead of the action.
  std::string redirect_url, redirect_method;
};

// How a <Connect><Stream> ended.
struct ConnectOutcome {
  bool connected = false;  // false: the stream could not start (the document goes on)
};

class CallControl {
 public:
  virtual ~CallControl() = default;

  virtual bool answered() const = 0;
  virtual bool hung_up() const = 0;
  // The interpreter is about to run `verb` ("Say", "Gather", …): for live views of the call.
  virtual void on_verb(std::string_view verb) { (void)verb; }
  // Answers the call if it is not answered yet (the first verb that needs media does this).
  virtual asio::awaitable<void> answer() = 0;

  // Digits pressed while a prompt is interruptible stay buffered for collect_digits.
  virtual asio::awaitable<PromptEnd> say(const Say& say, bool interruptible) = 0;
  virtual asio::awaitable<PromptEnd> play(const Play& play, bool interruptible) = 0;
  virtual asio::awaitable<PromptEnd> pause(int seconds, bool interruptible) = 0;
  virtual asio::awaitable<CollectedDigits> collect_digits(const DigitCollection& spec) = 0;
  // <Gather input="speech | dtmf speech"> once its prompts are over: listens until the caller
  // has spoken and paused (speechTimeout), pressed keys, or said nothing for `timeout`.
  // `document_url`: the partialResultCallback resolves against it. A call that cannot
  // recognize speech hears nothing recognized.
  virtual asio::awaitable<SpeechInput> collect_speech(const Gather& /*gather*/,
                                                      std::string /*document_url*/) {
    co_return SpeechInput{};
  }
  // `document_url` is the URL of the document holding the verb: its relative URLs
  // (recordingStatusCallback) resolve against it, not against the application's URL.
  virtual asio::awaitable<RecordingOutcome> record(const Record& record,
                                                   std::string document_url) = 0;
  // `document_url`: the nouns' url and statusCallback resolve against it.
  virtual asio::awaitable<DialOutcome> dial(const Dial& dial, std::string document_url) = 0;
  virtual asio::awaitable<void> hangup() = 0;
  // Before answer: decline with busy or rejected.
  virtual asio::awaitable<void> reject(const std::string& reason) = 0;
  // <Enqueue>: waits in the queue (its waitUrl looping) until taken, dequeued or left.
  virtual asio::awaitable<EnqueueOutcome> enqueue(const Enqueue& /*enqueue*/,
                                                  std::string /*document_url*/) {
    co_return EnqueueOutcome{};
  }
  // <Connect><Stream>: the call's audio both ways with the application's server, until the
  // server closes the socket (or the call ends).
  virtual asio::awaitable<ConnectOutcome> connect(const Connect& /*connect*/,
                                                  std::string /*document_url*/) {
    co_return ConnectOutcome{};
  }
  // <Start>: forks begin and the document goes on; `document_url` resolves their callbacks.
  // Returns false when the document should stop here.
  virtual asio::awaitable<bool> start(const Start& start, std::string /*document_url*/) {
    return other(Verb(start));
  }
  // Verbs without a method of their own (Leave, Refer, Message, Stop).
  // Returns false when the document should stop here.
  virtual asio::awaitable<bool> other(const Verb& verb) = 0;
};

// A request for the next document: `url` as written in TwiML (possibly relative to `base`).
struct FetchRequest {
  std::string url;
  std::string method = "POST";
  std::string base;  // the URL of the document that asked; empty for the first
  Params params;     // Digits, RecordingUrl, DialCallStatus, … added to the call's own state
};

// What fetching gave: a document to run (text/plain and audio bodies arrive as a synthetic
// Say or Play followed by Hangup), or a failure after the fallback was tried too.
struct FetchResult {
  bool ok = false;
  Document document;
  std::string url;  // the URL the document came from (base for its relative URLs)
  int error_code = 0;
  std::string error_message;
};

class DocumentSource {
 public:
  virtual ~DocumentSource() = default;
  virtual asio::awaitable<FetchResult> fetch(FetchRequest request) = 0;
};

}  // namespace sb::twiml
