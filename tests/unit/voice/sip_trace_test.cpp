// SipTrace: the JSON a call's record keeps, and its bound.
#include "voice/sip_trace.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sb::voice {
namespace {

TEST(SipTrace, EmptyUntilTheFirstMessage) {
  SipTrace trace;
  trace.set_origin({"abc@host", "10.0.0.1:5060/udp", "softphone 1.0", "sip:+1500@sb"});
  EXPECT_TRUE(trace.empty());
  EXPECT_EQ(trace.json(), "");
}

TEST(SipTrace, JsonCarriesThePeerTheMediaTheEndAndTheMessagesInOrder) {
  SipTrace trace;
  trace.set_origin({"abc@host", "10.0.0.1:5060/udp", "softphone <1.0>", "sip:+1500@sb"});
  trace.step(SipTrace::Way::kIn, "INVITE", "SDP offer");
  trace.step(SipTrace::Way::kOut, "180 Ringing");
  trace.step(SipTrace::Way::kOut, "200 OK", "PCMU");
  trace.set_media("PCMU/8000", "10.0.0.1:4000");
  trace.set_final_status(200);
  trace.set_ended("caller", "BYE");
  trace.step(SipTrace::Way::kIn, "BYE");

  const auto v = boost::json::parse(trace.json()).as_object();
  EXPECT_EQ(v.at("call_id").as_string(), "abc@host");
  EXPECT_EQ(v.at("peer").as_string(), "10.0.0.1:5060/udp");
  EXPECT_EQ(v.at("user_agent").as_string(), "softphone <1.0>");
  EXPECT_EQ(v.at("request_uri").as_string(), "sip:+1500@sb");
  EXPECT_EQ(v.at("codec").as_string(), "PCMU/8000");
  EXPECT_EQ(v.at("remote_media").as_string(), "10.0.0.1:4000");
  EXPECT_EQ(v.at("final_status").as_int64(), 200);
  EXPECT_EQ(v.at("ended_by").as_string(), "caller");
  EXPECT_EQ(v.at("end_reason").as_string(), "BYE");
  const auto& steps = v.at("steps").as_array();
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_EQ(steps[0].at("dir").as_string(), "in");
  EXPECT_EQ(steps[0].at("message").as_string(), "INVITE");
  EXPECT_EQ(steps[0].at("detail").as_string(), "SDP offer");
  EXPECT_EQ(steps[0].at("ms").as_int64(), 0);
  EXPECT_EQ(steps[1].at("dir").as_string(), "out");
  EXPECT_EQ(steps[3].at("message").as_string(), "BYE");
  for (std::size_t i = 1; i < steps.size(); ++i) {
    EXPECT_GE(steps[i].at("ms").as_int64(), steps[i - 1].at("ms").as_int64());
  }
  EXPECT_EQ(v.at("steps_dropped").as_int64(), 0);
}

TEST(SipTrace, KeepsTheFirstMessagesAndCountsTheRest) {
  SipTrace trace;
  for (int i = 0; i < 100; ++i) trace.step(SipTrace::Way::kIn, "re-INVITE", "hold");
  EXPECT_EQ(trace.steps(), SipTrace::kMaxSteps);
  const auto v = boost::json::parse(trace.json()).as_object();
  EXPECT_EQ(v.at("steps").as_array().size(), SipTrace::kMaxSteps);
  EXPECT_EQ(v.at("steps_dropped").as_int64(), static_cast<std::int64_t>(100 - SipTrace::kMaxSteps));
}

}  // namespace
}  // namespace sb::voice
