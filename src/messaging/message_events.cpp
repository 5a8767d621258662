#include "messaging/message_events.hpp"

namespace sb::messaging {

boost::json::object message_event_data(const store::Message& m) {
  boost::json::object o;
  o["message_sid"] = m.sid;
  o["account_sid"] = m.account_sid;
  o["from"] = m.from;
  o["to"] = m.to;
  o["body"] = m.body;
  o["status"] = m.status;
  o["direction"] = m.direction;
  o["num_segments"] = m.num_segments;
  o["num_media"] = m.num_media;
  if (m.error_code != 0) o["error_code"] = m.error_code;
  return o;
}

std::string channel_of(const std::string& status) {
  if (status == "received") return "messages.received";
  if (status == "sent") return "messages.sent";
  if (status == "delivered") return "messages.delivered";
  if (status == "failed" || status == "undelivered") return "messages.failed";
  if (status == "canceled") return "messages.canceled";
  return "";
}

}  // namespace sb::messaging
