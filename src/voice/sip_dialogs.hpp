// SipDialogs: a SIP call leg's view of the SIP worker, the dialog operations it asks for.
// The call router implements it by posting to the worker that runs the SIP stack.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <string>

#include "core/error.hpp"
#include "sip/refusal.hpp"
#include "sip/user_agent.hpp"
#include "voice/outbound.hpp"

namespace sb::voice {

// Callable from any worker. A dialog that is gone by the time an operation reaches it reports
// its end through the router (BYE/CANCEL), not through these.
class SipDialogs {
 public:
  virtual ~SipDialogs() = default;
  virtual void ringing(sip::CallHandle call) = 0;
  // 183 Session Progress carrying `sdp` (our answer): media flows to the caller before answer.
  virtual void early_media(sip::CallHandle call, std::string sdp) = 0;
  // 200 OK carrying `sdp`: our answer, or our offer when the INVITE had none. `done` runs on
  // `reply_to` with the UA's verdict: an error when the dialog can no longer be answered (the
  // caller's CANCEL got there first), and then the caller never saw a 200.
  virtual void answer(sip::CallHandle call, std::string sdp, boost::asio::any_io_executor reply_to,
                      std::function<void(Status)> done) = 0;
  virtual void reject(sip::CallHandle call, sip::Refusal refusal) = 0;
  // BYE once answered; CANCEL for an outbound call that is still ringing.
  virtual void hangup(sip::CallHandle call) = 0;
  // An outbound INVITE: `done` runs on `reply_to` with the new call's handle (the far end's
  // progress then reaches the leg through its worker), or why it could not be sent.
  virtual void dial(sip::OutboundCall call, boost::asio::any_io_executor reply_to,
                    std::function<void(Result<sip::CallHandle>)> done) = 0;
  // Where a <Dial> child call to `to` goes for the account (a number through its trunks, a sip:
  // URI, client:NAME at its registrations); `done` runs on `reply_to`. The child counts as
  // dialling from here until dial() sends its INVITE or its session ends (CallReports).
  virtual void locate(std::string account_sid, std::string to,
                      std::optional<sip::Credentials> credentials,
                      boost::asio::any_io_executor reply_to,
                      std::function<void(Result<Destination>)> done) = 0;
};

}  // namespace sb::voice
