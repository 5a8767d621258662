#include "voice/notifications.hpp"

#include "core/log.hpp"

namespace sb::voice {

void StoreNotificationSink::record(store::Notification notification) {
  const int code = notification.error_code;
  store_.write(store::InsertNotification{std::move(notification)}, [code](Status s) {
    if (!s) spdlog::error("notification {} not stored: {}", code, s.error().message);
  });
}

}  // namespace sb::voice
