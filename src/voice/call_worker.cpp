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
    : io_(io), services_(services), media_(media) {
  services_.children = this;
  services_.media = &media;
}

CallWorker::~CallWorker() = default;

void CallWorker::start(SipDialogs& dialogs, CallReports& reports, sip::CallHandle handle,
                       Route route, CallInfo info, std::string sdp_offer, SipTrace::Origin origin) {
  dialogs_ = &dialogs;
  reports_ = &reports;
  auto active = std::make_unique<Active>();
  active->leg = std::make_unique<SipCallLeg>(io_.get_executor(), dialogs, handle, media_,
                                             route.account.sid, info.call_sid);
  active->leg->set_origin(std::move(origin));
  active->leg->set_srtp_policy(route.srtp.value_or(media_.srtp));
  if (auto refusal = active->leg->prepare(sdp_offer)) {
    spdlog::info("sip: call to {} refused ({}): {}", info.to, refusal->status, refusal->detail);
    reports.refused(handle, std::move(*refusal));
    return;
  }
  reports.prepared(handle, active->leg->local_media());
  active->leg->ring();
  spdlog::debug("call {} from {} to {} -> {}", info.call_sid, info.from, info.to,
                route.application.url);
  active->session = std::make_unique<CallSession>(io_.get_executor(), services_, *active->leg,
                                                  std::move(route), std::move(info));
  Active& ref = *active;
  calls_.emplace(handle, std::move(active));
  run(reports, ref, ref.session->info().call_sid);
}

void CallWorker::start_outbound(SipDialogs& dialogs, CallReports& reports, OutboundRequest request,
                                Result<Destination> destination) {
  dialogs_ = &dialogs;
  reports_ = &reports;
  launch(dialogs, reports, std::move(request), std::move(destination), nullptr);
}

void CallWorker::start_child(OutboundRequest request, std::shared_ptr<DialLink> link) {
  if (!dialogs_ || !reports_) {
    link->status = "failed";
    link->move_to(DialLink::State::kEnded);
    return;
  }
  std::string account = request.account.sid;
  std::string to = request.info.to;
  auto credentials = request.sip_auth;
  dialogs_->locate(std::move(account), std::move(to), std::move(credentials), io_.get_executor(),
                   [this, request = std::move(request), link](Result<Destination> where) mutable {
                     if (link->abandoned) {  // the Dial ended while we looked it up
                       reports_->never_dialled();
                       link->status = "canceled";
                       link->move_to(DialLink::State::kEnded);
                       return;
                     }
                     launch(*dialogs_, *reports_, std::move(request), std::move(where), link);
                   });
}

void CallWorker::launch(SipDialogs& dialogs, CallReports& reports, OutboundRequest request,
                        Result<Destination> destination, std::shared_ptr<DialLink> link) {
  auto active = std::make_unique<Active>();
  const std::string sid = request.info.call_sid;
  active->leg = std::make_unique<SipCallLeg>(io_.get_executor(), dialogs, 0, media_,
                                             request.account.sid, sid);
  if (destination) {
    for (auto& [name, value] : request.sip_headers) {
      if (safe_sip_header(name, value)) {
        destination->headers.emplace_back(name, value);
      } else {
        spdlog::warn("call {}: header {} not sent: not fit for SIP", sid, name.substr(0, 64));
      }
    }
  }
  // From's user part (the REST API checked it: URI-safe).
  std::string from_user = caller_user(request.info.from).value_or("anonymous");
  if (auto refusal = active->leg->prepare_outbound(std::move(destination), from_user,
                                                   request.preferred_codec)) {
    spdlog::warn("call {}: cannot place it: {}", sid, refusal->detail);
  }
  active->leg->on_dialed = [this, sid](sip::CallHandle handle) {
    auto it = undialled_.find(sid);
    if (it == undialled_.end()) return;
    calls_.emplace(handle, std::move(it->second));
    undialled_.erase(it);
  };
  Route route;
  route.account = request.account;
  route.number.sid = request.phone_number_sid;
  route.application = request.application;
  route.application_sid = request.application_sid;
  OutboundPlan plan;
  plan.timeout_s = request.timeout_s;
  plan.time_limit_s = request.time_limit_s;
  plan.send_digits = request.send_digits;
  plan.twiml = request.twiml;
  plan.recording = request.recording;
  plan.machine_detection = request.machine_detection;
  plan.queued_at_ms = request.queued_at_ms;
  plan.date_created = request.queued_at_ms / 1000;
  plan.link = link;
  plan.conference_sid = request.conference_sid;
  active->session =
      std::make_unique<CallSession>(io_.get_executor(), services_, *active->leg, std::move(route),
                                    std::move(request.info), std::move(plan));
  if (link) {
    active->leg->on_early_media = [link] {
      link->early_media = true;
      link->wake->notify();
    };
    link->session = active->session.get();
    link->state = DialLink::State::kDialling;
  }
  Active& ref = *active;
  undialled_.emplace(sid, std::move(active));
  run(reports, ref, sid);
}

void CallWorker::run(CallReports& reports, Active& active, std::string call_sid) {
  asio::co_spawn(io_, active.session->run(),
                 [this, &reports, leg = active.leg.get(), call_sid](std::exception_ptr error,
                                                                    SessionOutcome outcome) {
                   if (error) {
                     try {
                       std::rethrow_exception(error);
                     } catch (const std::exception& e) {
                       spdlog::error("call session failed: {}", e.what());
                     }
                   }
                   spdlog::debug("call {} ended: {} after {} s", call_sid, outcome.status,
                                 outcome.duration_s);
                   const sip::CallHandle handle = leg->handle();
                   if (auto it = undialled_.find(call_sid); it != undialled_.end()) {
                     it->second->leg->close();
                     undialled_.erase(it);
                     reports.never_dialled();
                     return;
                   }
                   if (auto it = calls_.find(handle); it != calls_.end()) {
                     it->second->leg->close();
                     calls_.erase(it);
                   }
                   reports.finished(handle);
                 });
}

CallWorker::Active* CallWorker::find(sip::CallHandle handle) {
  auto it = calls_.find(handle);
  return it == calls_.end() ? nullptr : it->second.get();
}

void CallWorker::progress(sip::CallHandle handle, int status, const std::string& early_sdp) {
  if (auto* a = find(handle)) a->leg->on_progress(status, early_sdp);
}

void CallWorker::outbound_answer(sip::CallHandle handle, const std::string& sdp) {
  if (auto* a = find(handle)) a->leg->on_remote_answer(sdp);
}

void CallWorker::outbound_failure(sip::CallHandle handle, int status, const std::string& reason) {
  if (auto* a = find(handle)) a->leg->on_remote_failure(status, reason);
}

void CallWorker::final_headers(sip::CallHandle handle,
                               const std::vector<std::pair<std::string, std::string>>& headers) {
  if (auto* a = find(handle)) a->leg->set_final_headers(headers);
}

void CallWorker::remote_end(sip::CallHandle handle, sip::EndReason reason) {
  auto it = calls_.find(handle);
  if (it == calls_.end()) return;
  it->second->leg->note_end(reason);
  it->second->session->remote_hangup();
}

void CallWorker::dtmf(sip::CallHandle handle, char digit) {
  auto it = calls_.find(handle);
  if (it != calls_.end()) it->second->leg->on_sip_dtmf(digit);
}

void CallWorker::acked(sip::CallHandle handle) {
  if (auto* a = find(handle)) a->leg->note_ack();
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
  auto end = [](Active& active) {
    Modification m;
    m.status = "completed";
    active.session->modify(std::move(m));
  };
  for (auto& [handle, active] : calls_) end(*active);
  for (auto& [sid, active] : undialled_) end(*active);
}

}  // namespace sb::voice
