// CallLeg: one party of a call as everything above SIP sees it. An inbound leg (a UAS dialog,
// SipCallLeg) and an outbound one (a UAC dialog: Calls.json, <Dial>) are the same kind: TwiML
// runs on either through the verbs of twiml::CallControl, which the leg carries out with its
// signalling and media; CallSession adds only what is session-level (records, callbacks, events).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "media/machine_detector.hpp"
#include "media/rtp_session.hpp"

#include "twiml/call_control.hpp"

namespace sb::voice {

namespace asio = boost::asio;

// As a CallControl a leg is:
//   answered()  once the far end has the call up (inbound: the UA sent our 200 OK);
//   hung_up()   once either side ended it;
//   answer()    brings it up, returning when the UA has answered or refused (a CANCEL won):
//               answered() or hung_up() tells which;
//   hangup()    BYE once answered, a decline (603) before;
//   reject()    declines before answer: "busy" 486 Busy Here, else 603 Decline.
// Cancellation is reported one way: a wait whose coroutine is cancelled (the caller hung up, or a
// live modification stops the document) ends with the operation_aborted exception. Verbs started
// on a leg that is already over return at once with their hung-up outcome.
// How placing an outbound leg ended.
struct PlaceOutcome {
  bool answered = false;
  int sip_status = 0;  // the far end's final response (200 when answered; 487 after our CANCEL)
  std::string status;  // when not answered: busy, no-answer or failed (Twilio's names)
  std::string reason;  // why, in words, for the Notification
};

class CallLeg : public twiml::CallControl {
 public:
  // Outbound legs: dials the far end and waits for its answer, at most `timeout` of ringing
  // (then CANCEL: no-answer). `on_ringing` runs once, at the first 180/183. Cancelling the
  // coroutine (Calls API Status=canceled) sends CANCEL and ends with operation_aborted.
  virtual asio::awaitable<PlaceOutcome> place(std::chrono::seconds timeout,
                                              std::function<void()> on_ringing) = 0;
  // Ends a leg that is not answered from our side: 487 Request Terminated (Calls API
  // Status=canceled). No effect once answered or over.
  virtual asio::awaitable<void> cancel() = 0;
  // The far end went away (BYE, CANCEL, no ACK): hung_up() from now on, media stops.
  virtual void remote_end() = 0;

  // A whole-call recording (Calls.json Record=true) beside any <Record>: both parties, mixed
  // or `dual` (two channels). Stopping it (or the call's end, whichever is first) closes the
  // file; stop_call_recording stores the Recording row and says what was recorded.
  struct CallRecording {
    std::string sid, url;
    int duration_s = 0;
    int channels = 1;
    std::int64_t start_time = 0;  // Unix seconds
  };
  virtual Status start_call_recording(bool /*dual*/, bool /*trim*/) {
    return Error::internal("this leg cannot record the call");
  }
  // `source`: the Recording's source (OutboundAPI for Calls.json Record, DialVerb for <Dial
  // record>).
  virtual asio::awaitable<std::optional<CallRecording>> stop_call_recording(
      std::string /*source*/ = "OutboundAPI") {
    co_return std::nullopt;
  }

  // <Dial>: the leg's RTP session (to bridge it to another leg's on the same worker); nullptr
  // when it has none (over, or not a real call).
  virtual std::shared_ptr<media::RtpSession> media_session() { return nullptr; }
  // The leg's RTP figures so far, also once the call is over (for the call record); nullopt
  // when it never had media.
  struct MediaFigures {
    std::uint64_t packets_received = 0, packets_sent = 0, bytes_received = 0, bytes_sent = 0;
    std::uint64_t packets_lost = 0, packets_late = 0;
  };
  virtual std::optional<MediaFigures> media_figures() const { return std::nullopt; }
  // Every key the far end presses (RFC 4733, in-band or SIP INFO), Gather or not, goes to
  // `watch` too until it is reset (hangupOnStar, digits passed across a decoding bridge).
  virtual void watch_keys(std::function<void(char)> /*watch*/) {}
  // An inbound leg not answered yet: 183 with our SDP, and what we play from then on reaches the
  // caller before answer (<Dial answerOnBridge> relaying the called party's early media).
  virtual void start_early_media() {}
  // An outbound leg's SIP Call-ID, once dialled (<Dial><Sip>: DialSipCallId).
  virtual std::string sip_call_id() const { return {}; }
  // The X- headers of an outbound leg's final response (DialSipHeader_*).
  virtual std::vector<std::pair<std::string, std::string>> sip_final_headers() const { return {}; }
  // The SIP signalling's summary so far (SipTrace's JSON), for the call record; "" without SIP.
  virtual std::string sip_summary() const { return {}; }

  // Answering-machine detection (Calls.json MachineDetection) on what the far end sends from
  // now on: returns the detector's verdict, or nullopt when the call ended first (or this leg
  // has no audio to listen to). Cancelling the coroutine stops the detector.
  virtual asio::awaitable<std::optional<media::MachineVerdict>> detect_machine(
      media::MachineDetectorOptions /*options*/) {
    co_return std::nullopt;
  }
};

}  // namespace sb::voice
