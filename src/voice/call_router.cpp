#include "voice/call_router.hpp"

#include <boost/asio/co_spawn.hpp>

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

struct CallRouter::Active {
  std::unique_ptr<SipCallLeg> leg;
  std::unique_ptr<CallSession> session;
};

CallRouter::CallRouter(asio::io_context& io, SessionServices services, MediaContext& media,
                       RouterOptions options)
    : io_(io), services_(services), media_(media), options_(options) {}

CallRouter::~CallRouter() = default;

void CallRouter::reject(sip::CallHandle call, int status, const char* reason) {
  if (status == 503) {
    const std::string retry = "Retry-After: " + std::to_string(options_.retry_after_s) + "\r\n";
    (void)ua_->reject(call, status, reason, retry);
    return;
  }
  (void)ua_->reject(call, status, reason);
}

void CallRouter::on_incoming(const sip::IncomingCall& in) {
  if (!ua_) return;
  if (!options_.allow.allows(in.source.address)) {
    ++stats_.forbidden;
    spdlog::info("sip: INVITE from {} refused: not in the SIP allow list", in.source.address);
    reject(in.call, 403, "Forbidden");
    return;
  }
  if (calls_.size() >= options_.max_calls) {
    ++stats_.overloaded;
    reject(in.call, 503, "Service Unavailable");
    return;
  }
  // A short indexed read on the store's reader pool (see docs/architecture.md, known limits).
  auto routed = route_call(services_.store, in.to_user);
  if (!routed) {
    spdlog::error("sip: routing {} failed: {}", in.to_user, routed.error().message);
    reject(in.call, 500, "Server Internal Error");
    return;
  }
  if (!routed->route) {
    switch (routed->failure) {
      case RouteFailure::kUnknownNumber:
        ++stats_.not_found;
        reject(in.call, 404, "Not Found");
        return;
      case RouteFailure::kInactiveAccount:
        ++stats_.forbidden;
        reject(in.call, 403, "Forbidden");
        return;
      case RouteFailure::kNoApplication:
        ++stats_.no_application;
        reject(in.call, 480, "No Voice Application");
        return;
    }
  }
  Route route = std::move(*routed->route);
  CallInfo info;
  info.call_sid = make_sid(sid_prefix::kCall);
  info.from = caller_of(in);
  info.to = route.number.phone_number;
  info.caller_name = in.from_display;

  auto active = std::make_unique<Active>();
  active->leg = std::make_unique<SipCallLeg>(io_.get_executor(), *ua_, in.call, media_,
                                             route.account.sid, info.call_sid);
  if (auto prepared = active->leg->prepare(in.sdp_offer); !prepared) {
    const bool no_port = prepared.error().status == 503;
    if (no_port) {
      ++stats_.overloaded;
      spdlog::warn("sip: call to {} refused: {}", in.to_user, prepared.error().message);
      reject(in.call, 503, "Service Unavailable");
    } else {
      ++stats_.bad_sdp;
      spdlog::info("sip: call to {} refused: {}", in.to_user, prepared.error().message);
      reject(in.call, 488, "Not Acceptable Here");
    }
    return;
  }
  (void)ua_->ringing(in.call);
  spdlog::debug("sip: call {} ({}) from {} to {} -> {}", info.call_sid, in.call_id, info.from,
                info.to, route.application.url);
  active->session = std::make_unique<CallSession>(io_.get_executor(), services_, *active->leg,
                                                  std::move(route), std::move(info));
  CallSession* session = active->session.get();
  const sip::CallHandle handle = in.call;
  calls_.emplace(handle, std::move(active));
  ++stats_.routed;
  asio::co_spawn(io_, session->run(),
                 [this, handle](std::exception_ptr error, SessionOutcome outcome) {
                   if (error) {
                     try {
                       std::rethrow_exception(error);
                     } catch (const std::exception& e) {
                       spdlog::error("call session failed: {}", e.what());
                     }
                   }
                   auto it = calls_.find(handle);
                   if (it == calls_.end()) return;
                   spdlog::debug("call {} ended: {} after {} s",
                                 it->second->session->info().call_sid, outcome.status,
                                 outcome.duration_s);
                   it->second->leg->close();
                   calls_.erase(it);
                   ++stats_.completed;
                 });
}

void CallRouter::on_ended(sip::CallHandle call, sip::EndReason reason) {
  if (reason == sip::EndReason::kLocalHangup) return;
  auto it = calls_.find(call);
  if (it == calls_.end()) return;
  it->second->leg->on_remote_end();
  it->second->session->remote_hangup();
}

std::optional<std::string> CallRouter::on_reoffer(sip::CallHandle call, std::string_view sdp) {
  auto it = calls_.find(call);
  if (it == calls_.end()) return std::nullopt;
  return it->second->leg->on_reoffer(sdp);
}

void CallRouter::on_dtmf(sip::CallHandle call, char digit, int) {
  auto it = calls_.find(call);
  if (it == calls_.end()) return;
  it->second->leg->on_sip_dtmf(digit);
}

void CallRouter::hang_up_all() {
  for (auto& [handle, active] : calls_) {
    Modification end;
    end.status = "completed";
    active->session->modify(std::move(end));
  }
}

}  // namespace sb::voice
