#include "voice/status_callbacks.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "core/log.hpp"
#include "core/sid.hpp"
#include "voice/webhook.hpp"

namespace sb::voice {
namespace {

// The CallStatus a callback reports is its event's (Twilio sends "initiated" for initiated and
// "in-progress" for answered, whatever the call's webhooks say meanwhile); completed reports
// how the call ended (completed, busy, no-answer, failed, canceled).
std::string status_of(const std::string& event, const CallInfo& call) {
  if (event == "initiated" || event == "ringing") return event;
  if (event == "answered") return "in-progress";
  return call.status;
}

}  // namespace

std::shared_ptr<StatusCallbacks> StatusCallbacks::create(asio::any_io_executor executor,
                                                         WebhookServices services,
                                                         std::string auth_token, std::string url,
                                                         std::string method,
                                                         std::set<std::string> events) {
  return std::shared_ptr<StatusCallbacks>(
      new StatusCallbacks(std::move(executor), services, std::move(auth_token), std::move(url),
                          std::move(method), std::move(events)));
}

StatusCallbacks::StatusCallbacks(asio::any_io_executor executor, WebhookServices services,
                                 std::string auth_token, std::string url, std::string method,
                                 std::set<std::string> events)
    : executor_(std::move(executor)),
      services_(services),
      auth_token_(std::move(auth_token)),
      url_(std::move(url)),
      method_(std::move(method)),
      events_(std::move(events)) {}

void StatusCallbacks::notify(const std::string& event, const CallInfo& call, int duration_s,
                             int sip_response_code) {
  if (url_.empty() || !events_.contains(event)) return;
  StatusEvent e;
  e.event = event;
  CallInfo reported = call;
  reported.status = status_of(event, call);
  e.params = call_params(reported);
  e.params.emplace_back("CallbackSource", "call-progress-events");
  e.params.emplace_back("Timestamp", rfc2822(services_.clock.now_unix()));
  e.params.emplace_back("SequenceNumber", std::to_string(sequence_++));
  if (duration_s >= 0) {
    e.params.emplace_back("CallDuration", std::to_string(duration_s));
    e.params.emplace_back("Duration", std::to_string((duration_s + 59) / 60));  // minutes
  }
  if (sip_response_code != 0) {
    e.params.emplace_back("SipResponseCode", std::to_string(sip_response_code));
  }
  enqueue(std::move(e));
}

void StatusCallbacks::send_event(const std::string& family, twiml::Params params) {
  if (url_.empty() || !events_.contains(family)) return;
  StatusEvent e;
  e.event = family;
  e.params = std::move(params);
  e.params.emplace_back("Timestamp", rfc2822(services_.clock.now_unix()));
  e.params.emplace_back("SequenceNumber", std::to_string(sequence_++));
  enqueue(std::move(e));
}

void StatusCallbacks::enqueue(StatusEvent e) {
  queue_.push_back(std::move(e));
  if (!sending_) {
    sending_ = true;
    asio::co_spawn(executor_, drain(shared_from_this()), asio::detached);
  }
}

asio::awaitable<void> StatusCallbacks::drain(std::shared_ptr<StatusCallbacks> self) {
  while (!self->queue_.empty()) {
    StatusEvent e = std::move(self->queue_.front());
    self->queue_.pop_front();
    WebhookRequest hook;
    hook.url = self->url_;
    hook.method = self->method_;
    hook.params = std::move(e.params);
    hook.auth_token = self->auth_token_;
    hook.accept = "*/*";
    http::ClientRequest req = build_webhook_request(hook, nullptr);
    // Cancelled only when the client goes away (shutdown): operation_aborted ends the drain.
    const std::int64_t started_ms = self->services_.clock.now_ms();
    Result<http::ClientResponse> got = co_await self->services_.client.fetch(std::move(req));
    const bool failed = !got || got->status >= 400;
    {
      std::string account_sid, call_sid;
      for (const auto& [k, v] : hook.params) {
        if (k == "AccountSid") account_sid = v;
        if (k == "CallSid") call_sid = v;
      }
      self->services_.notifications.exchange(exchange_event(Exchange{
          .account_sid = std::move(account_sid),
          .call_sid = std::move(call_sid),
          .type = "status_callback",
          .method = hook.method,
          .url = hook.url,
          .params = hook.params,
          .response = got ? &*got : nullptr,
          .error_code = got ? (got->status >= 400 ? kStatusCallbackWarning : 0) : got.error().code,
          .error_message = got ? std::string() : got.error().message,
          .started_ms = started_ms,
          .ended_ms = self->services_.clock.now_ms(),
      }));
    }
    if (failed) {
      store::Notification n;
      n.sid = make_sid(sid_prefix::kNotification);
      for (const auto& [k, v] : hook.params) {
        if (k == "AccountSid") n.account_sid = v;
        if (k == "CallSid") n.call_sid = v;
      }
      n.log = 1;
      n.error_code = kStatusCallbackWarning;
      n.message_text = got ? "Status callback answered HTTP " + std::to_string(got->status)
                           : "Status callback failed: " + got.error().message;
      n.request_method = hook.method;
      n.request_url = hook.url;
      n.request_variables = encode_params(hook.params);
      if (got) n.response_body = got->body.substr(0, 4096);
      n.date_created = self->services_.clock.now_unix();
      spdlog::info("status callback {} for {}: {}", e.event, n.call_sid, n.message_text);
      self->services_.notifications.record(std::move(n));
    }
  }
  self->sending_ = false;
}

}  // namespace sb::voice
