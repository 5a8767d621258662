// Status callbacks: each selected call-progress event (initiated, ringing, answered, completed)
// is POSTed (or GET) to the application's StatusCallback with CallStatus, CallDuration,
// Timestamp, CallbackSource and a SequenceNumber, in parallel with the call and never blocking
// it. Per call they are sent one at a time, in order; retries follow the URL's #rc/#rp.
// A 4xx/5xx answer is recorded as warning 15003.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <deque>
#include <memory>

#include "voice/application_source.hpp"

namespace sb::voice {

struct StatusEvent {
  std::string event;  // initiated, ringing, answered, completed
  twiml::Params params;
};

class StatusCallbacks : public std::enable_shared_from_this<StatusCallbacks> {
 public:
  // The services must outlive every callback in flight (they are per worker).
  static std::shared_ptr<StatusCallbacks> create(asio::any_io_executor executor,
                                                 WebhookServices services, std::string auth_token,
                                                 std::string url, std::string method,
                                                 std::set<std::string> events);

  // Queues `event` when it is selected; returns at once. `call` is copied as it is now, with
  // the event's CallStatus (initiated, ringing, in-progress; completed: the call's final one).
  // `duration_s` is sent as CallDuration on completed, `sip_response_code` (when not 0) as
  // SipResponseCode.
  void notify(const std::string& event, const CallInfo& call, int duration_s = -1,
              int sip_response_code = 0);

  // A callback that is not a call's progress (a conference's StatusCallbackEvent): sent when
  // `family` (start, join, mute, ...) is among the selected events, with `params` as given plus
  // SequenceNumber and Timestamp. Same order and failure handling as notify.
  void send_event(const std::string& family, twiml::Params params);

  // Callbacks queued or in flight.
  std::size_t pending() const { return queue_.size() + (sending_ ? 1 : 0); }
  int sequence() const { return sequence_; }

  static constexpr int kStatusCallbackWarning = 15003;

 private:
  StatusCallbacks(asio::any_io_executor executor, WebhookServices services, std::string auth_token,
                  std::string url, std::string method, std::set<std::string> events);
  void enqueue(StatusEvent e);
  static asio::awaitable<void> drain(std::shared_ptr<StatusCallbacks> self);

  asio::any_io_executor executor_;
  WebhookServices services_;
  std::string auth_token_;
  std::string url_;
  std::string method_;
  std::set<std::string> events_;
  std::deque<StatusEvent> queue_;
  bool sending_ = false;
  int sequence_ = 0;
};

}  // namespace sb::voice
