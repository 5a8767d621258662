// SipDialogs: a SIP call leg's view of the SIP worker, the dialog operations it asks for.
// The call router implements it by posting to the worker that runs the SIP stack.
#pragma once

#include <string>

#include "sip/refusal.hpp"
#include "sip/user_agent.hpp"

namespace sb::voice {

// Callable from any worker. A dialog that is gone by the time an operation reaches it reports
// its end through the router (BYE/CANCEL), not through these.
class SipDialogs {
 public:
  virtual ~SipDialogs() = default;
  virtual void ringing(sip::CallHandle call) = 0;
  // 200 OK carrying `sdp`: our answer, or our offer when the INVITE had none.
  virtual void answer(sip::CallHandle call, std::string sdp) = 0;
  virtual void reject(sip::CallHandle call, sip::Refusal refusal) = 0;
  virtual void hangup(sip::CallHandle call) = 0;
};

}  // namespace sb::voice
