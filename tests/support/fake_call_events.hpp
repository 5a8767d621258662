// FakeCallEvents: the sip::CallEvents of a UserAgent under test: keeps every callback's
// arguments, answers re-INVITEs as scripted, and runs the test's hooks on an incoming call
// (answer, ring…) and on a call's end.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sip/user_agent.hpp"

namespace sb::testing {

class FakeCallEvents final : public sip::CallEvents {
 public:
  std::vector<sip::IncomingCall> incoming;
  std::vector<std::pair<sip::CallHandle, int>> ringing, failed, reinvite_results;
  std::vector<std::pair<sip::CallHandle, std::string>> answered;
  std::vector<std::pair<sip::CallHandle, sip::EndReason>> ended;
  std::vector<std::pair<char, int>> dtmf;
  std::vector<std::string> reoffers;
  std::vector<std::string> ack_answers;
  int offer_requests = 0;

  std::optional<std::string> reoffer_answer;  // what on_reoffer returns (nullopt: 488)
  std::optional<std::string> offer;           // what on_offer_request returns
  std::function<void(const sip::IncomingCall&)> when_incoming;  // after it is kept
  std::function<void(sip::CallHandle, sip::EndReason)> when_ended;

  void on_incoming(const sip::IncomingCall& c) override {
    incoming.push_back(c);
    if (when_incoming) when_incoming(c);
  }
  void on_ringing(sip::CallHandle h, int status, std::string_view) override {
    ringing.emplace_back(h, status);
  }
  void on_answered(sip::CallHandle h, std::string_view sdp) override {
    answered.emplace_back(h, std::string(sdp));
  }
  void on_failed(sip::CallHandle h, int status, std::string_view) override {
    failed.emplace_back(h, status);
  }
  void on_ended(sip::CallHandle h, sip::EndReason r) override {
    ended.emplace_back(h, r);
    if (when_ended) when_ended(h, r);
  }
  std::optional<std::string> on_reoffer(sip::CallHandle, std::string_view sdp) override {
    reoffers.emplace_back(sdp);
    return reoffer_answer;
  }
  std::optional<std::string> on_offer_request(sip::CallHandle) override {
    ++offer_requests;
    return offer;
  }
  void on_ack_answer(sip::CallHandle, std::string_view sdp) override {
    ack_answers.emplace_back(sdp);
  }
  void on_reinvite_result(sip::CallHandle h, int status, std::string_view) override {
    reinvite_results.emplace_back(h, status);
  }
  void on_dtmf(sip::CallHandle, char digit, int duration_ms) override {
    dtmf.emplace_back(digit, duration_ms);
  }
};

}  // namespace sb::testing
