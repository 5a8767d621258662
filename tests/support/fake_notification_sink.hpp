// FakeNotificationSink: the voice::NotificationSink (Twilio's debugger log) a test reads back:
// keeps every notification recorded, in order. Thread-safe.
#pragma once

#include <mutex>
#include <vector>

#include "voice/notifications.hpp"

namespace sb::testing {

class FakeNotificationSink final : public voice::NotificationSink {
 public:
  void record(store::Notification notification) override {
    std::lock_guard lock(mu_);
    notes_.push_back(std::move(notification));
  }
  std::vector<store::Notification> notes() const {
    std::lock_guard lock(mu_);
    return notes_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<store::Notification> notes_;
};

}  // namespace sb::testing
