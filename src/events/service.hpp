// The event router service: the in-memory registry of channels and subscribers (persisted in
// events.db), publishing through the channel pipeline, the durable webhook outbox and its
// dispatcher, live stream fan-out, history, replay and access tokens. It runs its own
// io_context thread ("events") where the pipeline, delegates and webhook deliveries execute;
// everything public is safe to call from any worker thread.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/time.hpp"
#include "events/attributes.hpp"
#include "events/delivery_policy.hpp"
#include "events/event.hpp"
#include "events/event_store.hpp"
#include "events/pipeline.hpp"
#include "events/stream_queue.hpp"
#include "http/client.hpp"

namespace sb::events {

struct ServiceOptions {
  std::vector<std::int64_t> retry_schedule_ms = default_retry_schedule();
  std::size_t max_in_flight = 64;                 // webhook requests at once
  std::int64_t rotation_overlap_ms = 86'400'000;  // old secret still signs this long
  std::size_t max_system_backlog = 10'000;        // publish_system calls waiting, beyond: dropped
  bool verify_tls = true;
};

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

struct AccessToken {
  std::string account_sid;
  std::vector<std::string> channels;  // names; "*" suffix globs as for types
  bool publish = false;
  bool subscribe = false;
  std::int64_t expires_s = 0;
  bool allows(std::string_view channel) const;
};

struct HistoryPage {
  std::vector<StreamItem> items;
  bool gap = false;  // the id resumed from is no longer (or never was) in history
  bool has_more = false;
};

class EventService final : public ChannelDirectory {
 public:
  static Result<std::unique_ptr<EventService>> open(const std::string& db_path,
                                                    ServiceOptions options, const Clock& clock);
  // For tests: a delegate/webhook HTTP client of the caller's (used on the events thread).
  void use_http_client(std::unique_ptr<http::HttpClient> client);
  ~EventService() override;

  void start();  // loads pending webhooks, starts the events thread
  void stop();   // stops dispatching, joins the thread, commits and closes events.db
  // Any thread: ends every live stream (WebSocket clients get close 1001, going away); the
  // daemon calls it first when it drains, so clients learn to reconnect elsewhere.
  void close_streams();
  asio::any_io_executor executor() { return io_.get_executor(); }

  // ---- channels ----
  asio::awaitable<Result<ChannelPtr>> create_channel(std::string account_sid, std::string name,
                                                     json::value attributes);
  asio::awaitable<Result<ChannelPtr>> update_channel(ChannelPtr channel,
                                                     std::optional<json::value> attributes);
  asio::awaitable<Status> delete_channel(ChannelPtr channel);
  ChannelPtr find_channel(std::string_view account_sid, std::string_view name) const override;
  // A CH… SID or a unique name.
  ChannelPtr resolve_channel(std::string_view account_sid, std::string_view ref) const;
  std::vector<ChannelPtr> list_channels(std::string_view account_sid) const;

  // ---- subscribers ----
  asio::awaitable<Result<SubscriberPtr>> create_subscriber(ChannelPtr channel, std::string type,
                                                           std::string url, std::string secret,
                                                           json::value attributes);
  struct SubscriberUpdate {
    std::optional<std::string> url;
    std::optional<std::string> secret;  // rotates: the old one keeps signing for the overlap
    std::optional<json::value> attributes;
    std::optional<std::string> status;  // "active" re-enables, "disabled"
  };
  asio::awaitable<Result<SubscriberPtr>> update_subscriber(SubscriberPtr sub, SubscriberUpdate u);
  asio::awaitable<Status> delete_subscriber(SubscriberPtr sub);
  SubscriberPtr find_subscriber(std::string_view account_sid, std::string_view sid) const;
  std::vector<SubscriberPtr> list_subscribers(std::string_view channel_sid) const;

  // ---- publishing ----
  // Publishes `bodies` on `channel` as `publisher_kind` ("account", "token", "system").
  // Completes once every history and outbox row is committed. With an idempotency key a repeat
  // returns the first response (replayed = true). The response is the API's JSON.
  struct Published {
    json::value response;
    bool replayed = false;
  };
  asio::awaitable<Result<Published>> publish(ChannelPtr channel, std::string publisher_kind,
                                             std::vector<Body> bodies,
                                             std::optional<std::string> idempotency_key,
                                             bool batch);
  // The call router's hook: fire-and-forget from any thread, never blocks; creates the channel
  // with default attributes when it does not exist.
  void publish_system(std::string account_sid, std::string channel, std::string type,
                      json::value data);

  // ---- history and streams ----
  Result<HistoryPage> history(const Channel& channel, std::optional<std::string> after_event_sid,
                              std::size_t limit);
  std::shared_ptr<StreamQueue> open_stream(const Channel& channel, const Subscriber* subscriber,
                                           asio::any_io_executor executor);
  void close_stream(const std::string& channel_sid, const std::shared_ptr<StreamQueue>& q);
  RateLimit stream_rate_limit(const Channel& channel, const Subscriber* subscriber) const;

  // ---- deliveries, replay ----
  Result<json::array> deliveries(const Subscriber& sub, std::size_t limit);
  // Re-queues the channel's events with time in [from_ms, to_ms] for `sub`; returns how many.
  asio::awaitable<Result<std::int64_t>> replay(SubscriberPtr sub, std::int64_t from_ms,
                                               std::int64_t to_ms);

  // ---- tokens ----
  std::string issue_token(const AccessToken& token) const;
  std::optional<AccessToken> verify_token(std::string_view token) const;

  const Clock& clock() const { return clock_; }
  // Re-evaluates due webhook deliveries now (after a test clock moved); any thread.
  void kick();
  // Blocks until every events.db write queued so far is committed (tests, tools).
  void flush_store() { store_->flush(); }
  std::size_t pending_webhooks() const { return pending_count_.load(); }

  struct OutboxItem {
    std::int64_t id = 0;
    std::string target_sid;  // SB… or, for a channel's webhook attribute, its CH…
    std::string channel_sid;
    std::string url;
    std::string event_sid;
    std::shared_ptr<const std::string> body;
    int attempts = 0;
    std::int64_t next_ms = 0;
    std::int64_t created_ms = 0;
  };

 private:
  EventService(std::unique_ptr<EventStore> store, ServiceOptions options, const Clock& clock);
  Status load();
  asio::awaitable<Status> commit(EventStore::Job job);
  asio::awaitable<Result<Published>> publish_on_events(ChannelPtr channel, std::string kind,
                                                       std::vector<Body> bodies,
                                                       std::optional<std::string> key, bool batch);
  asio::awaitable<void> system_publish(std::string account_sid, std::string channel,
                                       std::string type, json::value data);
  asio::awaitable<void> dispatch_loop();
  asio::awaitable<void> deliver(OutboxItem item);
  void enqueue(std::vector<OutboxItem> items);  // events thread
  // Writer thread, after a commit: hands the committed events (channel sid, item) to the live
  // streams of those channels, one job per executor the streams run on.
  void fan_out(const std::vector<std::pair<std::string, StreamItemPtr>>& committed);
  bool has_streams(const std::string& channel_sid);  // any thread
  void disable_target(const std::string& target_sid, std::string reason);
  const std::vector<std::int64_t>& schedule_for(const Subscriber* sub) const;

  std::unique_ptr<EventStore> store_;
  ServiceOptions options_;
  const Clock& clock_;
  std::string token_key_;

  asio::io_context io_{1};
  std::thread thread_;
  std::unique_ptr<http::HttpClient> client_;
  std::unique_ptr<DelegateInvoker> delegates_;

  mutable std::shared_mutex mu_;
  std::map<std::pair<std::string, std::string>, ChannelPtr> channels_;  // (account, name)
  std::unordered_map<std::string, ChannelPtr> channels_by_sid_;
  std::unordered_map<std::string, SubscriberPtr> subscribers_;
  std::unordered_map<std::string, std::vector<SubscriberPtr>> webhooks_by_channel_;
  // Per worker executor: the queues that received events since the worker's last flush. Jobs
  // run on that executor; the flush is one posted handler, so jobs that queue up behind it
  // (a busy worker) are merged into one write per connection.
  struct WorkerFanout {
    asio::any_io_executor executor;
    std::size_t streams = 0;                          // open on this executor (under streams_mu_)
    std::vector<std::shared_ptr<StreamQueue>> dirty;  // executor only
    bool flush_pending = false;                       // executor only
  };
  std::mutex streams_mu_;
  bool streams_closed_ = false;  // under streams_mu_: close_streams() was called
  // Under streams_mu_; an entry lives while a stream is open on its executor (and while a job
  // still holds it), so an executor that goes away leaves nothing behind.
  std::vector<std::shared_ptr<WorkerFanout>> fanouts_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<StreamQueue>>> streams_;

  // Events thread only.
  std::multimap<std::int64_t, OutboxItem> due_;
  std::unordered_map<std::string, TokenBucket> buckets_;
  std::set<std::pair<std::string, std::string>> idempotency_in_flight_;
  std::size_t in_flight_ = 0;
  std::unique_ptr<asio::steady_timer> wake_;
  bool stopping_ = false;
  std::atomic<std::size_t> pending_count_{0};
  std::atomic<std::size_t> system_backlog_{0};
  std::atomic<bool> started_{false};
};

// The delegate seam's real implementation: a CloudEvents POST through the HTTP client.
class HttpDelegateInvoker final : public DelegateInvoker {
 public:
  explicit HttpDelegateInvoker(http::HttpClient& client) : client_(client) {}
  asio::awaitable<DelegateReply> call(const Delegate& delegate, json::object cloudevent) override;

 private:
  http::HttpClient& client_;
};

}  // namespace sb::events
