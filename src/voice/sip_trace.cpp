#include "voice/sip_trace.hpp"

#include <boost/json.hpp>

namespace sb::voice {

void SipTrace::step(Way way, std::string message, std::string detail) {
  const auto now = std::chrono::steady_clock::now();
  if (steps_.empty()) first_ = now;
  if (steps_.size() >= kMaxSteps) {
    ++dropped_;
    return;
  }
  if (steps_.empty()) steps_.reserve(8);
  steps_.push_back(Step{std::chrono::duration_cast<std::chrono::milliseconds>(now - first_).count(),
                        way, std::move(message), std::move(detail)});
}

std::string SipTrace::json() const {
  if (steps_.empty()) return {};
  boost::json::object o;
  o["call_id"] = origin_.call_id;
  o["peer"] = origin_.peer;
  o["user_agent"] = origin_.user_agent;
  o["request_uri"] = origin_.request_uri;
  o["codec"] = codec_;
  o["remote_media"] = remote_media_;
  o["srtp"] = srtp_.empty() ? boost::json::value(nullptr) : boost::json::value(srtp_);
  o["final_status"] = final_status_;
  o["ended_by"] = ended_by_;
  o["end_reason"] = end_reason_;
  boost::json::array steps;
  steps.reserve(steps_.size());
  for (const Step& s : steps_) {
    boost::json::object step;
    step["ms"] = s.ms;
    step["dir"] = s.way == Way::kIn ? "in" : "out";
    step["message"] = s.message;
    step["detail"] = s.detail;
    steps.push_back(std::move(step));
  }
  o["steps"] = std::move(steps);
  o["steps_dropped"] = dropped_;
  return boost::json::serialize(o);
}

}  // namespace sb::voice
