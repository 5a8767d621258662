// Where webhook and TwiML errors go: the debugger log (Twilio's Notifications resource).
#pragma once

#include "store/store.hpp"
#include "voice/call_events.hpp"

namespace sb::voice {

class NotificationSink {
 public:
  virtual ~NotificationSink() = default;
  // Never blocks the caller.
  virtual void record(store::Notification notification) = 0;
};

// Writes each notification to the store (queued to its writer) and, when given an event sink,
// publishes it on the account's calls.errors channel.
class StoreNotificationSink final : public NotificationSink {
 public:
  explicit StoreNotificationSink(store::Store& store, CallEventSink* events = nullptr)
      : store_(store), events_(events) {}
  void record(store::Notification notification) override;

 private:
  store::Store& store_;
  CallEventSink* events_;
};

}  // namespace sb::voice
