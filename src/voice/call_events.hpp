// The call router's side of the event router: every call status change and every webhook or
// TwiML error becomes an event on its own channel (calls.initiated, calls.ringing,
// calls.answered, calls.completed, calls.errors; their parent `calls` sees them all).
#pragma once

#include <boost/json.hpp>
#include <string>

#include "store/models.hpp"
#include "voice/call_info.hpp"

namespace sb::voice {

class CallEventSink {
 public:
  virtual ~CallEventSink() = default;
  // Fire-and-forget, from any thread.
  virtual void publish(std::string account_sid, std::string channel, std::string type,
                       boost::json::value data) = 0;
};

// {"call_sid", "account_sid", "from", "to", "status", "direction", "duration"?}
boost::json::object call_event_data(const CallInfo& call, int duration_s = -1);
boost::json::object notification_event_data(const store::Notification& n);

}  // namespace sb::voice
