// FakeCallEventSink: the voice::CallEventSink (the call router's side of the event router) a
// test reads back: keeps every event published, in order. Thread-safe.
#pragma once

#include <boost/json.hpp>
#include <mutex>
#include <string>
#include <vector>

#include "voice/call_events.hpp"

namespace sb::testing {

struct PublishedCallEvent {
  std::string account_sid;
  std::string channel;
  std::string type;
  boost::json::value data;
};

class FakeCallEventSink final : public voice::CallEventSink {
 public:
  void publish(std::string account_sid, std::string channel, std::string type,
               boost::json::value data) override {
    std::lock_guard lock(mu_);
    events_.push_back(
        {std::move(account_sid), std::move(channel), std::move(type), std::move(data)});
  }
  std::vector<PublishedCallEvent> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  // Each event as "channel type status" (the call's status in its data, "" if none).
  std::vector<std::string> seen() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& e : events_) {
      const auto* object = e.data.if_object();
      const auto* status = object ? object->if_contains("status") : nullptr;
      out.push_back(e.channel + " " + e.type + " " +
                    (status && status->is_string() ? std::string(status->as_string()) : ""));
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<PublishedCallEvent> events_;
};

}  // namespace sb::testing
