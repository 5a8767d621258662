#include "voice/call_worker.hpp"

#include <boost/asio/co_spawn.hpp>

#include "core/log.hpp"
#include "voice/sip_call_leg.hpp"

namespace sb::voice {

struct CallWorker::Active {
  std::unique_ptr<SipCallLeg> leg;
  std::unique_ptr<CallSession> session;
};

CallWorker::CallWorker(asio::io_context& io, SessionServices services, MediaContext& media)
    : io_(io), services_(services), media_(media) {}

CallWorker::~CallWorker() = default;

void CallWorker::start(SipDialogs& dialogs, CallReports& reports, sip::CallHandle handle,
                       Route route, CallInfo info, std::string sdp_offer) {
  auto active = std::make_unique<Active>();
  active->leg = std::make_unique<SipCallLeg>(io_.get_executor(), dialogs, handle, media_,
                                             route.account.sid, info.call_sid);
  if (auto refusal = active->leg->prepare(sdp_offer)) {
    spdlog::info("sip: call to {} refused ({}): {}", info.to, refusal->status, refusal->detail);
    reports.refused(handle, std::move(*refusal));
    return;
  }
  reports.prepared(handle, active->leg->local_media());
  dialogs.ringing(handle);
  spdlog::debug("call {} from {} to {} -> {}", info.call_sid, info.from, info.to,
                route.application.url);
  active->session = std::make_unique<CallSession>(io_.get_executor(), services_, *active->leg,
                                                  std::move(route), std::move(info));
  CallSession* session = active->session.get();
  calls_.emplace(handle, std::move(active));
  asio::co_spawn(io_, session->run(),
                 [this, &reports, handle](std::exception_ptr error, SessionOutcome outcome) {
                   if (error) {
                     try {
                       std::rethrow_exception(error);
                     } catch (const std::exception& e) {
                       spdlog::error("call session failed: {}", e.what());
                     }
                   }
                   auto it = calls_.find(handle);
                   if (it != calls_.end()) {
                     spdlog::debug("call {} ended: {} after {} s",
                                   it->second->session->info().call_sid, outcome.status,
                                   outcome.duration_s);
                     it->second->leg->close();
                     calls_.erase(it);
                   }
                   reports.finished(handle);
                 });
}

void CallWorker::remote_end(sip::CallHandle handle) {
  auto it = calls_.find(handle);
  if (it != calls_.end()) it->second->session->remote_hangup();
}

void CallWorker::dtmf(sip::CallHandle handle, char digit) {
  auto it = calls_.find(handle);
  if (it != calls_.end()) it->second->leg->on_sip_dtmf(digit);
}

void CallWorker::remote_answer(sip::CallHandle handle, const std::string& sdp) {
  auto it = calls_.find(handle);
  if (it == calls_.end()) return;
  // An unusable answer: the leg has sent BYE; the session ends as after the caller's.
  if (!it->second->leg->take_answer(sdp)) it->second->session->remote_hangup();
}

void CallWorker::remote_media(sip::CallHandle handle, const sip::AudioSession& audio) {
  auto it = calls_.find(handle);
  if (it != calls_.end()) it->second->leg->remote_media(audio);
}

void CallWorker::hang_up_all() {
  for (auto& [handle, active] : calls_) {
    Modification end;
    end.status = "completed";
    active->session->modify(std::move(end));
  }
}

}  // namespace sb::voice
