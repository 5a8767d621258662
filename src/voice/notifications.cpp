#include "voice/notifications.hpp"

#include "core/log.hpp"

namespace sb::voice {

void StoreNotificationSink::record(store::Notification notification) {
  const int code = notification.error_code;
  if (events_) {
    events_->publish(notification.account_sid, "calls.errors",
                     notification.log == 0 ? "call.error" : "call.warning",
                     notification_event_data(notification));
  }
  store_.write(store::InsertNotification{std::move(notification)}, [code](Status s) {
    if (!s) spdlog::error("notification {} not stored: {}", code, s.error().message);
  });
}

}  // namespace sb::voice
