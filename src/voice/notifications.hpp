// Where webhook and TwiML errors go: the debugger log (Twilio's Notifications resource).
#pragma once

#include "store/store.hpp"

namespace sb::voice {

class NotificationSink {
 public:
  virtual ~NotificationSink() = default;
  // Never blocks the caller.
  virtual void record(store::Notification notification) = 0;
};

// Writes each notification to the store (queued to its writer).
class StoreNotificationSink final : public NotificationSink {
 public:
  explicit StoreNotificationSink(store::Store& store) : store_(store) {}
  void record(store::Notification notification) override;

 private:
  store::Store& store_;
};

}  // namespace sb::voice
