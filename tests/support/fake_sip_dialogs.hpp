// FakeSipDialogs: the voice::SipDialogs a SipCallLeg talks to, logging each operation ("180",
// "200", "487 Request Terminated", "BYE"). With `ua` set, each operation also reaches that real
// sip::UserAgent at once, as the router would on the SIP worker.
#pragma once

#include <boost/asio/post.hpp>
#include <functional>
#include <string>
#include <vector>

#include "sip/user_agent.hpp"
#include "voice/sip_dialogs.hpp"

namespace sb::testing {

class FakeSipDialogs final : public voice::SipDialogs {
 public:
  std::vector<std::string> log;
  std::string answer_sdp;  // the SDP of the last 200 OK
  sip::UserAgent* ua = nullptr;
  // Runs as the 200 OK reaches the SIP side, before the UA sees it: what arrives first there
  // (a CANCEL, say) wins the race.
  std::function<void()> before_answer;
  Status answer_verdict = Ok{};  // without `ua`: what the SIP side says to our 200 OK

  void early_media(sip::CallHandle call, std::string) override { ringing(call); }
  void ringing(sip::CallHandle call) override {
    log.push_back("180");
    if (ua) (void)ua->ringing(call);
  }
  void answer(sip::CallHandle call, std::string sdp, boost::asio::any_io_executor reply_to,
              std::function<void(Status)> done) override {
    log.push_back("200");
    answer_sdp = sdp;
    if (before_answer) before_answer();
    Status verdict = ua ? ua->answer(call, sdp) : answer_verdict;
    boost::asio::post(reply_to, [done = std::move(done), verdict] { done(verdict); });
  }
  void reject(sip::CallHandle call, sip::Refusal refusal) override {
    log.push_back(std::to_string(refusal.status) + " " + refusal.reason);
    if (ua) (void)ua->reject(call, refusal.status, refusal.reason);
  }
  void locate(std::string, std::string to, std::optional<sip::Credentials>,
              boost::asio::any_io_executor,
              std::function<void(Result<voice::Destination>)> done) override {
    done(Error::not_found("no route to " + to));
  }
  void hangup(sip::CallHandle call) override {
    log.push_back("BYE");
    if (ua) (void)ua->hangup(call);
  }
  // With `ua`, the INVITE goes out of that UA; without, the call gets handle `next_handle`.
  void dial(sip::OutboundCall call, boost::asio::any_io_executor reply_to,
            std::function<void(Result<sip::CallHandle>)> done) override {
    log.push_back("INVITE " + call.target);
    dialled.push_back(call);
    Result<sip::CallHandle> handle = ua ? ua->call(call) : Result<sip::CallHandle>(next_handle);
    boost::asio::post(reply_to, [done = std::move(done), handle] { done(handle); });
  }
  std::vector<sip::OutboundCall> dialled;
  sip::CallHandle next_handle = 1;
};

}  // namespace sb::testing
