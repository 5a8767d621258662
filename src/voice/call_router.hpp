// The call router (DESIGN.md: SIP INVITE -> transaction -> dialog -> voice::Router): every
// INVITE the SIP stack accepts is routed by its called number, gets a CallSession over a
// SipCallLeg (dialog + RTP on this worker), and runs its application's TwiML. Unknown numbers
// get 404, inactive accounts 403, numbers without a voice application 480, unacceptable SDP
// 488, and when the worker holds its maximum of calls (or has no RTP port left) new calls get
// 503 with Retry-After so the calls already admitted keep their quality.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <unordered_map>

#include "sip/user_agent.hpp"
#include "voice/call_session.hpp"
#include "voice/sip_call_leg.hpp"

namespace sb::voice {

struct RouterOptions {
  std::size_t max_calls = 5000;  // concurrent calls on this worker before 503
  int retry_after_s = 5;
  AddressAcl allow;  // sources that may call in (empty: all); others get 403
};

struct RouterStats {
  std::uint64_t routed = 0;        // sessions started
  std::uint64_t not_found = 0;     // 404
  std::uint64_t forbidden = 0;     // 403 (inactive account or a source outside the ACL)
  std::uint64_t no_application = 0;  // 480
  std::uint64_t bad_sdp = 0;       // 488
  std::uint64_t overloaded = 0;    // 503
  std::uint64_t completed = 0;     // sessions ended
};

class CallRouter final : public sip::CallEvents {
 public:
  CallRouter(asio::io_context& io, SessionServices services, MediaContext& media,
             RouterOptions options = {});
  ~CallRouter() override;

  // The stack's user agent, once it has started (callbacks arrive only after).
  void bind(sip::UserAgent& ua) { ua_ = &ua; }
  // Ends every call (BYE, or 503 for unanswered ones) ahead of shutdown.
  void hang_up_all();

  std::size_t active() const { return calls_.size(); }
  const RouterStats& stats() const { return stats_; }

  // sip::CallEvents
  void on_incoming(const sip::IncomingCall& call) override;
  void on_ended(sip::CallHandle call, sip::EndReason reason) override;
  std::optional<std::string> on_reoffer(sip::CallHandle call, std::string_view sdp) override;
  void on_dtmf(sip::CallHandle call, char digit, int duration_ms) override;

 private:
  struct Active;
  void reject(sip::CallHandle call, int status, const char* reason);

  asio::io_context& io_;
  SessionServices services_;
  MediaContext& media_;
  RouterOptions options_;
  sip::UserAgent* ua_ = nullptr;
  std::unordered_map<sip::CallHandle, std::unique_ptr<Active>> calls_;
  RouterStats stats_;
};

}  // namespace sb::voice
