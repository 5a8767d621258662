// CallLeg: one party of a call as everything above SIP sees it. An inbound leg (a UAS dialog,
// SipCallLeg) and an outbound one (a UAC dialog: Calls.json, <Dial>) are the same kind: TwiML
// runs on either through the verbs of twiml::CallControl, which the leg carries out with its
// signalling and media; CallSession adds only what is session-level (records, callbacks, events).
#pragma once

#include <boost/asio/awaitable.hpp>

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
class CallLeg : public twiml::CallControl {
 public:
  // Ends a leg that is not answered from our side: 487 Request Terminated (Calls API
  // Status=canceled). No effect once answered or over.
  virtual asio::awaitable<void> cancel() = 0;
  // The far end went away (BYE, CANCEL, no ACK): hung_up() from now on, media stops.
  virtual void remote_end() = 0;
};

}  // namespace sb::voice
