#include "voice/call_info.hpp"

namespace sb::voice {

twiml::Params call_params(const CallInfo& call) {
  twiml::Params p = {
      {"AccountSid", call.account_sid}, {"ApiVersion", "2010-04-01"}, {"CallSid", call.call_sid},
      {"CallStatus", call.status},      {"Called", call.to},          {"Caller", call.from},
      {"Direction", call.direction},    {"From", call.from},          {"To", call.to},
  };
  if (!call.forwarded_from.empty()) p.emplace_back("ForwardedFrom", call.forwarded_from);
  if (!call.caller_name.empty()) p.emplace_back("CallerName", call.caller_name);
  if (!call.parent_call_sid.empty()) p.emplace_back("ParentCallSid", call.parent_call_sid);
  if (!call.answered_by.empty()) p.emplace_back("AnsweredBy", call.answered_by);
  for (const auto& kv : call.sip_params) p.push_back(kv);
  return p;
}

}  // namespace sb::voice
