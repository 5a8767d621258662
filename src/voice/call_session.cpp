#include "voice/call_session.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <utility>

#include "core/log.hpp"
#include "core/sid.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "twiml/parser.hpp"
#include "voice/call_streams.hpp"
#include "voice/conference.hpp"
#include "voice/conference_call.hpp"
#include "voice/dial.hpp"
#include "voice/queue_call.hpp"
#include "voice/speech_gather.hpp"
#include "voice/webhook.hpp"

namespace sb::voice {
namespace {

// Serves an inline document (a live modification's Twiml) first, then the application.
class InlineFirst final : public twiml::DocumentSource {
 public:
  InlineFirst(twiml::DocumentSource& next, std::optional<twiml::Document> first, std::string base)
      : next_(next), first_(std::move(first)), base_(std::move(base)) {}
  asio::awaitable<twiml::FetchResult> fetch(twiml::FetchRequest request) override {
    if (first_) {
      twiml::FetchResult r;
      r.ok = true;
      r.document = std::move(*first_);
      r.url = base_;  // relative URLs in inline TwiML resolve against the application
      first_.reset();
      co_return r;
    }
    co_return co_await next_.fetch(std::move(request));
  }

 private:
  twiml::DocumentSource& next_;
  std::optional<twiml::Document> first_;
  std::string base_;
};

}  // namespace

CallSession::CallSession(asio::any_io_executor executor, SessionServices services, CallLeg& leg,
                         Route route, CallInfo call, std::optional<OutboundPlan> outbound)
    : executor_(std::move(executor)),
      services_(services),
      leg_(leg),
      route_(std::move(route)),
      call_(std::move(call)),
      outbound_(std::move(outbound)),
      amd_done_(executor_),
      streams_(std::make_unique<CallStreams>(*this)) {
  call_.account_sid = route_.account.sid;
  call_.status = outbound_ ? "queued" : "ringing";
  if (outbound_) record_.date_created = outbound_->date_created;
  record_.sid = call_.call_sid;
  record_.account_sid = call_.account_sid;
  record_.phone_number_sid = route_.number.sid;
  record_.to = call_.to;
  record_.from = call_.from;
  record_.direction = call_.direction;
  record_.forwarded_from = call_.forwarded_from;
  record_.caller_name = call_.caller_name;
  record_.parent_call_sid = call_.parent_call_sid;
  const auto& app = route_.application;
  callbacks_ = StatusCallbacks::create(executor_, services_.webhooks, route_.account.auth_token,
                                       app.status_callback, app.status_callback_method,
                                       app.status_callback_events);
}

CallSession::~CallSession() {
  if (DialLink* l = link()) {
    l->session = nullptr;
    if (l->state != DialLink::State::kEnded) {
      if (l->status.empty()) l->status = "failed";
      l->move_to(DialLink::State::kEnded);
    }
  }
}

void CallSession::save(bool insert) {
  record_.status = call_.status;
  record_.date_updated = services_.webhooks.clock.now_unix();
  if (insert) record_.date_created = record_.date_updated;
  auto on_done = [sid = record_.sid](Status s) {
    if (!s) spdlog::error("call {} not recorded: {}", sid, s.error().message);
  };
  if (insert) {
    services_.store.write(store::InsertCall{record_}, on_done);
  } else {
    services_.store.write(store::UpdateCall{record_}, on_done);
  }
}

namespace {
// calls.<event> / call.<event> for `call`; usable after the session is gone.
void publish_call_event(CallEventSink* events, const CallInfo& call, const std::string& event,
                        int duration_s) {
  if (!events) return;
  auto data = call_event_data(call, duration_s);
  // As in the status callbacks: the initiated and ringing events report their own status (the
  // record of an inbound call already says ringing when the initiated event goes out).
  if (event == "initiated" || event == "ringing") data["status"] = event;
  events->publish(call.account_sid, "calls." + event, "call." + event, std::move(data));
}
}  // namespace

void CallSession::publish(const std::string& event, int duration_s) {
  publish_call_event(services_.events, call_, event, duration_s);
  if (services_.registry) {
    services_.registry->update(call_.call_sid, call_, services_.webhooks.clock.now_ms());
  }
}

void CallSession::on_verb(std::string_view verb) {
  if (services_.registry) services_.registry->set_verb(call_.call_sid, verb);
}

void CallSession::finish(const std::string& status) {
  if (ended_) return;
  ended_ = true;
  call_.status = status;
  const std::int64_t now = services_.webhooks.clock.now_unix();
  record_.end_time = now;
  record_.duration = leg_.answered() ? now - record_.start_time : 0;
  record_.status = call_.status;
  record_.date_updated = now;
  if (auto f = leg_.media_figures()) {
    auto& m = record_.media;
    m.packets_received = static_cast<std::int64_t>(f->packets_received);
    m.packets_sent = static_cast<std::int64_t>(f->packets_sent);
    m.bytes_received = static_cast<std::int64_t>(f->bytes_received);
    m.bytes_sent = static_cast<std::int64_t>(f->bytes_sent);
    m.packets_lost = static_cast<std::int64_t>(f->packets_lost);
    m.packets_late = static_cast<std::int64_t>(f->packets_late);
  }
  record_.sip_summary = leg_.sip_summary();
  // One line per call at info level when it ends (and one when it starts, in run()).
  spdlog::info("call {} ended: {}, {} s{}{}", call_.call_sid, call_.status, record_.duration,
               sip_response_code_ > 0 ? ", SIP " + std::to_string(sip_response_code_) : "",
               far_end_hung_up_ ? ", the far end hung up" : "");
  // The completed callback and event go out once the record says so, so that an application
  // reacting to them reads the final call from the REST API.
  auto announce = [callbacks = callbacks_, call = call_, events = services_.events,
                   duration = static_cast<int>(record_.duration), sip = sip_response_code_] {
    callbacks->notify("completed", call, duration, sip);
    publish_call_event(events, call, "completed", duration);
  };
  services_.store.write(
      store::UpdateCall{record_},
      [executor = asio::prefer(executor_, asio::execution::outstanding_work.tracked), announce,
       sid = record_.sid](Status s) {
        if (!s) spdlog::error("call {} not recorded: {}", sid, s.error().message);
        asio::post(executor, announce);
      });
  if (DialLink* l = link()) {
    l->status = status;
    l->sip_status = sip_response_code_;
    l->sip_call_id = leg_.sip_call_id();
    l->sip_headers = leg_.sip_final_headers();
    if (l->state != DialLink::State::kLeft) l->move_to(DialLink::State::kEnded);
  }
}

asio::awaitable<bool> CallSession::place() {
  // Dialling starts: the initiated callback and event (the record stays queued until it rings).
  if (outbound_->queued_at_ms > 0) {
    record_.queue_time_ms =
        std::max<std::int64_t>(0, services_.webhooks.clock.now_ms() - outbound_->queued_at_ms);
  }
  callbacks_->notify("initiated", call_);
  publish("initiated");
  PlaceOutcome placed;
  bool cancelled = false;
  try {
    placed =
        co_await asio::co_spawn(executor_,
                                leg_.place(std::chrono::seconds(outbound_->timeout_s),
                                           [this] {
                                             call_.status = "ringing";
                                             save(false);
                                             callbacks_->notify("ringing", call_);
                                             publish("ringing");
                                             if (DialLink* l = link()) {
                                               l->move_to(DialLink::State::kRinging);
                                             }
                                           }),
                                asio::bind_cancellation_slot(cancel_.slot(), asio::use_awaitable));
  } catch (const boost::system::system_error&) {
    cancelled = true;  // Calls API Status=canceled (or completed) while it rang; CANCEL is sent
  }
  if (cancelled) {
    next_.reset();
    sip_response_code_ = 487;
    finish("canceled");
    co_return false;
  }
  if (!placed.answered) {
    sip_response_code_ = placed.sip_status;
    spdlog::info("call {} to {}: {} ({})", call_.call_sid, call_.to, placed.status, placed.reason);
    finish(placed.status.empty() ? "failed" : placed.status);
    co_return false;
  }
  sip_response_code_ = 200;
  record_answered();
  if (DialLink* l = link()) {
    l->answered_at = std::chrono::steady_clock::now();
    l->move_to(DialLink::State::kAnswered);
  }
  if (outbound_->recording.enabled) {
    if (auto s = leg_.start_call_recording(outbound_->recording.dual, outbound_->recording.trim);
        !s) {
      spdlog::warn("call {}: not recorded: {}", call_.call_sid, s.error().message);
    } else {
      call_recording_ = true;
    }
  }
  if (outbound_->time_limit_s > 0) {
    time_limit_.emplace(executor_, std::chrono::seconds(outbound_->time_limit_s));
    time_limit_->async_wait([this](boost::system::error_code ec) {
      if (ec) return;  // the call ended first (the session may be gone: touch nothing)
      Modification end;
      end.status = "completed";
      modify(std::move(end));
    });
  }
  if (outbound_->machine_detection.enabled) {
    if (outbound_->machine_detection.async) {
      start_async_detection();
    } else {
      co_await detect_machine();
    }
  }
  if (!outbound_->send_digits.empty()) {
    twiml::Play digits;
    digits.digits = outbound_->send_digits;
    try {
      co_await asio::co_spawn(executor_, leg_.play(digits, false),
                              asio::bind_cancellation_slot(cancel_.slot(), asio::use_awaitable));
    } catch (const boost::system::system_error&) {
      // a hang-up or a live modification: the run below sees which
    }
  }
  co_return true;
}

asio::awaitable<SessionOutcome> CallSession::run() {
  if (outbound_) {
    spdlog::info("call {} placing: {} -> {}{}{}", call_.call_sid, call_.from, call_.to,
                 call_.parent_call_sid.empty() ? "" : ", dialled by ", call_.parent_call_sid);
  } else {
    spdlog::info("call {} arrived: {} -> {} (number {}), application {} {}", call_.call_sid,
                 call_.from, call_.to, route_.number.phone_number, route_.application.method,
                 route_.application.url.empty() ? "(none)" : loggable_url(route_.application.url));
  }
  if (outbound_) {
    if (link()) save(true);  // a Dial's child: its record starts here
    if (services_.registry) {
      services_.registry->add(call_.call_sid, call_.account_sid, executor_, this);
      services_.registry->update(call_.call_sid, call_, services_.webhooks.clock.now_ms());
    }
    if (!co_await place()) {
      if (services_.registry) services_.registry->remove(call_.call_sid);
      if (services_.conferences && !outbound_->conference_sid.empty()) {
        services_.conferences->add_failed(call_.account_sid, outbound_->conference_sid,
                                          call_.call_sid, call_.status);
      }
      SessionOutcome out;
      out.status = call_.status;
      co_return out;
    }
  } else {
    save(true);
    callbacks_->notify("initiated", call_);
    callbacks_->notify("ringing", call_);
    publish("initiated");
    publish("ringing");
    if (services_.registry) {
      services_.registry->add(call_.call_sid, call_.account_sid, executor_, this);
      services_.registry->update(call_.call_sid, call_, services_.webhooks.clock.now_ms());
    }
  }

  ApplicationSource source(services_.webhooks, call_, route_.application,
                           route_.account.auth_token);
  twiml::FetchRequest first;
  first.url = route_.application.url;
  first.method = route_.application.method;
  std::optional<twiml::Document> inline_document;
  if (outbound_ && !outbound_->twiml.empty()) inline_document = twiml::parse(outbound_->twiml);
  bool end_now = false;  // ended through the API while it was being placed or listened to
  if (next_) {           // redirected while it rang: the new document is the first
    if (!next_->status.empty()) {
      end_now = true;
    } else if (!next_->twiml.empty()) {
      inline_document = twiml::parse(next_->twiml);
    } else {
      inline_document.reset();
      first.url = next_->url;
      first.method = next_->method;
    }
    next_.reset();
  }

  SessionOutcome out;
  if (end_now) {
    co_await leg_.hangup();
  }
  // A failure below leaves through the worker (which closes and drops the leg and this
  // session): an asynchronous detector still listening must be stopped before that.
  std::exception_ptr failure;
  try {
    while (!end_now) {
      // A Dial's child runs its whisper (if any), which leaves the callee up for the bridge.
      const bool whisper = link() && !whisper_done_;
      if (!whisper || !first.url.empty() || inline_document) {
        InlineFirst documents(source, std::exchange(inline_document, std::nullopt),
                              route_.application.url);
        twiml::InterpreterLimits limits;
        limits.hang_up_at_end = !whisper;
        twiml::Interpreter interpreter(*this, documents, limits);
        out.interpreter = co_await asio::co_spawn(
            executor_, interpreter.run(first),
            asio::bind_cancellation_slot(cancel_.slot(), asio::use_awaitable));
      }
      if (leg_.hung_up()) break;
      if (whisper && !next_) {
        whisper_done_ = true;
        co_await wait_in_bridge();
        if (leg_.hung_up()) break;
      }
      if (!next_) break;
      // A live modification stopped the running document.
      Modification m = std::move(*next_);
      next_.reset();
      if (DialLink* l = link(); l && !l->over() && m.status.empty()) {
        whisper_done_ = true;  // a document of its own: the child leaves the Dial
        l->move_to(DialLink::State::kLeft);
      }
      if (!m.status.empty()) {
        if (leg_.answered()) {
          co_await leg_.hangup();
        } else {
          ended_status_ = "canceled";
          co_await leg_.cancel();
        }
        break;
      }
      if (!m.twiml.empty()) {
        inline_document = twiml::parse(m.twiml);
      } else {
        first = twiml::FetchRequest{};
        first.url = m.url;
        first.method = m.method;
      }
    }
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    streams_->stop_all();
    if (services_.registry) services_.registry->remove(call_.call_sid);
    co_await stop_async_detection();
    std::rethrow_exception(failure);
  }
  streams_->stop_all();  // each sends stop and closes before the call's end is reported
  if (services_.registry) services_.registry->remove(call_.call_sid);
  if (time_limit_) time_limit_->cancel();
  co_await stop_async_detection();
  co_await finish_call_recording();

  if (!ended_status_.empty()) {
    finish(ended_status_);
  } else if (leg_.answered()) {
    finish("completed");
  } else if (leg_.hung_up()) {
    finish("canceled");  // the caller gave up before we answered
  } else {
    // Ended without a word to the caller and without a final answer: decline it now.
    co_await leg_.hangup();
    finish("no-answer");
  }
  out.status = call_.status;
  out.duration_s = record_.duration;
  co_return out;
}

asio::awaitable<void> CallSession::wait_in_bridge() {
  link()->move_to(DialLink::State::kReady);
  if (leg_.hung_up() || next_) co_return;
  Wakeup never(executor_);
  try {
    co_await asio::co_spawn(executor_, never.wait(),
                            asio::bind_cancellation_slot(cancel_.slot(), asio::use_awaitable));
  } catch (const boost::system::system_error&) {
    // the call ended, or the Dial (or the API) ended or moved it: the run sees which
  }
}

asio::awaitable<twiml::DialOutcome> CallSession::dial(const twiml::Dial& dial,
                                                      std::string document_url) {
  if (link()) {
    warn(13201, "Dial: a Dial's whisper (the url of a Number, Sip or Client) cannot Dial");
    co_return twiml::DialOutcome{};
  }
  // A <Conference> or <Queue> is the Dial's one noun (Twilio does not mix them with others).
  for (const twiml::DialTarget& target : dial.targets) {
    const bool alone = std::holds_alternative<twiml::DialConference>(target) ||
                       std::holds_alternative<twiml::DialQueue>(target);
    if (alone && dial.targets.size() > 1) {
      warn(13215,
           "Dial: <Conference> or <Queue> takes the Dial alone; the other nouns are skipped");
    }
    if (const auto* room = std::get_if<twiml::DialConference>(&target)) {
      co_return co_await run_conference(*this, dial, *room, document_url);
    }
    if (const auto* queue = std::get_if<twiml::DialQueue>(&target)) {
      co_return co_await run_dial_queue(*this, dial, *queue, document_url);
    }
  }
  DialVerb verb(*this);
  co_return co_await verb.run(dial, document_url);
}

asio::awaitable<twiml::EnqueueOutcome> CallSession::enqueue(const twiml::Enqueue& enqueue,
                                                            std::string document_url) {
  if (link() && !whisper_done_) {
    warn(12100, "<Enqueue> cannot run in a Dial's whisper; skipped");
    co_return twiml::EnqueueOutcome{};
  }
  co_return co_await run_enqueue(*this, enqueue, document_url);
}

asio::awaitable<twiml::ConnectOutcome> CallSession::connect(const twiml::Connect& connect,
                                                            std::string document_url) {
  if (link() && !whisper_done_) {
    warn(12100, "<Connect> cannot run in a Dial's whisper; skipped");
    co_return twiml::ConnectOutcome{};
  }
  if (!connect.stream) co_return twiml::ConnectOutcome{};
  co_return co_await streams_->connect(*connect.stream, std::move(document_url));
}

asio::awaitable<twiml::SpeechInput> CallSession::collect_speech(const twiml::Gather& gather,
                                                                std::string document_url) {
  co_return co_await run_speech_gather(*this, gather, std::move(document_url));
}

asio::awaitable<bool> CallSession::start(const twiml::Start& start, std::string document_url) {
  if (link() && !whisper_done_) {
    warn(12100, "<Start> cannot run in a Dial's whisper; skipped");
    co_return true;
  }
  co_await answer();
  for (const twiml::StreamNoun& noun : start.streams) {
    auto started = streams_->start(noun, document_url);
    if (!started) warn(started.error().code, "Start: " + started.error().message);
  }
  co_return !hung_up();
}

asio::awaitable<bool> CallSession::other(const twiml::Verb& verb) {
  if (const auto* stop = std::get_if<twiml::Stop>(&verb)) {
    for (const std::string& name : stop->stream_names) {
      if (!streams_->stop(name)) warn(12100, "Stop: no stream named " + name + " is running");
    }
    co_return !hung_up();
  }
  if (std::holds_alternative<twiml::Leave>(verb)) {
    // <Leave> means something only in an <Enqueue>'s waitUrl (voice/hold_audio.cpp).
    warn(12100, "<Leave> outside a queue's waitUrl does nothing; skipped");
    co_return true;
  }
  if (link() && !whisper_done_) {
    warn(12100, std::string("<") + std::string(twiml::verb_name(verb)) +
                    "> cannot run in a Dial's whisper (Play, Say, Pause, Gather, Redirect, "
                    "Hangup); skipped");
    co_return true;
  }
  co_return co_await leg_.other(verb);
}

void CallSession::warn(int code, const std::string& message, bool error) {
  spdlog::warn("call {}: {} ({})", call_.call_sid, message, code);
  store::Notification n;
  n.sid = make_sid(sid_prefix::kNotification);
  n.account_sid = call_.account_sid;
  n.call_sid = call_.call_sid;
  n.log = error ? 0 : 1;
  n.error_code = code;
  n.message_text = message;
  n.date_created = services_.webhooks.clock.now_unix();
  services_.webhooks.notifications.record(std::move(n));
}

void CallSession::publish_recording(const std::string& sid, const std::string& url,
                                    int duration_s) {
  if (!services_.events) return;
  boost::json::object data = call_event_data(call_, -1);
  // A recording that stops with the call is announced as it ends: the call is over by then.
  if (leg_.hung_up() && call_.status == "in-progress") data["status"] = "completed";
  data["recording_sid"] = sid;
  data["recording_url"] = url;
  data["recording_duration"] = duration_s;
  services_.events->publish(call_.account_sid, "calls.recordings", "recording.completed",
                            std::move(data));
}

void CallSession::remote_hangup() {
  // Requests made from now on (a Dial's or a Record's action) say the call is over.
  if (leg_.answered() && !ended_) call_.status = "completed";
  far_end_hung_up_ = true;
  leg_.remote_end();
  cancel_.emit(asio::cancellation_type::terminal);
}

void CallSession::modify(Modification m) {
  if (leg_.hung_up() || ended_) return;
  // canceled only ends a call that is not answered yet (as Twilio's API does).
  if (m.status == "canceled" && leg_.answered()) return;
  if (outbound_ && !leg_.answered() && m.status.empty()) {
    next_ = std::move(m);  // a new document for when it answers; the ringing goes on
    return;
  }
  next_ = std::move(m);
  cancel_.emit(asio::cancellation_type::terminal);
}

asio::awaitable<void> CallSession::answer() {
  if (leg_.answered() || leg_.hung_up()) co_return;
  std::exception_ptr cancelled;
  try {
    co_await leg_.answer();
  } catch (const boost::system::system_error&) {
    cancelled = std::current_exception();  // recorded first if the leg did answer
  }
  if (leg_.answered()) record_answered();
  if (cancelled) std::rethrow_exception(cancelled);
}

void CallSession::record_answered() {
  call_.status = "in-progress";
  record_.start_time = services_.webhooks.clock.now_unix();
  save(false);
  callbacks_->notify("answered", call_);
  publish("answered");
}

asio::awaitable<twiml::RecordingOutcome> CallSession::record(const twiml::Record& record,
                                                             std::string document_url) {
  if (link() && !whisper_done_) {
    warn(12100, "<Record> cannot run in a Dial's whisper; skipped");
    co_return twiml::RecordingOutcome{};
  }
  twiml::RecordingOutcome out = co_await leg_.record(record, document_url);
  if (out.recording_sid.empty()) co_return out;
  publish_recording(out.recording_sid, out.recording_url, out.duration_s);
  const auto& events = record.recording_status_callback_event;
  const bool wants_completed = std::find(events.begin(), events.end(), "completed") != events.end();
  if (record.recording_status_callback.empty() || !wants_completed) co_return out;
  send_callback("recordingStatusCallback",
                resolve_url(document_url, record.recording_status_callback),
                record.recording_status_callback_method,
                {{"AccountSid", call_.account_sid},
                 {"CallSid", call_.call_sid},
                 {"RecordingSid", out.recording_sid},
                 {"RecordingUrl", out.recording_url},
                 {"RecordingStatus", "completed"},
                 {"RecordingDuration", std::to_string(out.duration_s)},
                 {"RecordingChannels", "1"},
                 {"RecordingStartTime", rfc2822(out.start_time)},  // as the leg saw it begin
                 {"RecordingSource", "RecordVerb"},
                 {"ErrorCode", "0"}});
  co_return out;
}

asio::awaitable<std::optional<media::MachineVerdict>> CallSession::listen_for_machine(
    asio::cancellation_signal& stop) {
  try {
    co_return co_await asio::co_spawn(
        executor_, leg_.detect_machine(outbound_->machine_detection.options),
        asio::bind_cancellation_slot(stop.slot(), asio::use_awaitable));
  } catch (const boost::system::system_error&) {
    co_return std::nullopt;  // a hang-up or a live modification: the run sees which
  }
}

asio::awaitable<void> CallSession::detect_machine() {
  if (auto verdict = co_await listen_for_machine(cancel_)) take_verdict(*verdict);
}

void CallSession::start_async_detection() {
  amd_running_ = true;
  asio::co_spawn(
      executor_,
      [this]() -> asio::awaitable<void> {
        auto verdict = co_await listen_for_machine(amd_cancel_);
        if (verdict && !ended_) {
          take_verdict(*verdict);
          const MachineDetectionPlan& plan = outbound_->machine_detection;
          send_callback("AsyncAmdStatusCallback", plan.callback, plan.callback_method,
                        {{"AccountSid", call_.account_sid},
                         {"CallSid", call_.call_sid},
                         {"AnsweredBy", call_.answered_by},
                         {"MachineDetectionDuration", std::to_string(verdict->after_ms)}});
        }
        amd_running_ = false;
        amd_done_.notify();
      },
      asio::detached);
}

asio::awaitable<void> CallSession::stop_async_detection() {
  if (!amd_running_) co_return;
  amd_cancel_.emit(asio::cancellation_type::terminal);
  while (amd_running_) {
    co_await amd_done_.wait();
  }
}

void CallSession::take_verdict(const media::MachineVerdict& verdict) {
  call_.answered_by = std::string(media::answered_by_name(verdict.answered_by));
  record_.answered_by = call_.answered_by;
  save(false);
  spdlog::info("call {}: answered by {} (after {} ms)", call_.call_sid, call_.answered_by,
               verdict.after_ms);
  if (services_.events) {
    boost::json::object data = call_event_data(call_, -1);
    data["machine_detection_duration"] = verdict.after_ms;
    services_.events->publish(call_.account_sid, "calls.machine-detection", "call.machine_detected",
                              std::move(data));
  }
}

asio::awaitable<void> CallSession::finish_call_recording() {
  if (!call_recording_) co_return;
  call_recording_ = false;
  auto done = co_await leg_.stop_call_recording();
  if (!done) co_return;
  const CallRecordingPlan& plan = outbound_->recording;
  announce_call_recording(*done, "OutboundAPI", plan.callback, plan.callback_method,
                          plan.callback_events);
}

void CallSession::announce_call_recording(const CallLeg::CallRecording& done, const char* source,
                                          const std::string& url, const std::string& method,
                                          const std::vector<std::string>& events) {
  publish_recording(done.sid, done.url, done.duration_s);
  if (url.empty() || std::find(events.begin(), events.end(), "completed") == events.end()) return;
  send_callback("recordingStatusCallback", url, method,
                {{"AccountSid", call_.account_sid},
                 {"CallSid", call_.call_sid},
                 {"RecordingSid", done.sid},
                 {"RecordingUrl", done.url},
                 {"RecordingStatus", "completed"},
                 {"RecordingDuration", std::to_string(done.duration_s)},
                 {"RecordingChannels", std::to_string(done.channels)},
                 {"RecordingStartTime", rfc2822(done.start_time)},
                 {"RecordingSource", source},
                 {"RecordingTrack", "both"},
                 {"ErrorCode", "0"}});
}

void CallSession::send_callback(const char* name, const std::string& url, const std::string& method,
                                twiml::Params params) {
  WebhookRequest hook;
  hook.url = url;
  hook.method = method;
  hook.auth_token = route_.account.auth_token;
  hook.params = std::move(params);
  if (hook.url.empty()) return;
  // In parallel with the call, like the status callbacks.
  asio::co_spawn(
      executor_,
      [client = &services_.webhooks.client, request = build_webhook_request(hook, nullptr),
       name]() -> asio::awaitable<void> {
        auto sent = co_await client->fetch(request);
        if (!sent || sent->status >= 400) {
          spdlog::warn("{} {} failed: {}", name, request.url,
                       sent ? std::to_string(sent->status) : sent.error().message);
        }
      },
      asio::detached);
}

asio::awaitable<void> CallSession::hangup() {
  if (leg_.hung_up()) co_return;
  // Never picked up (e.g. <Response><Hangup/></Response>): the leg declines instead of a BYE.
  if (!leg_.answered()) ended_status_ = "no-answer";
  co_await leg_.hangup();
}

asio::awaitable<void> CallSession::reject(const std::string& reason) {
  if (leg_.hung_up()) co_return;
  ended_status_ = reason == "busy" ? "busy" : "no-answer";
  co_await leg_.reject(reason);
}

}  // namespace sb::voice
