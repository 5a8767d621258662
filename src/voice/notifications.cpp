#include "voice/notifications.hpp"

#include <algorithm>

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

void WebhookFigures::add(int duration_ms, bool failed) {
  requests.fetch_add(1, std::memory_order_relaxed);
  if (failed) errors.fetch_add(1, std::memory_order_relaxed);
  duration_ms_sum.fetch_add(static_cast<std::uint64_t>(std::max(0, duration_ms)),
                            std::memory_order_relaxed);
  std::size_t i = 0;
  while (i < kBucketsMs.size() && duration_ms > kBucketsMs[i]) ++i;
  buckets[i].fetch_add(1, std::memory_order_relaxed);
}

void StoreNotificationSink::exchange(store::CallEvent event) {
  if (event.call_sid.empty()) return;  // a message's exchanges belong to no call
  figures_.add(event.duration_ms, event.error_code != 0);
  store_.write(store::InsertCallEvent{std::move(event)}, [](Status s) {
    if (!s) spdlog::error("call event not stored: {}", s.error().message);
  });
}

}  // namespace sb::voice
