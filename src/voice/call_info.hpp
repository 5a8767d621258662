// A call's state as Twilio's webhooks carry it (AccountSid, CallSid, From, To, CallStatus, …),
// and the application that answers it (primary URL, fallback URL, status callback).
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "media/machine_detector.hpp"
#include "twiml/call_control.hpp"

namespace sb::voice {

namespace asio = boost::asio;

struct CallInfo {
  std::string account_sid;
  std::string call_sid;
  std::string from;
  std::string to;
  std::string status = "ringing";     // queued, ringing, in-progress, completed, busy, …
  std::string direction = "inbound";  // inbound, outbound-api, outbound-dial
  std::string forwarded_from;
  std::string caller_name;
  std::string parent_call_sid;
  std::string answered_by;  // AnsweredBy, once answering-machine detection decided
  // Calls through a SIP domain: SipDomain, SipDomainSid, SipCallId, SipSourceIp (as Twilio).
  std::vector<std::pair<std::string, std::string>> sip_params;
};

// The parameters every request about this call carries, in Twilio's names:
// AccountSid, ApiVersion, CallSid, CallStatus, Called, Caller, Direction, From, To, and
// ForwardedFrom, CallerName, ParentCallSid when known.
twiml::Params call_params(const CallInfo& call);

// Calls.json Record=true: the whole answered call is recorded (RecordingChannels mono: both
// parties mixed, dual: two channels), Trim trims leading and trailing silence, and
// RecordingStatusCallback hears of it when it completes.
struct CallRecordingPlan {
  bool enabled = false;
  bool dual = false;
  bool trim = true;
  std::string callback;
  std::string callback_method = "POST";
  std::vector<std::string> callback_events = {"completed"};
};

// Calls.json MachineDetection (Enable or DetectMessageEnd) and its thresholds. Synchronous by
// default: the first TwiML request waits for the verdict and carries AnsweredBy. With AsyncAmd
// the TwiML runs at once and the verdict goes to AsyncAmdStatusCallback.
struct MachineDetectionPlan {
  bool enabled = false;
  media::MachineDetectorOptions options;
  bool async = false;
  std::string callback;
  std::string callback_method = "POST";
};

struct VoiceApplication {
  std::string url;
  std::string method = "POST";
  std::string fallback_url;
  std::string fallback_method = "POST";
  std::string status_callback;
  std::string status_callback_method = "POST";
  // initiated, ringing, answered, completed; Twilio's default is completed only.
  std::set<std::string> status_callback_events = {"completed"};
};

}  // namespace sb::voice
