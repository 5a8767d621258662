// The call router (DESIGN.md: SIP INVITE -> transaction -> dialog -> voice::Router). The SIP
// stack runs on one worker; every INVITE it accepts is routed by its called number there, then
// the call is handed to a CallWorker, round-robin over the workers: its CallSession, its
// SipCallLeg and RTP session, its webhooks and its media tick all live on that worker, so a
// call's state is never shared between threads (DESIGN.md, Threading). The router hands calls
// and dialog events (BYE, CANCEL, DTMF over INFO, re-INVITE, the ACK's answer) to a worker
// through CallWorker's public methods, posted to it; the worker reports back through
// CallReports. Dialog operations a call makes (SipDialogs: 180, 200, BYE, refusals) are posted
// to the SIP worker, and the UA's verdict on a 200 OK is posted back to the call's worker.
//
// Refusals: unknown numbers 404, inactive accounts or sources outside the allow list 403,
// numbers without a voice application 480, unacceptable SDP 488; at max_calls (or with no
// RTP port left) 503 with Retry-After, so the calls already admitted keep their quality.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <unordered_map>
#include <vector>

#include "sip/user_agent.hpp"
#include "voice/call_worker.hpp"

namespace sb::voice {

struct RouterOptions {
  std::size_t max_calls = 5000;  // concurrent calls in the process before 503
  int retry_after_s = 5;
  AddressAcl allow;  // sources that may call in (empty: all); others get 403
};

struct RouterStats {
  std::uint64_t routed = 0;          // sessions started
  std::uint64_t not_found = 0;       // 404
  std::uint64_t forbidden = 0;       // 403 (inactive account or a source outside the ACL)
  std::uint64_t no_application = 0;  // 480
  std::uint64_t bad_sdp = 0;         // 488
  std::uint64_t overloaded = 0;      // 503
  std::uint64_t completed = 0;       // sessions ended
};

class CallRouter final : public sip::CallEvents, public SipDialogs, public CallReports {
 public:
  // `sip_io` runs the SIP stack; `workers` (at least one; may include the SIP worker) run calls.
  CallRouter(asio::io_context& sip_io, std::vector<CallWorker*> workers,
             RouterOptions options = {});
  ~CallRouter() override;

  // The stack's user agent, once it has started (callbacks arrive only after).
  void bind(sip::UserAgent& ua) { ua_ = &ua; }
  // Ends every call (BYE, or 487 for unanswered ones) ahead of shutdown.
  void hang_up_all();

  // On the SIP worker.
  std::size_t active() const { return calls_.size(); }
  const RouterStats& stats() const { return stats_; }

  // sip::CallEvents (on the SIP worker)
  void on_incoming(const sip::IncomingCall& call) override;
  void on_ended(sip::CallHandle call, sip::EndReason reason) override;
  void on_answered(sip::CallHandle call, std::string_view sdp) override;
  std::optional<std::string> on_reoffer(sip::CallHandle call, std::string_view sdp) override;
  std::optional<std::string> on_offer_request(sip::CallHandle call) override;
  void on_ack_answer(sip::CallHandle call, std::string_view sdp) override;
  void on_dtmf(sip::CallHandle call, char digit, int duration_ms) override;

  // SipDialogs (from any worker: posted to the SIP worker)
  void ringing(sip::CallHandle call) override;
  void answer(sip::CallHandle call, std::string sdp, asio::any_io_executor reply_to,
              std::function<void(Status)> done) override;
  void reject(sip::CallHandle call, sip::Refusal refusal) override;
  void hangup(sip::CallHandle call) override;

  // CallReports (from the workers: posted to the SIP worker)
  void prepared(sip::CallHandle call, const sip::LocalMedia& local) override;
  void refused(sip::CallHandle call, sip::Refusal refusal) override;
  void finished(sip::CallHandle call) override;

 private:
  struct Entry {
    CallWorker* worker = nullptr;
    std::optional<sip::LocalMedia> local;  // once the worker has opened RTP
    bool offerless = false;  // the INVITE had no SDP: the answer to our offer comes in the ACK
    std::optional<sip::SessionDescription> reoffer;  // ours in a 200 to an offerless re-INVITE
  };
  // On the SIP worker.
  void refuse(sip::CallHandle call, const sip::Refusal& refusal);
  template <typename F>
  void on_worker_of(sip::CallHandle call, F f);

  asio::io_context& sip_io_;
  std::vector<CallWorker*> workers_;
  std::size_t next_worker_ = 0;
  RouterOptions options_;
  sip::UserAgent* ua_ = nullptr;
  std::unordered_map<sip::CallHandle, Entry> calls_;
  RouterStats stats_;
};

}  // namespace sb::voice
