#include "voice/call_events.hpp"

namespace sb::voice {

boost::json::object call_event_data(const CallInfo& call, int duration_s) {
  boost::json::object o;
  o["call_sid"] = call.call_sid;
  o["account_sid"] = call.account_sid;
  o["from"] = call.from;
  o["to"] = call.to;
  o["status"] = call.status;
  o["direction"] = call.direction;
  if (!call.parent_call_sid.empty()) o["parent_call_sid"] = call.parent_call_sid;
  if (duration_s >= 0) o["duration"] = duration_s;
  if (!call.answered_by.empty()) o["answered_by"] = call.answered_by;
  return o;
}

boost::json::object notification_event_data(const store::Notification& n) {
  boost::json::object o;
  o["notification_sid"] = n.sid;
  o["account_sid"] = n.account_sid;
  o["call_sid"] = n.call_sid;
  o["level"] = n.log == 0 ? "error" : "warning";
  o["error_code"] = n.error_code;
  o["message"] = n.message_text;
  o["request_method"] = n.request_method;
  o["request_url"] = n.request_url;
  return o;
}

}  // namespace sb::voice
