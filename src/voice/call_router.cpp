#include "voice/call_router.hpp"

#include <boost/asio/post.hpp>
#include <ctime>

#include "core/log.hpp"
#include "core/sid.hpp"
#include "core/text.hpp"

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

CallRouter::CallRouter(asio::io_context& sip_io, std::vector<CallWorker*> workers,
                       RouterOptions options)
    : sip_io_(sip_io),
      workers_(std::move(workers)),
      options_(std::move(options)),
      inbound_rate_(
          options_.inbound_cps_per_account > 0 ? options_.inbound_cps_per_account : 1,
          options_.inbound_cps_per_account > 0 ? 2 * options_.inbound_cps_per_account : 1),
      queue_(options_.calls_per_second),
      pump_timer_(sip_io) {}

void CallRouter::ActiveCalls::add(const std::string& account) {
  std::lock_guard lock(mu_);
  ++n_[account];
}

void CallRouter::ActiveCalls::remove(const std::string& account) {
  std::lock_guard lock(mu_);
  auto it = n_.find(account);
  if (it == n_.end()) return;
  if (--it->second == 0) n_.erase(it);
}

std::size_t CallRouter::ActiveCalls::count(const std::string& account) const {
  std::lock_guard lock(mu_);
  auto it = n_.find(account);
  return it == n_.end() ? 0 : it->second;
}

bool CallRouter::erase_call(sip::CallHandle call) {
  auto it = calls_.find(call);
  if (it == calls_.end()) return false;
  if (!it->second.account.empty()) active_.remove(it->second.account);
  calls_.erase(it);
  return true;
}

CallRouter::~CallRouter() = default;

void CallRouter::refuse(sip::CallHandle call, const sip::Refusal& refusal) {
  if (!ua_) return;
  std::string extra;
  if (refusal.retry_after_s > 0) {
    extra = "Retry-After: " + std::to_string(refusal.retry_after_s) + "\r\n";
  }
  (void)ua_->reject(call, refusal.status, refusal.reason, extra);
}

template <typename F>
void CallRouter::on_worker_of(sip::CallHandle call, F f) {
  auto it = calls_.find(call);
  if (it == calls_.end()) return;
  CallWorker* worker = it->second.worker;
  asio::post(worker->executor(), [worker, call, f = std::move(f)]() mutable { f(*worker, call); });
}

void CallRouter::on_incoming(const sip::IncomingCall& in) {
  if (!ua_ || workers_.empty()) return;
  if (!options_.allow.allows(in.source.address)) {
    ++stats_.forbidden;
    spdlog::info("sip: INVITE from {} refused: not in the SIP allow list", in.source.address);
    refuse(in.call, sip::Refusal::forbidden());
    return;
  }
  if (calls_.size() >= options_.max_calls) {
    ++stats_.overloaded;
    refuse(in.call, sip::Refusal::overloaded("max_calls", options_.retry_after_s));
    return;
  }
  // A short indexed read on the store's reader pool (docs/architecture.md, known limits).
  auto routed =
      in.domain ? route_domain_call(workers_.front()->store(), in.domain->account, in.domain->key)
                : route_call(workers_.front()->store(), in.to_user);
  if (!routed) {
    spdlog::error("sip: routing {} failed: {}", in.to_user, routed.error().message);
    refuse(in.call, sip::Refusal::server_error(routed.error().message));
    return;
  }
  if (!routed->route) {
    switch (routed->failure) {
      case RouteFailure::kUnknownNumber:
        ++stats_.not_found;
        refuse(in.call, sip::Refusal::not_found());
        return;
      case RouteFailure::kInactiveAccount:
        ++stats_.forbidden;
        refuse(in.call, sip::Refusal::forbidden());
        return;
      case RouteFailure::kNoApplication:
        ++stats_.no_application;
        refuse(in.call, sip::Refusal::unavailable("No Voice Application"));
        return;
    }
  }
  const std::string& account = routed->route->account.sid;
  if (at_call_limit(account)) {
    ++stats_.account_limited;
    refuse(in.call,
           sip::Refusal::overloaded("calls.max_active_per_account", options_.retry_after_s));
    return;
  }
  if (options_.inbound_cps_per_account > 0 &&
      !inbound_rate_.take(account, std::chrono::duration_cast<sip::Millis>(
                                       std::chrono::steady_clock::now().time_since_epoch()))) {
    ++stats_.account_limited;
    refuse(in.call, sip::Refusal::overloaded("calls.inbound_cps_per_account", 1));
    return;
  }
  CallInfo info;
  info.call_sid = make_sid(sid_prefix::kCall);
  info.from = caller_of(in);
  info.to = routed->route->number.phone_number;
  info.caller_name = in.from_display;
  if (in.domain) {
    // As Twilio's SIP domains: From is the authenticated user at the domain, To the called URI.
    info.from = "sip:" + in.auth_user + "@" + in.domain->name;
    info.to = "sip:" + in.to_user + "@" + in.domain->name;
    info.sip_params = {{"SipDomain", in.domain->name},
                       {"SipDomainSid", in.domain->key},
                       {"SipCallId", in.call_id},
                       {"SipSourceIp", in.source.address}};
  }

  CallWorker* worker = workers_[next_worker_++ % workers_.size()];
  calls_[in.call] = Entry{worker, std::nullopt, in.sdp_offer.empty(), std::nullopt, false, account};
  active_.add(account);
  ++stats_.routed;
  SipTrace::Origin origin{in.call_id,
                          in.source.address + ":" + std::to_string(in.source.port) + "/" +
                              to_lower(sip::to_string(in.source.transport)),
                          {},
                          in.request_uri};
  for (const auto& [name, value] : in.headers) {
    if (iequals(name, "User-Agent")) origin.user_agent = value.substr(0, 200);
  }
  asio::post(worker->executor(),
             [this, worker, handle = in.call, route = std::move(*routed->route),
              info = std::move(info), offer = in.sdp_offer, origin = std::move(origin)]() mutable {
               worker->start(*this, *this, handle, std::move(route), std::move(info),
                             std::move(offer), std::move(origin));
             });
}

void CallRouter::prepared(sip::CallHandle call, const sip::LocalMedia& local) {
  asio::post(sip_io_, [this, call, local] {
    if (auto it = calls_.find(call); it != calls_.end()) it->second.local = local;
  });
}

void CallRouter::refused(sip::CallHandle call, sip::Refusal refusal) {
  asio::post(sip_io_, [this, call, refusal = std::move(refusal)] {
    if (refusal.status == 503) {
      ++stats_.overloaded;
    } else {
      ++stats_.bad_sdp;
    }
    erase_call(call);
    refuse(call, refusal);
  });
}

void CallRouter::finished(sip::CallHandle call) {
  asio::post(sip_io_, [this, call] {
    if (erase_call(call)) ++stats_.completed;
    forget_fork(call);
    if (queue_.size() > 0) pump();  // room for a queued call
  });
}

// ---- outbound ----

namespace {
std::int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

void CallRouter::place(OutboundRequest request) {
  queue_.push(std::move(request));
  asio::post(sip_io_, [this] { pump(); });
}

bool CallRouter::cancel_queued(const std::string& account_sid, const std::string& call_sid) {
  return queue_.cancel(account_sid, call_sid);
}

void CallRouter::pump() {
  if (workers_.empty()) return;
  const std::int64_t now = steady_us();
  while (calls_.size() + undialled_ < options_.max_calls) {
    auto request = queue_.pop_ready(now);
    if (!request) break;
    auto destination = destination_of(request->account.sid, request->info.to, request->sip_auth);
    CallWorker* worker = workers_[next_worker_++ % workers_.size()];
    ++undialled_;
    ++stats_.dialled;
    asio::post(worker->executor(), [this, worker, request = std::move(*request),
                                    destination = std::move(destination)]() mutable {
      worker->start_outbound(*this, *this, std::move(request), std::move(destination));
    });
  }
  // The next call due (when at max_calls, a call's end pumps again).
  auto due = queue_.next_due_us();
  if (!due || calls_.size() + undialled_ >= options_.max_calls) return;
  pump_timer_.expires_after(std::chrono::microseconds(std::max<std::int64_t>(0, *due - now)));
  pump_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) pump();
  });
}

void CallRouter::dial(sip::OutboundCall call, asio::any_io_executor reply_to,
                      std::function<void(Result<sip::CallHandle>)> done) {
  asio::post(sip_io_, [this, call = std::move(call), origin = reply_to,
                       reply_to = asio::prefer(reply_to, asio::execution::outstanding_work.tracked),
                       done = std::move(done)]() mutable {
    std::string account;
    for (const auto& [name, value] : call.headers) {
      if (name == "X-Twilio-AccountSid") account = value;
    }
    Result<sip::CallHandle> handle =
        !ua_ ? Result<sip::CallHandle>(Error::internal("SIP is not running"))
        : at_call_limit(account)
            ? Result<sip::CallHandle>(Error{codes::kTooManyRequests, 429,
                                            "the account has as many live calls as "
                                            "calls.max_active_per_account allows"})
        : call.forks.empty() ? ua_->call(call)
                             : dial_forked(call);
    if (!handle && handle.error().code == codes::kTooManyRequests) ++stats_.account_limited;
    if (handle) {
      // The worker that asked runs the call: the reply reaches it before any progress does.
      for (CallWorker* worker : workers_) {
        if (worker->executor() == origin) {
          calls_[*handle] = Entry{worker, std::nullopt, false, std::nullopt, true, account};
          if (!account.empty()) active_.add(account);
          break;
        }
      }
      --undialled_;
    }
    asio::post(reply_to, [done = std::move(done), handle = std::move(handle)]() mutable {
      done(std::move(handle));
    });
  });
}

void CallRouter::locate(std::string account_sid, std::string to,
                        std::optional<sip::Credentials> credentials, asio::any_io_executor reply_to,
                        std::function<void(Result<Destination>)> done) {
  asio::post(sip_io_, [this, account_sid = std::move(account_sid), to = std::move(to),
                       credentials = std::move(credentials),
                       reply_to = asio::prefer(reply_to, asio::execution::outstanding_work.tracked),
                       done = std::move(done)]() mutable {
    ++undialled_;  // until dial() or never_dialled()
    auto destination = destination_of(account_sid, to, credentials);
    asio::post(reply_to, [done = std::move(done), destination = std::move(destination)]() mutable {
      done(std::move(destination));
    });
  });
}

Result<Destination> CallRouter::destination_of(const std::string& account_sid,
                                               const std::string& to,
                                               const std::optional<sip::Credentials>& credentials) {
  if (to.starts_with("client:") && options_.directory && ua_) {
    const std::string name = to.substr(7);
    std::vector<sip::Binding> bindings;
    for (const auto& domain : options_.directory->domains(account_sid)) {
      auto found = ua_->registrations(address_of_record(name, domain.name));
      if (found.empty()) continue;
      // Registrations outlive nothing: a user whose credential (or list, or mapping) was
      // deleted, or whose domain stopped registrations, is not rung and is forgotten.
      if (!domain.registration ||
          !options_.directory->user(domain, sip::Directory::Purpose::kRegister, name)) {
        ua_->unregister(address_of_record(name, domain.name));
        continue;
      }
      for (auto& b : found) bindings.push_back(std::move(b));
    }
    return client_destination(name, bindings);
  }
  return resolve_destination(to, options_.trunks->for_account(account_sid), credentials);
}

Result<sip::CallHandle> CallRouter::dial_forked(const sip::OutboundCall& call) {
  auto fork = std::make_shared<Fork>();
  std::vector<std::pair<std::string, sip::Endpoint>> targets = {{call.target, call.next_hop}};
  targets.insert(targets.end(), call.forks.begin(), call.forks.end());
  std::optional<Error> first_error;
  for (auto& [target, hop] : targets) {
    sip::OutboundCall branch = call;
    branch.forks.clear();
    branch.call_id.clear();  // each branch its own dialog
    branch.target = target;
    branch.next_hop = hop;
    auto handle = ua_->call(branch);
    if (!handle) {
      if (!first_error) first_error = handle.error();
      continue;
    }
    if (fork->primary == 0) fork->primary = *handle;
    fork->live.push_back(*handle);
    forks_[*handle] = fork;
  }
  if (fork->primary == 0) return *first_error;
  return fork->primary;
}

sip::CallHandle CallRouter::worker_handle(sip::CallHandle call) const {
  auto it = forks_.find(call);
  return it == forks_.end() ? call : it->second->primary;
}

sip::CallHandle CallRouter::ua_handle(sip::CallHandle call) const {
  auto it = forks_.find(call);
  return it == forks_.end() || it->second->winner == 0 ? call : it->second->winner;
}

bool CallRouter::absorb_branch_failure(sip::CallHandle call, int& status, std::string& reason) {
  auto it = forks_.find(call);
  if (it == forks_.end()) return false;
  Fork& fork = *it->second;
  std::erase(fork.live, call);
  if (fork.winner != 0) return true;
  const bool global = status >= 600;
  if (fork.best_status == 0 || (global && fork.best_status < 600) ||
      (fork.best_status < 600 && !global && status < fork.best_status)) {
    fork.best_status = status;
    fork.best_reason = reason;
  }
  if (!fork.live.empty()) return true;
  status = fork.best_status;
  reason = fork.best_reason;
  return false;
}

void CallRouter::forget_fork(sip::CallHandle primary) {
  auto it = forks_.find(primary);
  if (it == forks_.end()) return;
  auto fork = it->second;
  std::erase_if(forks_, [&](const auto& entry) { return entry.second == fork; });
}

void CallRouter::never_dialled() {
  asio::post(sip_io_, [this] {
    if (undialled_ > 0) --undialled_;
    pump();
  });
}

void CallRouter::on_ringing(sip::CallHandle call, int status, std::string_view sdp) {
  if (auto it = forks_.find(call); it != forks_.end() && it->second->winner != 0) return;
  // A forked call's early media would come from several places: only its ringing is passed on.
  std::string early = forks_.contains(call) ? std::string() : std::string(sdp);
  on_worker_of(worker_handle(call),
               [status, early = std::move(early)](CallWorker& worker, sip::CallHandle h) {
                 worker.progress(h, status, early);
               });
}

void CallRouter::on_failed(sip::CallHandle call, int status, std::string_view why) {
  std::string reason(why);
  if (absorb_branch_failure(call, status, reason)) return;
  on_worker_of(worker_handle(call),
               [status, reason = std::move(reason)](CallWorker& worker, sip::CallHandle h) {
                 worker.outbound_failure(h, status, reason);
               });
}

void CallRouter::on_final_headers(sip::CallHandle call,
                                  std::vector<std::pair<std::string, std::string>> headers) {
  if (forks_.contains(call)) return;  // a registered user's devices: not a <Sip> far end
  on_worker_of(call, [headers = std::move(headers)](CallWorker& worker, sip::CallHandle h) {
    worker.final_headers(h, headers);
  });
}

void CallRouter::on_ended(sip::CallHandle call, sip::EndReason reason) {
  if (reason == sip::EndReason::kLocalHangup) return;
  if (auto it = forks_.find(call); it != forks_.end()) {
    if (it->second->winner != call) return;  // a losing branch
    call = it->second->primary;
  }
  on_worker_of(call,
               [reason](CallWorker& worker, sip::CallHandle h) { worker.remote_end(h, reason); });
}

std::optional<std::string> CallRouter::on_reoffer(sip::CallHandle call, std::string_view sdp) {
  call = worker_handle(call);
  auto it = calls_.find(call);
  if (it == calls_.end() || !it->second.local) return std::nullopt;
  auto offer = sip::parse_sdp(sdp);
  if (!offer) return std::nullopt;
  sip::LocalMedia& local = *it->second.local;
  ++local.session_version;
  auto answer = sip::make_answer(*offer, local, sip::AudioCapabilities{});
  if (!answer) return std::nullopt;
  on_worker_of(call, [audio = answer->audio](CallWorker& worker, sip::CallHandle h) {
    worker.remote_media(h, audio);
  });
  return sip::to_string(answer->sdp);
}

void CallRouter::on_answered(sip::CallHandle call, std::string_view sdp) {
  if (auto f = forks_.find(call); f != forks_.end()) {
    Fork& fork = *f->second;
    std::erase(fork.live, call);
    if (fork.winner != 0 && fork.winner != call) {
      // A second device answered too: it is not wanted.
      asio::post(sip_io_, [this, call] {
        if (ua_) (void)ua_->hangup(call);
      });
      return;
    }
    if (fork.winner == 0) {
      fork.winner = call;
      asio::post(sip_io_, [this, losers = fork.live] {
        for (sip::CallHandle h : losers) {
          if (ua_) (void)ua_->hangup(h);  // CANCEL (BYE if their 200 crossed it)
        }
      });
    }
    call = fork.primary;
  }
  auto it = calls_.find(call);
  if (it == calls_.end()) return;
  if (it->second.outbound) {
    on_worker_of(call, [answer = std::string(sdp)](CallWorker& worker, sip::CallHandle h) {
      worker.outbound_answer(h, answer);
    });
    return;
  }
  if (!it->second.offerless) {
    on_worker_of(call, [](CallWorker& worker, sip::CallHandle h) { worker.acked(h); });
    return;
  }
  it->second.offerless = false;
  on_worker_of(call, [answer = std::string(sdp)](CallWorker& worker, sip::CallHandle h) {
    worker.remote_answer(h, answer);
  });
}

std::optional<std::string> CallRouter::on_offer_request(sip::CallHandle call) {
  call = worker_handle(call);
  auto it = calls_.find(call);
  if (it == calls_.end() || !it->second.local) return std::nullopt;
  sip::LocalMedia& local = *it->second.local;
  ++local.session_version;
  it->second.reoffer = sip::make_offer(local, sip::AudioCapabilities{});
  return sip::to_string(*it->second.reoffer);
}

void CallRouter::on_ack_answer(sip::CallHandle call, std::string_view sdp) {
  call = worker_handle(call);
  auto it = calls_.find(call);
  if (it == calls_.end() || !it->second.reoffer) return;
  const sip::SessionDescription offer = std::move(*it->second.reoffer);
  it->second.reoffer.reset();
  auto answer = sip::parse_sdp(sdp);
  auto audio =
      answer ? sip::apply_answer(offer, *answer) : Result<sip::AudioSession>(answer.error());
  if (!audio) {
    // An unusable answer in the ACK leaves no session: BYE (from the SIP worker's own queue,
    // not inside the UA's callback), and the call's session ends.
    spdlog::info("sip: call {}: the answer in the ACK is not usable ({}): hanging up", call,
                 audio.error().message);
    asio::post(sip_io_, [this, call] {
      if (ua_) (void)ua_->hangup(call);
    });
    on_worker_of(call, [](CallWorker& worker, sip::CallHandle h) {
      worker.remote_end(h, sip::EndReason::kNoAnswer);
    });
    return;
  }
  on_worker_of(call, [audio = *audio](CallWorker& worker, sip::CallHandle h) {
    worker.remote_media(h, audio);
  });
}

void CallRouter::on_dtmf(sip::CallHandle call, char digit, int) {
  call = worker_handle(call);
  on_worker_of(call, [digit](CallWorker& worker, sip::CallHandle h) { worker.dtmf(h, digit); });
}

void CallRouter::ringing(sip::CallHandle call) {
  asio::post(sip_io_, [this, call] {
    if (ua_) (void)ua_->ringing(call);
  });
}

void CallRouter::early_media(sip::CallHandle call, std::string sdp) {
  asio::post(sip_io_, [this, call, sdp = std::move(sdp)] {
    if (ua_) (void)ua_->ringing(call, sdp);
  });
}

void CallRouter::answer(sip::CallHandle call, std::string sdp, asio::any_io_executor reply_to,
                        std::function<void(Status)> done) {
  asio::post(sip_io_, [this, call, sdp = std::move(sdp),
                       reply_to = asio::prefer(reply_to, asio::execution::outstanding_work.tracked),
                       done = std::move(done)]() mutable {
    Status verdict = ua_ ? ua_->answer(call, sdp) : Status(Error::internal("SIP is not running"));
    if (!verdict) spdlog::debug("sip: call {} not answered: {}", call, verdict.error().message);
    asio::post(reply_to, [done = std::move(done), verdict = std::move(verdict)]() mutable {
      done(std::move(verdict));
    });
  });
}

void CallRouter::reject(sip::CallHandle call, sip::Refusal refusal) {
  asio::post(sip_io_, [this, call, refusal = std::move(refusal)] { refuse(call, refusal); });
}

void CallRouter::hangup(sip::CallHandle call) {
  asio::post(sip_io_, [this, call] {
    if (!ua_) return;
    auto it = forks_.find(call);
    if (it != forks_.end() && it->second->winner == 0) {
      for (sip::CallHandle h : it->second->live) (void)ua_->hangup(h);  // unanswered: CANCEL all
      return;
    }
    (void)ua_->hangup(ua_handle(call));
  });
}

void CallRouter::hang_up_all() {
  // Queued calls never leave: recorded canceled (no callbacks: Twilio sends none for a call
  // canceled while queued).
  if (!workers_.empty()) {
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    for (auto& request : queue_.take_all()) {
      store::Call record;
      record.sid = request.info.call_sid;
      record.account_sid = request.account.sid;
      record.phone_number_sid = request.phone_number_sid;
      record.to = request.info.to;
      record.from = request.info.from;
      record.direction = request.info.direction;
      record.status = "canceled";
      record.end_time = now;
      record.date_created = request.queued_at_ms / 1000;
      record.date_updated = now;
      workers_.front()->store().write(store::UpdateCall{record}, [sid = record.sid](Status s) {
        if (!s) spdlog::error("call {} not recorded canceled: {}", sid, s.error().message);
      });
    }
  }
  for (CallWorker* worker : workers_) {
    asio::post(worker->executor(), [worker] { worker->hang_up_all(); });
  }
}

}  // namespace sb::voice
