// CallWorker: the calls one worker thread runs (DESIGN.md, Threading): for each, its SipCallLeg
// (dialog view + RTP session) and its CallSession, created and ended on that thread. The call
// router hands calls and dialog events over through the public methods (posted to the worker);
// the worker reports back through CallReports.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <unordered_map>

#include "sip/refusal.hpp"
#include "sip/sdp.hpp"
#include "sip/user_agent.hpp"
#include "voice/call_session.hpp"
#include "voice/media_context.hpp"
#include "voice/outbound.hpp"
#include "voice/sip_dialogs.hpp"
#include "voice/sip_trace.hpp"

namespace sb::voice {

// What a CallWorker tells whoever handed it a call (the router). Called on the worker's thread.
class CallReports {
 public:
  virtual ~CallReports() = default;
  // The call's RTP session is open: `local` is what our SDP says (re-offers are answered from it).
  virtual void prepared(sip::CallHandle call, const sip::LocalMedia& local) = 0;
  // The call could not start (no acceptable SDP, no RTP port): the INVITE is to be refused.
  virtual void refused(sip::CallHandle call, sip::Refusal refusal) = 0;
  // The call's session has ended and its leg is closed.
  virtual void finished(sip::CallHandle call) = 0;
  // An outbound call ended without asking to dial (no route, no RTP port, canceled first).
  virtual void never_dialled() = 0;
};

// Every method runs on the worker's thread (post to executor() from elsewhere).
class CallWorker final : public ChildCalls {
 public:
  CallWorker(asio::io_context& io, SessionServices services, MediaContext& media);
  ~CallWorker() override;
  asio::any_io_executor executor() { return io_.get_executor(); }
  // Where calls are routed from (a short indexed read on the store's reader pool).
  store::Store& store() { return services_.store; }
  // Calls running here now.
  std::size_t active() const { return calls_.size(); }

  // A routed INVITE: prepares its leg (refused through `reports` when that fails), rings, and
  // runs its session. `dialogs` carries the leg's SIP operations to the SIP worker.
  // `origin` says who sent the INVITE, for the call's signalling summary.
  void start(SipDialogs& dialogs, CallReports& reports, sip::CallHandle call, Route route,
             CallInfo info, std::string sdp_offer, SipTrace::Origin origin);
  // An outbound call the router took off its queue: prepares its leg (towards `destination`,
  // or failing with its error) and runs its session, which dials through `dialogs`.
  void start_outbound(SipDialogs& dialogs, CallReports& reports, OutboundRequest request,
                      Result<Destination> destination);
  // The far end's progress on an outbound call: 1xx, the 200 OK's SDP, a final failure.
  void progress(sip::CallHandle call, int status, const std::string& early_sdp = {});
  void outbound_answer(sip::CallHandle call, const std::string& sdp);
  void outbound_failure(sip::CallHandle call, int status, const std::string& reason);
  void final_headers(sip::CallHandle call,
                     const std::vector<std::pair<std::string, std::string>>& headers);
  // The dialog ended on the SIP side (BYE, CANCEL, no ACK, session timer; or our own BYE).
  void remote_end(sip::CallHandle call, sip::EndReason reason);
  void dtmf(sip::CallHandle call, char digit);
  // The caller's answer, from the ACK, to the offer our 200 OK made (an INVITE without SDP).
  void remote_answer(sip::CallHandle call, const std::string& sdp);
  // The ACK for our 200 OK arrived (with no answer in it: the INVITE had the offer).
  void acked(sip::CallHandle call);
  // A re-INVITE settled a new audio stream.
  void remote_media(sip::CallHandle call, const sip::AudioSession& audio);
  // Ends every call (as a live modification with Status=completed), ahead of shutdown.
  void hang_up_all();

  // ChildCalls: a <Dial> of a call running here places its calls here too (one thread for
  // both legs of a bridge).
  void start_child(OutboundRequest request, std::shared_ptr<DialLink> link) override;

 private:
  struct Active;
  asio::io_context& io_;
  SessionServices services_;
  MediaContext& media_;
  void run(CallReports& reports, Active& active, std::string call_sid);
  void launch(SipDialogs& dialogs, CallReports& reports, OutboundRequest request,
              Result<Destination> destination, std::shared_ptr<DialLink> link);
  // The router's, once a call has come through (child calls go the same way).
  SipDialogs* dialogs_ = nullptr;
  CallReports* reports_ = nullptr;
  Active* find(sip::CallHandle handle);

  std::unordered_map<sip::CallHandle, std::unique_ptr<Active>> calls_;
  std::unordered_map<std::string, std::unique_ptr<Active>> undialled_;  // outbound, by CallSid
};

}  // namespace sb::voice
