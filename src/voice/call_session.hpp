// One call from arrival to end: its record (Calls), its status callbacks and events, and its
// TwiML run through the interpreter on a CallLeg (SipCallLeg for a real call; a fake in tests).
// The session is the interpreter's CallControl: the leg does the signalling and the media, the
// session adds what is session-level (the record when the call is answered or ends, callbacks,
// events, the final status after Reject or Hangup), and a hang-up or a live modification
// cancels whatever the interpreter is waiting for.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "core/wakeup.hpp"
#include "store/store.hpp"
#include "twiml/interpreter.hpp"
#include "voice/application_source.hpp"
#include "voice/call_events.hpp"
#include "voice/call_leg.hpp"
#include "voice/call_registry.hpp"
#include "voice/dial_link.hpp"
#include "voice/routing.hpp"
#include "voice/status_callbacks.hpp"

namespace sb::speech {
class Recognizers;
}  // namespace sb::speech

namespace sb::voice {

class CallStreams;
class ConferenceRegistry;
struct MediaContext;
class QueueRegistry;

struct SessionServices {
  WebhookServices webhooks;
  store::Store& store;
  CallRegistry* registry = nullptr;           // where the REST API finds live calls
  CallEventSink* events = nullptr;            // the event router, for calls.* events
  ChildCalls* children = nullptr;             // where <Dial> places its calls (the worker)
  ConferenceRegistry* conferences = nullptr;  // the process's live conferences
  QueueRegistry* queues = nullptr;            // the process's call queues
  // The worker's media: its tick (a room opened here mixes on it), recordings directory, URLs.
  const MediaContext* media = nullptr;
  speech::Recognizers* speech = nullptr;  // <Gather input="speech">'s engines
};

// What an outbound call (Calls.json) adds to its session: how long it may ring and last, the
// digits to send once answered, an inline document instead of the application's URL.
struct OutboundPlan {
  int timeout_s = 60;
  int time_limit_s = 14400;
  std::string send_digits;
  std::string twiml;
  std::int64_t date_created = 0;  // the queued record's, Unix seconds
  std::int64_t queued_at_ms = 0;  // when the REST API queued it (the clock's ms)
  CallRecordingPlan recording;
  MachineDetectionPlan machine_detection;
  // A <Dial>'s child call: its record is new (inserted when it starts), its document is the
  // noun's whisper (none: straight to the bridge), and it reports to the Dial through `link`.
  std::shared_ptr<DialLink> link;
  // Participants.json: the room told when this call is never answered (participant_add_failed).
  std::string conference_sid;
};

struct SessionOutcome {
  std::string status;  // the call's final status
  twiml::InterpreterResult interpreter;
  std::int64_t duration_s = 0;
};

class CallSession final : public twiml::CallControl {
 public:
  // `call` carries the SIP-side facts (From, To, CallSid); `route` the application.
  // With `outbound`, the session places the call first (its record exists, queued): initiated,
  // ringing, then answered (the TwiML runs) or busy / no-answer / failed.
  CallSession(asio::any_io_executor executor, SessionServices services, CallLeg& leg, Route route,
              CallInfo call, std::optional<OutboundPlan> outbound = std::nullopt);
  ~CallSession() override;
  CallSession(const CallSession&) = delete;
  CallSession& operator=(const CallSession&) = delete;

  // Records the call, runs its TwiML to the end, records the end. Call once.
  asio::awaitable<SessionOutcome> run();

  // The caller hung up (BYE), gave up before answer (CANCEL) or never ACKed: the leg is over
  // and the interpreter is cancelled. Safe at any moment.
  void remote_hangup();

  // Live call modification (on the session's executor): the running document stops and the
  // new one runs, or the call ends. Ignored once the call is over.
  void modify(Modification m);

  const CallInfo& info() const { return call_; }
  CallLeg& leg() { return leg_; }
  const SessionServices& services() const { return services_; }
  const Route& route() const { return route_; }
  asio::any_io_executor executor() const { return executor_; }
  // A callback beside the call (recording, AsyncAmd): signed, in parallel, failures logged
  // under `name`.
  void send_callback(const char* name, const std::string& url, const std::string& method,
                     twiml::Params params);
  // A notification (debugger) about this call: a warning, or an error with `error` true.
  void warn(int code, const std::string& message, bool error = false);
  // Publishes recording.completed on calls.recordings.
  void publish_recording(const std::string& sid, const std::string& url, int duration_s);
  // A whole-call recording (Calls.json Record, <Dial record>) is complete: its event, and its
  // recordingStatusCallback (`url`, unless empty) when `events` has completed.
  void announce_call_recording(const CallLeg::CallRecording& done, const char* source,
                               const std::string& url, const std::string& method,
                               const std::vector<std::string>& events);

  // twiml::CallControl: the call's state is the leg's.
  bool answered() const override { return leg_.answered(); }
  bool hung_up() const override { return leg_.hung_up(); }
  void on_verb(std::string_view verb) override;
  // Session-level: the record, callbacks and events that go with these.
  asio::awaitable<void> answer() override;
  asio::awaitable<void> hangup() override;
  asio::awaitable<void> reject(const std::string& reason) override;
  // `document_url`: the document holding the <Record>; its recordingStatusCallback resolves
  // against it.
  asio::awaitable<twiml::RecordingOutcome> record(const twiml::Record& record,
                                                  std::string document_url) override;
  // The leg's alone: the session adds nothing to them.
  asio::awaitable<twiml::PromptEnd> say(const twiml::Say& say, bool interruptible) override {
    return leg_.say(say, interruptible);
  }
  asio::awaitable<twiml::PromptEnd> play(const twiml::Play& play, bool interruptible) override {
    return leg_.play(play, interruptible);
  }
  asio::awaitable<twiml::PromptEnd> pause(int seconds, bool interruptible) override {
    return leg_.pause(seconds, interruptible);
  }
  asio::awaitable<twiml::CollectedDigits> collect_digits(
      const twiml::DigitCollection& spec) override {
    return leg_.collect_digits(spec);
  }
  // <Gather input="speech"> (voice/speech_gather.hpp).
  asio::awaitable<twiml::SpeechInput> collect_speech(const twiml::Gather& gather,
                                                     std::string document_url) override;
  // Places the nouns' calls and bridges the one that answers (voice/dial.hpp).
  asio::awaitable<twiml::DialOutcome> dial(const twiml::Dial& dial,
                                           std::string document_url) override;
  // Waits in a queue (voice/queue_call.hpp).
  asio::awaitable<twiml::EnqueueOutcome> enqueue(const twiml::Enqueue& enqueue,
                                                 std::string document_url) override;
  // <Connect><Stream> (voice/call_streams.hpp).
  asio::awaitable<twiml::ConnectOutcome> connect(const twiml::Connect& connect,
                                                 std::string document_url) override;
  // <Start><Stream>: forks (voice/call_streams.hpp).
  asio::awaitable<bool> start(const twiml::Start& start, std::string document_url) override;
  // <Stop> (Media Streams) and the verbs the leg handles.
  asio::awaitable<bool> other(const twiml::Verb& verb) override;
  // The call's Media Streams (also started and stopped through the REST API).
  CallStreams& streams() { return *streams_; }

 private:
  void save(bool insert);
  void publish(const std::string& event, int duration_s = -1);
  void finish(const std::string& status);
  void record_answered();  // in-progress: the record, the answered callback and event
  // Outbound: dials and waits for the answer; false when the call ended unanswered (finished).
  asio::awaitable<bool> place();

  asio::any_io_executor executor_;
  SessionServices services_;
  CallLeg& leg_;
  Route route_;
  CallInfo call_;
  store::Call record_;
  std::shared_ptr<StatusCallbacks> callbacks_;
  asio::cancellation_signal cancel_;
  bool ended_ = false;
  bool far_end_hung_up_ = false;      // for the log line at the end
  std::string ended_status_;          // busy, no-answer or canceled when we ended it unanswered
  std::optional<Modification> next_;  // a live modification waiting for the interpreter to stop
  std::optional<OutboundPlan> outbound_;
  int sip_response_code_ = 0;  // the final SIP response, reported with the completed callback
  std::optional<asio::steady_timer> time_limit_;
  // Calls.json Record: the recording of the whole call, stopped at its end and announced.
  bool call_recording_ = false;
  asio::awaitable<void> finish_call_recording();
  // A Dial's child: waits, bridged, until its call ends or a live modification takes it out.
  asio::awaitable<void> wait_in_bridge();
  DialLink* link() const { return outbound_ ? outbound_->link.get() : nullptr; }
  bool whisper_done_ = false;
  // Calls.json MachineDetection: synchronous (the first document waits for AnsweredBy) or in
  // parallel with the document (AsyncAmd), which the call's end stops and waits for.
  asio::awaitable<void> detect_machine();
  asio::awaitable<std::optional<media::MachineVerdict>> listen_for_machine(
      asio::cancellation_signal& stop);
  void start_async_detection();
  asio::awaitable<void> stop_async_detection();
  void take_verdict(const media::MachineVerdict& verdict);
  asio::cancellation_signal amd_cancel_;
  bool amd_running_ = false;
  Wakeup amd_done_;
  // Last: its streams report through the session's members until stopped.
  std::unique_ptr<CallStreams> streams_;
};

}  // namespace sb::voice
