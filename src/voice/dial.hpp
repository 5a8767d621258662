// <Dial> with <Number>, <Sip> and <Client> nouns (TWILIO-VOICE-2.md §1): places a child call
// (direction outbound-dial, parent_call_sid the caller's) per noun through the worker that runs
// the caller (ChildCalls), all at once or one after another (sequential), lets the first to
// answer win and hangs up the others, runs its whisper, then joins its media to the caller's
// (media::RtpBridge: relayed when both legs speak the same codec, else transcoded) until one
// side hangs up, the caller presses * (hangupOnStar), timeLimit passes, or a live
// modification moves either call. The caller hears ringback (ringTone) while it rings, or stays
// unanswered until the bridge (answerOnBridge). record= records the bridge (mono, or dual:
// the caller in channel 1, the called party in channel 2).
//
// Outcome (the action's parameters): DialCallStatus completed when a child answered, else the
// children's (busy, no-answer, failed; canceled when the caller left first), DialCallSid,
// DialCallDuration, DialBridged, RecordingUrl, and DialSipResponseCode for <Sip>.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "media/rtp_bridge.hpp"
#include "twiml/call_control.hpp"
#include "voice/call_session.hpp"
#include "voice/outbound.hpp"

namespace sb::voice {

class DialVerb {
 public:
  static constexpr std::size_t kMaxNouns = 10;             // Twilio rings at most 10 at once
  static constexpr std::size_t kMaxParameterBytes = 1024;  // <Client><Parameter>s as headers

  explicit DialVerb(CallSession& parent);
  ~DialVerb();
  DialVerb(const DialVerb&) = delete;
  DialVerb& operator=(const DialVerb&) = delete;

  // Cancellation (the caller's session cancels it) ends every child; a caller who hung up
  // still gets an outcome (the action is requested, as on Twilio); a live modification of the
  // caller's call ends with operation_aborted (no action).
  asio::awaitable<twiml::DialOutcome> run(const twiml::Dial& dial, const std::string& document_url);

  // One party to call, from a noun.
  struct Party {
    std::string kind;              // Number, Sip or Client
    std::string to;                // +14155550100, sip:alice@host, client:alice
    VoiceApplication application;  // url (whisper) and statusCallback, resolved
    std::string send_digits;
    std::optional<sip::Credentials> credentials;
    std::vector<std::pair<std::string, std::string>> headers;  // <Client><Parameter>s, as X-
  };
  // The parties of `dial`'s nouns (at most kMaxNouns; Conference and Queue are not here yet):
  // what is left out is reported as a warning.
  std::vector<Party> parties(const twiml::Dial& dial, const std::string& document_url);

 private:
  // The From of a child call: callerId checked against Twilio's rules, or the caller's From.
  Result<std::string> caller_id(const twiml::Dial& dial, const Party& party);
  std::shared_ptr<DialLink> start(const twiml::Dial& dial, const Party& party);
  void end_child(DialLink& link);
  void start_ringback(const std::string& country);
  // A ringing child's early media reaches the caller (a 183 first if it is not answered).
  void start_early_media(DialLink& from);
  void stop_ringback();
  void start_recording(const twiml::Dial& dial);
  asio::awaitable<void> finish_recording(const twiml::Dial& dial, const std::string& document_url,
                                         twiml::DialOutcome& out);
  void bridge(DialLink& winner, bool hangup_on_star);
  void unbridge(DialLink* winner);

  CallSession& parent_;
  std::shared_ptr<Wakeup> wake_;
  std::shared_ptr<bool> star_ = std::make_shared<bool>(false);
  bool ringback_ = false;
  bool recording_ = false;
  std::unique_ptr<media::RtpBridge> bridge_;
  std::unique_ptr<media::RtpBridge> early_;  // from early_from_, until someone answers
  DialLink* early_from_ = nullptr;
  bool caller_early_ = false;  // the caller got a 183 with SDP (answerOnBridge)
};

}  // namespace sb::voice
