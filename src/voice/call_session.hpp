// One call from arrival to end: its record (Calls), its status callbacks, and its TwiML run
// through the interpreter on a CallLeg. The call router binds CallLeg to a SIP dialog and an
// RTP session; tests bind it to a fake. The session is the interpreter's CallControl: it answers
// when the first verb needs media, maps Reject to busy (486) or no-answer (603), and a caller's
// BYE or CANCEL (remote_hangup) cancels whatever the interpreter is waiting for.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <memory>

#include "store/store.hpp"
#include "twiml/interpreter.hpp"
#include "voice/application_source.hpp"
#include "voice/call_events.hpp"
#include "voice/call_registry.hpp"
#include "voice/routing.hpp"
#include "voice/status_callbacks.hpp"

namespace sb::voice {

// The live call as the session drives it.
class CallLeg {
 public:
  virtual ~CallLeg() = default;
  // 200 OK with our SDP; false when the caller is already gone.
  virtual asio::awaitable<bool> answer() = 0;
  // A final non-2xx before answer: 486 Busy Here or 603 Decline.
  virtual asio::awaitable<void> reject(int sip_status) = 0;
  // BYE from our side.
  virtual asio::awaitable<void> hangup() = 0;
  virtual asio::awaitable<twiml::PromptEnd> say(const twiml::Say& say, bool interruptible) = 0;
  virtual asio::awaitable<twiml::PromptEnd> play(const twiml::Play& play, bool interruptible) = 0;
  virtual asio::awaitable<twiml::PromptEnd> pause(int seconds, bool interruptible) = 0;
  virtual asio::awaitable<twiml::CollectedDigits> collect_digits(
      const twiml::DigitCollection& spec) = 0;
  virtual asio::awaitable<twiml::RecordingOutcome> record(const twiml::Record& record) = 0;
  virtual asio::awaitable<twiml::DialOutcome> dial(const twiml::Dial& dial) = 0;
  virtual asio::awaitable<bool> other(const twiml::Verb& verb) = 0;
};

struct SessionServices {
  WebhookServices webhooks;
  store::Store& store;
  CallRegistry* registry = nullptr;  // where the REST API finds live calls
  CallEventSink* events = nullptr;   // the event router, for calls.* events
};

struct SessionOutcome {
  std::string status;  // the call's final status
  twiml::InterpreterResult interpreter;
  std::int64_t duration_s = 0;
};

class CallSession final : public twiml::CallControl {
 public:
  // `call` carries the SIP-side facts (From, To, CallSid); `route` the application.
  CallSession(asio::any_io_executor executor, SessionServices services, CallLeg& leg, Route route,
              CallInfo call);

  // Records the call, runs its TwiML to the end, records the end. Call once.
  asio::awaitable<SessionOutcome> run();

  // The caller hung up (BYE) or gave up before answer (CANCEL). Safe at any moment.
  void remote_hangup();

  // Live call modification (on the session's executor): the running document stops and the
  // new one runs, or the call ends. Ignored once the call is over.
  void modify(Modification m);

  const CallInfo& info() const { return call_; }

  bool answered() const override { return answered_; }
  bool hung_up() const override { return hung_up_; }
  asio::awaitable<void> answer() override;
  asio::awaitable<twiml::PromptEnd> say(const twiml::Say& say, bool interruptible) override;
  asio::awaitable<twiml::PromptEnd> play(const twiml::Play& play, bool interruptible) override;
  asio::awaitable<twiml::PromptEnd> pause(int seconds, bool interruptible) override;
  asio::awaitable<twiml::CollectedDigits> collect_digits(
      const twiml::DigitCollection& spec) override;
  asio::awaitable<twiml::RecordingOutcome> record(const twiml::Record& record,
                                                  std::string document_url) override;
  asio::awaitable<twiml::DialOutcome> dial(const twiml::Dial& dial) override;
  asio::awaitable<void> hangup() override;
  asio::awaitable<void> reject(const std::string& reason) override;
  asio::awaitable<bool> other(const twiml::Verb& verb) override;

 private:
  void save(bool insert);
  void publish(const std::string& event, int duration_s = -1);
  void finish(const std::string& status);

  asio::any_io_executor executor_;
  SessionServices services_;
  CallLeg& leg_;
  Route route_;
  CallInfo call_;
  store::Call record_;
  std::shared_ptr<StatusCallbacks> callbacks_;
  asio::cancellation_signal cancel_;
  bool answered_ = false;
  bool hung_up_ = false;
  bool ended_ = false;
  std::string rejected_status_;       // busy or no-answer after a Reject
  std::optional<Modification> next_;  // a live modification waiting for the interpreter to stop
};

}  // namespace sb::voice
