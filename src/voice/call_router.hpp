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
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "sip/user_agent.hpp"
#include "voice/call_worker.hpp"
#include "voice/outbound.hpp"
#include "voice/outbound_queue.hpp"
#include "voice/sip_directory.hpp"

namespace sb::voice {

struct RouterOptions {
  std::size_t max_calls = 5000;  // concurrent calls in the process before 503 (and before
                                 // queued outbound calls wait)
  int retry_after_s = 5;
  AddressAcl allow;              // sources that may call in (empty: all); others get 403
  double calls_per_second = 10;  // outbound calls dialled per account per second
  std::size_t max_queued_per_account = 10000;  // more Calls.json creates are refused (429)
  // Per account: live calls (inbound, outbound and <Dial> legs) before new ones are refused
  // (inbound 503, Calls.json 429 with 20429, a <Dial> leg fails), and incoming calls a second
  // (bursts of twice that) before 503. 0: no limit.
  std::size_t max_active_per_account = 0;
  double inbound_cps_per_account = 0;
  std::shared_ptr<TrunkTable> trunks = std::make_shared<TrunkTable>();  // where numbers go
  SipDirectory* directory = nullptr;  // SIP domains: where client:NAME is registered
};

struct RouterStats {
  std::uint64_t routed = 0;           // sessions started
  std::uint64_t not_found = 0;        // 404
  std::uint64_t forbidden = 0;        // 403 (inactive account or a source outside the ACL)
  std::uint64_t no_application = 0;   // 480
  std::uint64_t bad_sdp = 0;          // 488
  std::uint64_t overloaded = 0;       // 503
  std::uint64_t account_limited = 0;  // 503 or a failed leg: the account's call limits
  std::uint64_t completed = 0;        // sessions ended
  std::uint64_t dialled = 0;          // outbound calls taken off the queue
};

class CallRouter final : public sip::CallEvents,
                         public SipDialogs,
                         public CallReports,
                         public Dialer {
 public:
  // `sip_io` runs the SIP stack; `workers` (at least one; may include the SIP worker) run calls.
  CallRouter(asio::io_context& sip_io, std::vector<CallWorker*> workers,
             RouterOptions options = {});
  ~CallRouter() override;

  // The stack's user agent, once it has started (callbacks arrive only after).
  void bind(sip::UserAgent& ua) { ua_ = &ua; }
  // Ends every call (BYE, or 487 for unanswered ones) ahead of shutdown; queued outbound calls
  // are recorded canceled.
  void hang_up_all();

  // Dialer (from any thread): outbound calls queue, then leave at the account's rate.
  void place(OutboundRequest request) override;
  bool cancel_queued(const std::string& account_sid, const std::string& call_sid) override;
  bool queue_full(const std::string& account_sid) const override {
    return queue_.queued(account_sid) >= options_.max_queued_per_account;
  }
  bool at_call_limit(const std::string& account_sid) const override {
    return options_.max_active_per_account > 0 &&
           active_.count(account_sid) >= options_.max_active_per_account;
  }

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
  void on_ringing(sip::CallHandle call, int status, std::string_view sdp) override;
  void on_failed(sip::CallHandle call, int status, std::string_view reason) override;
  void on_final_headers(sip::CallHandle call,
                        std::vector<std::pair<std::string, std::string>> headers) override;

  // SipDialogs (from any worker: posted to the SIP worker)
  void ringing(sip::CallHandle call) override;
  void early_media(sip::CallHandle call, std::string sdp) override;
  void answer(sip::CallHandle call, std::string sdp, asio::any_io_executor reply_to,
              std::function<void(Status)> done) override;
  void reject(sip::CallHandle call, sip::Refusal refusal) override;
  void hangup(sip::CallHandle call) override;
  void dial(sip::OutboundCall call, asio::any_io_executor reply_to,
            std::function<void(Result<sip::CallHandle>)> done) override;
  void locate(std::string account_sid, std::string to, std::optional<sip::Credentials> credentials,
              asio::any_io_executor reply_to,
              std::function<void(Result<Destination>)> done) override;

  // CallReports (from the workers: posted to the SIP worker)
  void prepared(sip::CallHandle call, const sip::LocalMedia& local) override;
  void refused(sip::CallHandle call, sip::Refusal refusal) override;
  void finished(sip::CallHandle call) override;
  void never_dialled() override;

 private:
  struct Entry {
    CallWorker* worker = nullptr;
    std::optional<sip::LocalMedia> local;  // once the worker has opened RTP
    bool offerless = false;  // the INVITE had no SDP: the answer to our offer comes in the ACK
    std::optional<sip::SessionDescription> reoffer;  // ours in a 200 to an offerless re-INVITE
    bool outbound = false;                           // our INVITE (Calls.json)
    std::string account;                             // whose call, for the per-account limits
  };
  // Live calls per account: written on the SIP worker, read by the API's threads.
  class ActiveCalls {
   public:
    void add(const std::string& account);
    void remove(const std::string& account);
    std::size_t count(const std::string& account) const;

   private:
    mutable std::mutex mu_;
    std::unordered_map<std::string, std::size_t> n_;
  };
  // Forgets `call` (and its place in its account's count); false when it was not known.
  bool erase_call(sip::CallHandle call);
  // On the SIP worker.
  void refuse(sip::CallHandle call, const sip::Refusal& refusal);
  template <typename F>
  void on_worker_of(sip::CallHandle call, F f);
  // Dials the queued calls that are due while there is room; re-arms the pacing timer.
  void pump();
  Result<Destination> destination_of(const std::string& account_sid, const std::string& to,
                                     const std::optional<sip::Credentials>& credentials);

  // An outbound call rung at several contacts at once (a client registered on several devices).
  // The worker knows it by `primary`; the first branch to answer wins and the others get
  // CANCEL (or BYE when their 200 crossed it); when every branch fails, the worker hears the
  // best failure (RFC 3261 §16.7: a 6xx, else the lowest status).
  struct Fork {
    sip::CallHandle primary = 0;
    std::vector<sip::CallHandle> live;  // branches with no final response yet
    sip::CallHandle winner = 0;
    int best_status = 0;
    std::string best_reason;
  };
  Result<sip::CallHandle> dial_forked(const sip::OutboundCall& call);
  // The handle the worker knows for the UA's `call` (a fork's branch: its primary).
  sip::CallHandle worker_handle(sip::CallHandle call) const;
  // The UA handle the worker's `call` now stands for (a fork's winner, once there is one).
  sip::CallHandle ua_handle(sip::CallHandle call) const;
  // A branch's final failure: true when the worker must not hear of it (other branches live,
  // or one of them won).
  bool absorb_branch_failure(sip::CallHandle call, int& status, std::string& reason);
  void forget_fork(sip::CallHandle primary);

  asio::io_context& sip_io_;
  std::vector<CallWorker*> workers_;
  std::size_t next_worker_ = 0;
  RouterOptions options_;
  sip::UserAgent* ua_ = nullptr;
  std::unordered_map<sip::CallHandle, Entry> calls_;
  ActiveCalls active_;
  sip::SourceBudget inbound_rate_;  // per account, when inbound_cps_per_account is set
  RouterStats stats_;
  OutboundQueue queue_;
  asio::steady_timer pump_timer_;
  std::size_t undialled_ = 0;  // outbound calls handed to a worker that have not dialled yet
  std::unordered_map<sip::CallHandle, std::shared_ptr<Fork>> forks_;  // every branch -> its fork
};

}  // namespace sb::voice
