// The messaging side of the event router: every message status change becomes an event on its
// own channel (messages.received, messages.sent, messages.delivered, messages.failed; their
// parent `messages` sees them all), so a subscriber follows a conversation live.
#pragma once

#include <boost/json.hpp>
#include <string>

#include "store/models.hpp"

namespace sb::messaging {

class MessageEventSink {
 public:
  virtual ~MessageEventSink() = default;
  // Fire-and-forget, from any thread.
  virtual void publish(std::string account_sid, std::string channel, std::string type,
                       boost::json::value data) = 0;
};

// {"message_sid", "account_sid", "from", "to", "body", "status", "direction", "num_segments",
//  "num_media", "error_code"?}
boost::json::object message_event_data(const store::Message& message);

// The channel of a status ("" for statuses that publish nothing: queued, sending, scheduled).
std::string channel_of(const std::string& status);

}  // namespace sb::messaging
