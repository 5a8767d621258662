// The channel registry: every channel and subscriber in memory (the pipeline and the
// dispatcher look them up on each event) and in events.db. Reads from any thread under its own
// lock; changes are committed to events.db before they become visible.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/time.hpp"
#include "events/attributes.hpp"
#include "events/event_store.hpp"
#include "events/pipeline.hpp"

namespace sb::events {

struct Subscriber {
  std::string sid;  // SB…
  std::string account_sid;
  std::string channel_sid;
  std::string type;  // "webhook" or "stream"
  std::string url;
  std::string secret;
  std::string previous_secret;
  std::int64_t previous_expires_ms = 0;
  SubscriberAttributes attributes;
  std::string status = "active";  // or "disabled"
  std::string status_reason;
  std::int64_t last_success_ms = 0;
  std::int64_t date_created = 0;
  std::int64_t date_updated = 0;
};
using SubscriberPtr = std::shared_ptr<const Subscriber>;

struct SubscriberUpdate {
  std::optional<std::string> url;
  std::optional<std::string> secret;  // rotates: the old one keeps signing for the overlap
  std::optional<json::value> attributes;
  std::optional<std::string> status;  // "active" re-enables, "disabled"
};

class ChannelRegistry final : public ChannelDirectory {
 public:
  // `rotation_overlap_ms`: how long a rotated-out secret still signs.
  ChannelRegistry(EventStore& store, const Clock& clock, std::int64_t rotation_overlap_ms);
  // Reads every channel and subscriber (once, before use).
  Status load(Db& db);

  // ---- channels ----
  asio::awaitable<Result<ChannelPtr>> create_channel(std::string account_sid, std::string name,
                                                     json::value attributes);
  asio::awaitable<Result<ChannelPtr>> update_channel(ChannelPtr channel,
                                                     std::optional<json::value> attributes);
  // With its subscribers and history; its pending webhook deliveries are cancelled.
  asio::awaitable<Status> delete_channel(ChannelPtr channel);
  ChannelPtr find_channel(std::string_view account_sid, std::string_view name) const override;
  // A CH… SID or a unique name.
  ChannelPtr resolve_channel(std::string_view account_sid, std::string_view ref) const;
  ChannelPtr channel_by_sid(std::string_view sid) const;  // any account
  std::vector<ChannelPtr> list_channels(std::string_view account_sid) const;

  // ---- subscribers ----
  asio::awaitable<Result<SubscriberPtr>> create_subscriber(ChannelPtr channel, std::string type,
                                                           std::string url, std::string secret,
                                                           json::value attributes);
  asio::awaitable<Result<SubscriberPtr>> update_subscriber(SubscriberPtr sub, SubscriberUpdate u);
  // Its pending webhook deliveries are cancelled.
  asio::awaitable<Status> delete_subscriber(SubscriberPtr sub);
  SubscriberPtr find_subscriber(std::string_view account_sid, std::string_view sid) const;
  SubscriberPtr subscriber(std::string_view sid) const;  // any account
  std::vector<SubscriberPtr> list_subscribers(std::string_view channel_sid) const;
  // Calls `f(const SubscriberPtr&)` for each webhook subscriber of the channel, under the
  // registry's read lock (so `f` must not call back into the registry).
  template <typename F>
  void for_each_webhook(const std::string& channel_sid, F&& f) const;

  // ---- what deliveries change (the dispatcher) ----
  // A delivery reached subscriber `sid` at `now_ms` (persisted by the caller's own write). Only
  // the time changes: the entry as it is now, not as the delivery saw it, so an update made
  // while the request was in flight stays.
  void record_success(std::string_view sid, std::int64_t now_ms);
  // Disables an active subscriber and persists it; returns it, or null when it was not active.
  SubscriberPtr disable(std::string_view sid, std::string reason);

 private:
  void put_channel(const ChannelPtr& c);           // under mu_
  void put_subscriber(const SubscriberPtr& s);     // under mu_
  void remove_subscriber(const SubscriberPtr& s);  // under mu_

  EventStore& store_;
  const Clock& clock_;
  const std::int64_t rotation_overlap_ms_;
  mutable std::shared_mutex mu_;
  std::map<std::pair<std::string, std::string>, ChannelPtr> channels_;  // (account, name)
  std::unordered_map<std::string, ChannelPtr> channels_by_sid_;
  std::unordered_map<std::string, SubscriberPtr> subscribers_;
  std::unordered_map<std::string, std::vector<SubscriberPtr>> webhooks_by_channel_;
};

template <typename F>
void ChannelRegistry::for_each_webhook(const std::string& channel_sid, F&& f) const {
  std::shared_lock lock(mu_);
  auto it = webhooks_by_channel_.find(channel_sid);
  if (it == webhooks_by_channel_.end()) return;
  for (const auto& s : it->second) f(s);
}

}  // namespace sb::events
