// Where webhook and TwiML errors go: the debugger log (Twilio's Notifications resource); and
// every HTTP exchange with a call's application (the Call Events resource).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "store/store.hpp"
#include "voice/call_events.hpp"

namespace sb::voice {

// Counts of the exchanges with calls' applications, for metrics and the console's charts: how
// many, how many failed (no answer, HTTP 4xx/5xx, a bad document), and how long they took, in
// buckets. Updated from any worker.
struct WebhookFigures {
  static constexpr std::array<std::int64_t, 13> kBucketsMs = {1,   2,   5,    10,   20,   50,   100,
                                                              200, 500, 1000, 2000, 5000, 10000};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> duration_ms_sum{0};
  // Exchanges that took at most kBucketsMs[i] (not cumulative); the last counts the rest.
  std::array<std::atomic<std::uint64_t>, kBucketsMs.size() + 1> buckets{};

  void add(int duration_ms, bool failed);
};

class NotificationSink {
 public:
  virtual ~NotificationSink() = default;
  // Never blocks the caller.
  virtual void record(store::Notification notification) = 0;
  // One request to the call's application and its answer. Never blocks; dropped by default.
  virtual void exchange(store::CallEvent event) { (void)event; }
};

// Writes each notification to the store (queued to its writer) and, when given an event sink,
// publishes it on the account's calls.errors channel.
class StoreNotificationSink final : public NotificationSink {
 public:
  explicit StoreNotificationSink(store::Store& store, CallEventSink* events = nullptr)
      : store_(store), events_(events) {}
  const WebhookFigures& figures() const { return figures_; }
  void record(store::Notification notification) override;
  void exchange(store::CallEvent event) override;

 private:
  store::Store& store_;
  CallEventSink* events_;
  WebhookFigures figures_;
};

}  // namespace sb::voice
