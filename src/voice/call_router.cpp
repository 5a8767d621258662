#include "voice/call_router.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

#include "core/log.hpp"
#include "core/sid.hpp"

namespace sb::voice {
namespace {

// Twilio's From: the E.164 number (or digits) when the caller's user part is one, else the
// caller's SIP URI.
std::string caller_of(const sip::IncomingCall& in) {
  const std::string& user = in.from_user;
  bool number = !user.empty();
  for (std::size_t i = 0; i < user.size() && number; ++i) {
    const char c = user[i];
    number = (c >= '0' && c <= '9') || (c == '+' && i == 0);
  }
  if (number) return user;
  return in.from_uri.empty() ? user : in.from_uri;
}

}  // namespace

// ---------------------------------------------------------------- CallWorker (call's thread)

struct CallWorker::Active {
  std::unique_ptr<SipCallLeg> leg;
  std::unique_ptr<CallSession> session;
};

CallWorker::CallWorker(asio::io_context& io, SessionServices services, MediaContext& media)
    : io_(io), services_(services), media_(media) {}

CallWorker::~CallWorker() = default;

void CallWorker::start(CallRouter& router, sip::CallHandle handle, Route route, CallInfo info,
                       std::string sdp_offer) {
  auto active = std::make_unique<Active>();
  active->leg = std::make_unique<SipCallLeg>(io_.get_executor(), router, handle, media_,
                                             route.account.sid, info.call_sid);
  if (auto prepared = active->leg->prepare(sdp_offer); !prepared) {
    const int status = prepared.error().status == 503 ? 503 : 488;
    spdlog::info("sip: call to {} refused ({}): {}", info.to, status, prepared.error().message);
    asio::post(router.sip_io_, [&router, handle, status] { router.failed(handle, status); });
    return;
  }
  asio::post(router.sip_io_, [&router, handle, local = active->leg->local_media()] {
    router.prepared(handle, local);
  });
  router.ringing(handle);
  spdlog::debug("call {} from {} to {} -> {}", info.call_sid, info.from, info.to,
                route.application.url);
  active->session = std::make_unique<CallSession>(io_.get_executor(), services_, *active->leg,
                                                  std::move(route), std::move(info));
  CallSession* session = active->session.get();
  calls_.emplace(handle, std::move(active));
  asio::co_spawn(io_, session->run(),
                 [this, &router, handle](std::exception_ptr error, SessionOutcome outcome) {
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
                   asio::post(router.sip_io_, [&router, handle] { router.finished(handle); });
                 });
}

void CallWorker::remote_end(sip::CallHandle handle) {
  auto it = calls_.find(handle);
  if (it == calls_.end()) return;
  it->second->leg->on_remote_end();
  it->second->session->remote_hangup();
}

void CallWorker::dtmf(sip::CallHandle handle, char digit) {
  auto it = calls_.find(handle);
  if (it != calls_.end()) it->second->leg->on_sip_dtmf(digit);
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

// ---------------------------------------------------------------- CallRouter (SIP thread)

CallRouter::CallRouter(asio::io_context& sip_io, std::vector<CallWorker*> workers,
                       RouterOptions options)
    : sip_io_(sip_io), workers_(std::move(workers)), options_(std::move(options)) {}

CallRouter::~CallRouter() = default;

void CallRouter::refuse(sip::CallHandle call, int status, const char* reason) {
  if (!ua_) return;
  if (status == 503) {
    const std::string retry = "Retry-After: " + std::to_string(options_.retry_after_s) + "\r\n";
    (void)ua_->reject(call, status, reason, retry);
    return;
  }
  (void)ua_->reject(call, status, reason);
}

void CallRouter::on_incoming(const sip::IncomingCall& in) {
  if (!ua_ || workers_.empty()) return;
  if (!options_.allow.allows(in.source.address)) {
    ++stats_.forbidden;
    spdlog::info("sip: INVITE from {} refused: not in the SIP allow list", in.source.address);
    refuse(in.call, 403, "Forbidden");
    return;
  }
  if (calls_.size() >= options_.max_calls) {
    ++stats_.overloaded;
    refuse(in.call, 503, "Service Unavailable");
    return;
  }
  // A short indexed read on the store's reader pool (docs/architecture.md, known limits).
  auto routed = route_call(workers_.front()->services_.store, in.to_user);
  if (!routed) {
    spdlog::error("sip: routing {} failed: {}", in.to_user, routed.error().message);
    refuse(in.call, 500, "Server Internal Error");
    return;
  }
  if (!routed->route) {
    switch (routed->failure) {
      case RouteFailure::kUnknownNumber:
        ++stats_.not_found;
        refuse(in.call, 404, "Not Found");
        return;
      case RouteFailure::kInactiveAccount:
        ++stats_.forbidden;
        refuse(in.call, 403, "Forbidden");
        return;
      case RouteFailure::kNoApplication:
        ++stats_.no_application;
        refuse(in.call, 480, "No Voice Application");
        return;
    }
  }
  CallInfo info;
  info.call_sid = make_sid(sid_prefix::kCall);
  info.from = caller_of(in);
  info.to = routed->route->number.phone_number;
  info.caller_name = in.from_display;

  CallWorker* worker = workers_[next_worker_++ % workers_.size()];
  calls_[in.call] = Entry{worker, std::nullopt};
  ++stats_.routed;
  asio::post(worker->executor(), [this, worker, handle = in.call, route = std::move(*routed->route),
                                  info = std::move(info), offer = in.sdp_offer]() mutable {
    worker->start(*this, handle, std::move(route), std::move(info), std::move(offer));
  });
}

void CallRouter::prepared(sip::CallHandle call, sip::LocalMedia local) {
  if (auto it = calls_.find(call); it != calls_.end()) it->second.local = local;
}

void CallRouter::failed(sip::CallHandle call, int status) {
  if (status == 503) {
    ++stats_.overloaded;
  } else {
    ++stats_.bad_sdp;
  }
  calls_.erase(call);
  refuse(call, status, status == 503 ? "Service Unavailable" : "Not Acceptable Here");
}

void CallRouter::finished(sip::CallHandle call) {
  if (calls_.erase(call)) ++stats_.completed;
}

void CallRouter::on_ended(sip::CallHandle call, sip::EndReason reason) {
  if (reason == sip::EndReason::kLocalHangup) return;
  auto it = calls_.find(call);
  if (it == calls_.end()) return;
  CallWorker* worker = it->second.worker;
  asio::post(worker->executor(), [worker, call] { worker->remote_end(call); });
}

std::optional<std::string> CallRouter::on_reoffer(sip::CallHandle call, std::string_view sdp) {
  auto it = calls_.find(call);
  if (it == calls_.end() || !it->second.local) return std::nullopt;
  auto offer = sip::parse_sdp(sdp);
  if (!offer) return std::nullopt;
  sip::LocalMedia& local = *it->second.local;
  ++local.session_version;
  auto answer = sip::make_answer(*offer, local, sip::AudioCapabilities{});
  if (!answer) return std::nullopt;
  CallWorker* worker = it->second.worker;
  asio::post(worker->executor(),
             [worker, call, audio = answer->audio] { worker->remote_media(call, audio); });
  return sip::to_string(answer->sdp);
}

void CallRouter::on_dtmf(sip::CallHandle call, char digit, int) {
  auto it = calls_.find(call);
  if (it == calls_.end()) return;
  CallWorker* worker = it->second.worker;
  asio::post(worker->executor(), [worker, call, digit] { worker->dtmf(call, digit); });
}

void CallRouter::ringing(sip::CallHandle call) {
  asio::post(sip_io_, [this, call] {
    if (ua_) (void)ua_->ringing(call);
  });
}

void CallRouter::answer(sip::CallHandle call, std::string sdp) {
  asio::post(sip_io_, [this, call, sdp = std::move(sdp)] {
    if (!ua_) return;
    if (auto s = ua_->answer(call, sdp); !s) {
      spdlog::debug("sip: answer for a call that is gone: {}", s.error().message);
    }
  });
}

void CallRouter::reject(sip::CallHandle call, int status, std::string reason) {
  asio::post(sip_io_, [this, call, status, reason = std::move(reason)] {
    if (ua_) (void)ua_->reject(call, status, reason);
  });
}

void CallRouter::hangup(sip::CallHandle call) {
  asio::post(sip_io_, [this, call] {
    if (ua_) (void)ua_->hangup(call);
  });
}

void CallRouter::hang_up_all() {
  for (CallWorker* worker : workers_) {
    asio::post(worker->executor(), [worker] { worker->hang_up_all(); });
  }
}

}  // namespace sb::voice
